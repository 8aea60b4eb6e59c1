"""Faults during a replay: the final state must not notice (make soak).

Each test replays a generated marketplace through real workers while something
breaks, then compares the final snapshot with ``vane score-file`` on the same
events and checks the weight topic (seq without gaps or repeats).
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
from pathlib import Path

import pytest

from streams.cli.sweep import wait_for_sweep
from streams.devtools.generator import GeneratorConfig
from streams.events import Stream
from streams.intake.routing import route
from streams.settings import RedisSettings, Secret
from streams.store import WindowStore
from tests import kafka_helpers as kafka
from tests import weight_topic
from tests.infra import Infra
from tests.pipeline import (
    Rows,
    assert_same_final_state,
    market_with_expectation,
    rows,
    vane,
)
from tests.servers import RestartableValkey
from tests.worker_process import WorkerProcess, topic_names, wait_until, worker_env

pytestmark = pytest.mark.soak

MARKET = GeneratorConfig(days=30, shops=40, creators=20, orders_per_day=400, seed=21)
KILLS = 6


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[bytes], Rows]:
    return market_with_expectation(tmp_path_factory.mktemp("market"), MARKET)


class Run:
    """One test's topics, group, key prefix and the events produced to them."""

    def __init__(self, infra: Infra, unique: str, tmp: Path, lines: list[bytes]) -> None:
        self.infra, self.tmp = infra, tmp
        self.topics = topic_names(unique)
        kafka.create_topics(infra.kafka_bootstrap, list(self.topics.values()))
        self.env = worker_env(infra, unique, self.topics, tmp)
        names = {s: self.topics[s.value] for s in Stream}
        self.records = [(r.topic, r.key, r.value) for r in (route(line, names) for line in lines)]
        self.ends: dict[tuple[str, int], int] = {}
        self.workers = 0

    def produce(self, records: list[tuple[str, bytes, bytes]]) -> None:
        for key, end in kafka.produce_keyed(self.infra.kafka_bootstrap, records).items():
            self.ends[key] = max(self.ends.get(key, 0), end)

    def worker(self) -> WorkerProcess:
        self.workers += 1
        return WorkerProcess(self.env, self.tmp / f"worker-{self.workers}.log")

    def consumed(self) -> bool:
        group = self.env["VANE_APP_ID"]
        return kafka.committed(self.infra.kafka_bootstrap, group, list(self.ends)) == self.ends

    def finish(self, timeout_s: float = 300) -> Rows:
        """With a worker running: wait for consumption, sweep, snapshot; check the topic."""
        wait_until(self.consumed, timeout_s, interval_s=0.5, what="every event consumed")
        asyncio.run(_sweep(self.infra.redis_url, self.env["VANE_REDIS_KEY_PREFIX"]))
        vane("snapshot", "--out", str(self.tmp / "got.jsonl"), env=self.env)
        return rows(self.tmp / "got.jsonl")

    def check_weight_topic(self) -> int:
        records = kafka.consume_all(self.infra.kafka_bootstrap, self.topics["weights"], idle_s=3)
        weight_topic.check(records)
        return len(records)


async def _sweep(url: str, prefix: str) -> None:
    store = await WindowStore.connect(RedisSettings(url=Secret(url), key_prefix=prefix))
    try:
        await wait_for_sweep(store, await store.request_sweep(), 180)
    finally:
        await store.close()


def test_repeated_sigkill_during_replay(
    infra: Infra, unique: str, tmp_path: Path, market: tuple[list[bytes], Rows]
) -> None:
    lines, expected = market
    run = Run(infra, unique, tmp_path, lines)
    rng = random.Random(4)
    chunk = len(run.records) // (KILLS + 1)
    killed_after = []
    for kill in range(KILLS):
        run.produce(run.records[kill * chunk : (kill + 1) * chunk])
        worker = run.worker().start()
        time.sleep(rng.uniform(4.0, 8.0))
        worker.assert_running()
        counted = sum(v for (n, _), v in worker.metrics().items() if n == "vane_events_total")
        worker.stop(signal.SIGKILL)
        killed_after.append((round(time.monotonic() - worker.started_at, 1), int(counted)))
    run.produce(run.records[KILLS * chunk :])
    with run.worker():
        got = run.finish()
    assert_same_final_state(got, expected)
    updates = run.check_weight_topic()
    print(
        f"{KILLS} SIGKILLs (after {killed_after} s); {len(run.records)} events; {updates} updates"
    )


