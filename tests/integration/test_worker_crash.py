"""A worker killed with SIGKILL mid-stream, restarted: the aggregates are exact."""

from __future__ import annotations

import asyncio
import random
import signal
from pathlib import Path

import pytest

from streams import codec
from streams.settings import RedisSettings, Secret
from streams.store import WindowStore
from tests import kafka_helpers as kafka
from tests.infra import Infra
from tests.reference import Expected, random_body, read_all, reference
from tests.samples import STREAM_OF_TYPE, key_of
from tests.worker_process import WorkerProcess, topic_names, wait_until, worker_env

pytestmark = pytest.mark.integration

EVENTS = 3000
DUPLICATES = 150


def _events_counted(worker: WorkerProcess) -> float:
    return sum(v for (name, _), v in worker.metrics().items() if name == "vane_events_total")


async def _read_store(url: str, prefix: str, as_of: int) -> Expected:
    store = await WindowStore.connect(RedisSettings(url=Secret(url), key_prefix=prefix))
    try:
        return await read_all(store, as_of)
    finally:
        await store.close()


def test_sigkill_mid_stream_then_restart_gives_exact_aggregates(
    infra: Infra, unique: str, tmp_path: Path
) -> None:
    rng = random.Random(7)
    bodies = [random_body(rng, n) for n in range(EVENTS)]
    resent = rng.sample(bodies, DUPLICATES)  # upstream duplicates: same event_id, new offset
    topics = topic_names(unique)
    kafka.create_topics(infra.kafka_bootstrap, list(topics.values()))
    records = [
        (topics[STREAM_OF_TYPE[b["type"]].value], key_of(b), codec.dumps(b))
        for b in bodies + resent
    ]
    ends = kafka.produce_keyed(infra.kafka_bootstrap, records)
    env = worker_env(infra, unique, topics, tmp_path) | {"VANE_MAX_BATCH": "40"}

    first = WorkerProcess(env, tmp_path / "first.log").start()
    try:
        wait_until(lambda: _events_counted(first) >= EVENTS // 4, 60, what="a quarter consumed")
        at_kill = _events_counted(first)
        first.stop(signal.SIGKILL)
    finally:
        first.stop()
    with WorkerProcess(env, tmp_path / "second.log") as second:
        group = env["VANE_APP_ID"]
        done = lambda: kafka.committed(infra.kafka_bootstrap, group, list(ends)) == ends  # noqa: E731
        wait_until(done, 120, interval_s=0.5, what="every partition committed to its end")
        metrics = second.metrics()
        skipped = metrics.get(("vane_redelivered_updates_total", ()), 0.0)
        dropped = metrics.get(("vane_duplicates_total", ()), 0.0)
        second.assert_running()
    print(
        f"killed after {at_kill:.0f} events; after restart {skipped:.0f} entity updates "
        f"skipped as already applied, {dropped:.0f} upstream duplicates dropped"
    )

    as_of, expected = reference(bodies)
    got = asyncio.run(_read_store(infra.redis_url, env["VANE_REDIS_KEY_PREFIX"], as_of))
    assert got == expected
    assert skipped > 0, "the restart re-delivered applied events: the crash path was exercised"
