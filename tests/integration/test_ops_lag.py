"""Lag and partition status on /metrics, scraped from real workers on real servers.

First the lag reader's end offsets against the true end of the log, on each
broker. Then two workers share the group. A replay makes the lag rise, then fall to 0 with
every partition OK; then one worker is paused with SIGSTOP while events keep
arriving, and the other one, which reports every partition of the group,
shows the paused worker's partitions as STALL until the group hands them over.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from streams import codec
from streams.kafka.lag_reader import KafkaReader, Reading
from streams.settings import KafkaSettings
from tests import kafka_helpers as kafka
from tests.infra import Infra
from tests.reference import random_body
from tests.samples import STREAM_OF_TYPE, key_of
from tests.worker_process import Samples, WorkerProcess, topic_names, wait_until, worker_env

pytestmark = pytest.mark.integration

# Fast rules so that a short pause is a STALL: a window of 4 samples, 0.5 s apart.
LAG_ENV = {"VANE_LAG_INTERVAL_S": "0.5", "VANE_LAG_WINDOW": "4", "VANE_LAG_STOP_AFTER_S": "60"}
REPLAY = 6000
PARTITIONS = 16  # four input topics of four partitions

Partition = tuple[str, str]


def page(worker: WorkerProcess, path: str) -> tuple[int, Any]:
    """Status and JSON body of a page on the worker's web server."""
    url = f"http://127.0.0.1:{worker.web_port}{path}"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _ready(worker: WorkerProcess) -> tuple[int, Any] | None:
    answer = page(worker, "/ready")
    return answer if answer[0] == 200 else None


def gauge(samples: Samples, name: str) -> dict[Partition, float]:
    """A per-partition gauge as {(topic, partition): value}."""
    out = {}
    for (metric, labels), value in samples.items():
        if metric == name:
            tags = dict(labels)
            out[(tags["topic"], tags["partition"])] = value
    return out


def statuses(samples: Samples) -> dict[Partition, str]:
    """The current status of every reported partition."""
    out = {}
    for (metric, labels), value in samples.items():
        if metric == "vane_partition_status" and value == 1.0:
            tags = dict(labels)
            out[(tags["topic"], tags["partition"])] = tags["status"]
    return out


def group_lag(*workers: WorkerProcess) -> tuple[dict[Partition, float], dict[Partition, float]]:
    """Lag in messages and seconds per partition, max over the workers (as in Prometheus)."""
    messages: dict[Partition, float] = {}
    seconds: dict[Partition, float] = {}
    for worker in workers:
        samples = worker.metrics()
        for key, value in gauge(samples, "kafka_consumergroup_group_lag").items():
            messages[key] = max(messages.get(key, 0.0), value)
        for key, value in gauge(samples, "kafka_consumergroup_group_lag_seconds").items():
            seconds[key] = max(seconds.get(key, 0.0), value)
    return messages, seconds


def caught_up(*workers: WorkerProcess) -> bool:
    """Every partition reported by every worker with no lag and status OK."""
    for worker in workers:
        samples = worker.metrics()
        lag = gauge(samples, "kafka_consumergroup_group_lag")
        status = statuses(samples)
        if len(lag) < PARTITIONS or any(lag.values()) or set(status.values()) != {"OK"}:
            return False
    return True


def _stalled(samples: Samples) -> dict[Partition, float]:
    """Lag in seconds of the partitions reported STALL (empty when none is)."""
    seconds = gauge(samples, "kafka_consumergroup_group_lag_seconds")
    return {p: seconds[p] for p, status in statuses(samples).items() if status == "STALL"}


def records(
    bodies: list[dict[str, object]], topics: dict[str, str]
) -> list[tuple[str, bytes, bytes]]:
    return [
        (topics[STREAM_OF_TYPE[str(b["type"])].value], key_of(b), codec.dumps(b)) for b in bodies
    ]


class Trickle(threading.Thread):
    """Keeps producing a few events every 0.2 s until stopped."""

    def __init__(self, bootstrap: str, topics: dict[str, str], first: int) -> None:
        super().__init__(daemon=True)
        self.bootstrap, self.topics, self.n = bootstrap, topics, first
        self.halt = threading.Event()
        self.rng = random.Random(first)

    def run(self) -> None:
        while not self.halt.is_set():
            bodies = [random_body(self.rng, self.n + i) for i in range(40)]
            self.n += len(bodies)
            kafka.produce_keyed(self.bootstrap, records(bodies, self.topics))
            self.halt.wait(0.2)


async def _read_lag(bootstrap: str, group: str, topic: str) -> dict[TopicPartition, Reading]:
    """One round of the reader, tried again while the broker says "not yet" (on a fresh
    Apache Kafka the offsets topic and its coordinator appear on first use)."""
    reader = KafkaReader(KafkaSettings(bootstrap=bootstrap), group, [topic])
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                return await reader.read(timeout_s=10)
            except KafkaError as exc:
                if not exc.retriable or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.5)
    finally:
        await reader.close()