def _ready(worker: WorkerProcess) -> bool | None:
    """/ready's answer (None when the worker does not answer at all)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{worker.web_port}/ready", timeout=2) as r:
            return bool(r.status == 200)
    except urllib.error.HTTPError:
        return False
    except OSError:
        return None


def test_redis_restart_mid_replay(
    infra: Infra, unique: str, tmp_path: Path, market: tuple[list[bytes], Rows]
) -> None:
    lines, expected = market
    valkey = RestartableValkey(tmp_path).start()
    try:
        run = Run(
            Infra(infra.kafka_bootstrap, valkey.url, infra.kafka_origin, "restartable"),
            unique,
            tmp_path,
            lines,
        )
        half = len(run.records) // 2
        with run.worker() as worker:
            run.produce(run.records[:half])
            wait_until(lambda: _ready(worker), 60, what="the worker ready")
            time.sleep(2.0)
            valkey.stop()  # SIGTERM: AOF flushed; the worker must retry, not crash
            wait_until(lambda: _ready(worker) is False, 30, what="/ready to say not ready")
            run.produce(run.records[half:])
            time.sleep(3.0)
            worker.assert_running()
            valkey.start()
            wait_until(lambda: _ready(worker), 60, what="/ready again after the restart")
            got = run.finish()
            errors = worker.metrics().get(("vane_redis_errors_total", ()), 0.0)
        assert_same_final_state(got, expected)
        run.check_weight_topic()
        print(f"Redis restarted mid-replay; the worker retried {errors:.0f} times and caught up")
        assert errors > 0
    finally:
        valkey.stop()


def test_broker_stall_mid_replay(
    unique: str, tmp_path: Path, market: tuple[list[bytes], Rows]
) -> None:
    from streams.devtools.embedded import EmbeddedStack

    lines, expected = market
    with EmbeddedStack() as stack:
        infra = Infra(stack.kafka_bootstrap, stack.redis_url, "embedded", "embedded")
        run = Run(infra, unique, tmp_path, lines)
        third = len(run.records) // 3
        with run.worker() as worker:
            run.produce(run.records[:third])
            wait_until(lambda: _ready(worker), 60, what="the worker ready")
            run.produce(run.records[third : 2 * third])
            assert stack.kafka.process is not None
            stack.kafka.process.send_signal(signal.SIGSTOP)  # a backlog waits behind it
            time.sleep(15)
            stack.kafka.process.send_signal(signal.SIGCONT)
            lag_s = wait_until(
                lambda: _at_least(_lag_seconds(worker), 10.0), 30, what="lag >= 10 s"
            )
            run.produce(run.records[2 * third :])
            worker.assert_running()
            got = run.finish()
        assert_same_final_state(got, expected)
        run.check_weight_topic()
        print(f"broker paused 15 s; lag showed {lag_s:.1f} s; the worker recovered by itself")


def test_second_worker_joins_and_leaves_mid_replay(
    infra: Infra, unique: str, tmp_path: Path, market: tuple[list[bytes], Rows]
) -> None:
    lines, expected = market
    run = Run(infra, unique, tmp_path, lines)
    third = len(run.records) // 3
    with run.worker() as first:
        run.produce(run.records[:third])
        wait_until(lambda: _ready(first), 60, what="the first worker ready")
        with run.worker() as second:
            run.produce(run.records[third : 2 * third])
            time.sleep(8)  # the group rebalances over two members
            second.assert_running()
            assert second.stop() == 0
        run.produce(run.records[2 * third :])
        got = run.finish()
        first.assert_running()
    assert_same_final_state(got, expected)
    run.check_weight_topic()


def _lag_seconds(worker: WorkerProcess) -> float:
    """The largest consumer lag in seconds the worker reports now."""
    name = "kafka_consumergroup_group_lag_seconds"
    lags = [v for (n, _), v in worker.metrics().items() if n == name]
    return max(lags, default=0.0)


def _at_least(value: float, floor: float) -> float:
    return value if value >= floor else 0.0
