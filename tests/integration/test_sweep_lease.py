"""Two day-close sweepers, a lease shorter than a chunk: never two sweeps at once.

Real Redis (the session's server, a key prefix of its own) holds the entities,
the clock and the lease. The re-scorer is replaced by a recorder that takes
longer than the lease on its first chunk: the other sweeper takes the lease
meanwhile, and the first one must stop when its renewal fails.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from typing import Any

import pytest

from streams import codec
from streams.events import SourcedEvent
from streams.intake.contract import parse
from streams.metrics import Metrics
from streams.scoring.sweep import DayCloseSweeper
from streams.settings import RedisSettings, Secret
from streams.store.handle import StoreHandle
from tests.infra import Infra
from tests.reference import random_body
from tests.samples import STREAM_OF_TYPE

pytestmark = pytest.mark.integration

LEASE_MS = 300


class SlowRescorer:
    """Records which sweeper re-scores when; the first chunk of ``slow`` outlasts the lease."""

    scored_types = frozenset({"shop", "product", "creator"})

    def __init__(self, name: str, log: list[tuple[str, str]], slow: bool) -> None:
        self.name, self.log, self.slow = name, log, slow

    async def rescore(self, snapshots: Mapping[Any, Any], *args: Any, **kwargs: Any) -> int:
        self.log.append((self.name, "start"))
        if self.slow and self.log.count((self.name, "start")) == 1:
            await asyncio.sleep(LEASE_MS * 3 / 1000)
        self.log.append((self.name, "end"))
        return 0


async def _scenario(url: str, prefix: str) -> tuple[list[tuple[str, str]], Metrics, bool, bool]:
    settings = RedisSettings(url=Secret(url), key_prefix=prefix)
    metrics_a, metrics_b = Metrics(), Metrics()
    store_a, store_b = StoreHandle(settings, metrics_a), StoreHandle(settings, metrics_b)
    rng = random.Random(9)
    bodies = [random_body(rng, n) for n in range(300)]
    events = [
        SourcedEvent(parse(STREAM_OF_TYPE[b["type"]], codec.dumps(b)), "t", 0, n)
        for n, b in enumerate(bodies)
    ]
    await (await store_a.get()).apply(events)
    log: list[tuple[str, str]] = []
    a = DayCloseSweeper(
        store_a,
        SlowRescorer("a", log, slow=True),
        metrics_a,
        lease_ms=LEASE_MS,
        chunk=5,  # type: ignore[arg-type]
    )
    b = DayCloseSweeper(
        store_b,
        SlowRescorer("b", log, slow=False),
        metrics_b,
        lease_ms=LEASE_MS,
        chunk=5,  # type: ignore[arg-type]
    )
    first = asyncio.create_task(a.tick())
    await asyncio.sleep(LEASE_MS * 1.5 / 1000)  # a's lease has expired, a still works
    b_swept = await b.tick()
    a_swept = await first
    await store_a.close()
    await store_b.close()
    return log, metrics_a, a_swept, b_swept


def test_a_sweep_stops_when_its_lease_moved(infra: Infra, unique: str) -> None:
    log, metrics_a, a_swept, b_swept = asyncio.run(_scenario(infra.redis_url, f"t{unique}"))
    assert b_swept, "the second sweeper took the expired lease and swept"
    assert not a_swept, "the first sweeper stopped: its renewal failed"
    # After b started, a never started another chunk.
    b_first = log.index(("b", "start"))
    assert ("a", "start") not in log[b_first:], log
    assert log.count(("a", "start")) == 1
    lost = metrics_a.registry.get_sample_value("vane_sweep_leases_lost_total")
    print(f"a swept 1 chunk, b swept {log.count(('b', 'start'))} chunks; a counted {lost} lost")
    assert lost == 1