async def _end_offsets(bootstrap: str, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


def test_the_reader_ends_at_the_true_end_of_the_log(infra: Infra, unique: str) -> None:
    """Three batches per partition: Tansu answers ListOffsets with the last batch's base
    offset + 1 (INFRA.md), so the reader takes the fetch's high watermark; that must be
    the end on Apache Kafka too, where ``end_offsets`` is right and agrees with it."""
    topic = f"lagged-{unique}"
    kafka.create_topics(infra.kafka_bootstrap, [topic], partitions=2)
    ends: dict[tuple[str, int], int] = {}
    for batch in range(3):
        keys = [f"k{n}".encode() for n in range(batch * 10, batch * 10 + 10)]
        ends |= kafka.produce_keyed(infra.kafka_bootstrap, [(topic, k, b"v") for k in keys])
    assert sum(ends.values()) == 30
    readings = asyncio.run(_read_lag(infra.kafka_bootstrap, f"never-{unique}", topic))
    assert {(tp.topic, tp.partition): r.end for tp, r in readings.items()} == ends
    assert all(r.committed == 0 for r in readings.values()), "no commit: from the start"
    if not infra.tansu:
        listed = asyncio.run(_end_offsets(infra.kafka_bootstrap, list(readings)))
        assert {(tp.topic, tp.partition): end for tp, end in listed.items()} == ends


@pytest.fixture
def workers(
    infra: Infra, unique: str, tmp_path: Path
) -> Iterator[tuple[WorkerProcess, WorkerProcess, dict[str, str]]]:
    topics = topic_names(unique)
    kafka.create_topics(infra.kafka_bootstrap, list(topics.values()))
    env = worker_env(infra, unique, topics, tmp_path) | LAG_ENV
    first = WorkerProcess(env, tmp_path / "first.log").start()
    second = WorkerProcess(env, tmp_path / "second.log").start()
    try:
        yield first, second, topics
    finally:
        for worker in (first, second):
            if worker.process is not None:
                os.kill(worker.process.pid, signal.SIGCONT)
            worker.stop()


def test_lag_rises_falls_to_zero_and_a_paused_worker_stalls(
    infra: Infra, workers: tuple[WorkerProcess, WorkerProcess, dict[str, str]]
) -> None:
    first, second, topics = workers
    started = time.monotonic()
    wait_until(lambda: caught_up(first, second), 30, 0.2, "both workers reporting every partition")
    for worker in (first, second):
        assert page(worker, "/health") == (200, {"status": "alive"})
        _, body = wait_until(lambda w=worker: _ready(w), 20, 0.2, "/ready answering 200")
        assert body["checks"] == {"partitions": True, "kafka": True, "redis": True, "store": True}

    # A replay: produced faster than two workers score, so lag builds up.
    bodies = [random_body(random.Random(11), n) for n in range(REPLAY)]
    replay = threading.Thread(
        target=kafka.produce_keyed, args=(infra.kafka_bootstrap, records(bodies, topics))
    )
    replay.start()
    peak_messages = peak_seconds = 0.0
    while replay.is_alive() or peak_messages == 0:
        messages, seconds = group_lag(first, second)
        peak_messages = max(peak_messages, sum(messages.values()))
        peak_seconds = max(peak_seconds, max(seconds.values(), default=0.0))
        time.sleep(0.1)
        assert time.monotonic() - started < 60, "no lag ever seen during the replay"
    replay.join()
    wait_until(lambda: caught_up(first, second), 40, 0.2, "lag back to 0, every partition OK")
    print(f"replay of {REPLAY}: peak lag {peak_messages:.0f} messages, {peak_seconds:.2f} s")
    assert peak_messages > 0
    assert peak_seconds > 0

    # Pause the first worker while events keep arriving: the second sees STALL.
    assert first.process is not None
    trickle = Trickle(infra.kafka_bootstrap, topics, REPLAY)
    trickle.start()
    os.kill(first.process.pid, signal.SIGSTOP)
    try:
        stalled = wait_until(
            lambda: _stalled(second.metrics()),
            20,
            0.1,
            "a partition reported STALL while a worker is paused",
        )
    finally:
        os.kill(first.process.pid, signal.SIGCONT)
        trickle.halt.set()
        trickle.join()
    print(f"STALL seen while the first worker was paused: {stalled}")
    # A full window (1.5 s) without progress: the oldest waiting message is at least that old.
    assert min(stalled.values()) >= 1.0
    wait_until(lambda: caught_up(first, second), 40, 0.2, "lag back to 0 after the pause")
    first.assert_running()
    second.assert_running()
    assert first.stop() == 0, "worker did not exit cleanly on SIGTERM"
    assert second.stop() == 0, "worker did not exit cleanly on SIGTERM"
