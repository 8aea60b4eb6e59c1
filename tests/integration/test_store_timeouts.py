"""A Redis that stops answering (SIGSTOP) times a window-store call out as a whole.

The client's replies have no timeout of their own (one timer per reply cost as much
of the worker's CPU as parsing them: docs/performance.md, "Hot path, part 7"); every
store call is bounded instead (``RedisSettings.call_timeout_s``). A paused server must
still end each kind of call, a pipeline and a key scan, in a retriable "timeout", and
the first call after the server resumes must succeed on a fresh connection: the
interrupted one's late replies must not be read as its answers.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from streams.errors import StoreUnavailable
from streams.settings import RedisSettings, Secret
from streams.store import WindowStore
from tests.integration.test_store_offsets import paid
from tests.servers import RestartableValkey

pytestmark = pytest.mark.integration

T = TypeVar("T")
CALL_TIMEOUT_S = 0.5
HANG_GUARD_S = 60.0  # not a figure under test: a call that never ends fails the test


async def _paused(valkey: RestartableValkey, call: Callable[[], Awaitable[T]]) -> StoreUnavailable:
    """What ``call`` raises while the server is paused (it is resumed after)."""
    assert valkey.process is not None
    valkey.process.send_signal(signal.SIGSTOP)
    try:
        with pytest.raises(StoreUnavailable) as caught:
            await asyncio.wait_for(call(), HANG_GUARD_S)
    finally:
        valkey.process.send_signal(signal.SIGCONT)
    return caught.value


def test_a_paused_redis_times_calls_out_and_the_next_call_after_it_succeeds(
    tmp_path: Path,
) -> None:
    valkey = RestartableValkey(tmp_path).start()
    settings = RedisSettings(
        url=Secret(valkey.url), key_prefix="timeouts", call_timeout_s=CALL_TIMEOUT_S
    )

    async def run() -> tuple[list[str], int, int, int]:
        store = await WindowStore.connect(settings)
        try:
            first = await store.apply([paid("e1", 0)])
            kinds = [
                (await _paused(valkey, lambda: store.apply([paid("e2", 1)]))).kind,
                (await _paused(valkey, store.build_index)).kind,
            ]
            after = await store.apply([paid("e2", 1), paid("e3", 2)])
            paid_now = (await store.read("shop", "s1", after.as_of_day)).windows.total("paid", 7)
            return kinds, first.applied, after.applied + after.skipped, paid_now
        finally:
            await store.close()

    try:
        kinds, first, after, paid_now = asyncio.run(run())
    finally:
        valkey.stop()
    assert kinds == ["timeout", "timeout"]
    assert first == 3  # the shop's, the product's and the category's contributions
    assert after == 6  # both events answered (e2 may have been applied by the cut call)
    assert paid_now == 3  # e1, e2, e3: once each
