"""The full scorer (``vane worker``) under measurement: throughput, Redis, weight updates.

Each run gets its own consumer group, Redis key prefix, weight and dead-letter
topics, and reads the same pre-produced input topics from the start.
"""

from __future__ import annotations

import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer
from prometheus_client.parser import text_string_to_metric_families

from streams.devtools.benchmark import probe, process, profile
from streams.devtools.benchmark.figures import Throughput, percentile, steady
from streams.devtools.benchmark.stack import BenchStack
from streams.events import Stream
from streams.settings import RedisSettings, Secret
from streams.store import WindowStore

TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class Target:
    """Where a run reads and writes: input topics, its own group, prefix and outputs."""

    stack: BenchStack
    inputs: Mapping[Stream, str]
    run: str
    workdir: Path

    @property
    def group(self) -> str:
        return f"bench-{self.run}"

    @property
    def weights(self) -> str:
        return f"weights-{self.run}"

    @property
    def prefix(self) -> str:
        return f"b{self.run}"

    def env(self) -> dict[str, str]:
        env = {f"VANE_TOPIC_{s.value.upper()}": name for s, name in self.inputs.items()}
        env |= {"VANE_TOPIC_WEIGHTS": self.weights, "VANE_TOPIC_DLQ": f"dlq-{self.run}"}
        env |= {"VANE_APP_ID": self.group, "VANE_REDIS_KEY_PREFIX": self.prefix}
        env |= {"VANE_DATA_DIR": str(self.workdir / self.run)}
        env |= {"KAFKA_BOOTSTRAP": self.stack.kafka_bootstrap, "REDIS_URL": self.stack.redis_url}
        return env


def target(stack: BenchStack, inputs: Mapping[Stream, str], workdir: Path) -> Target:
    return Target(stack, inputs, uuid.uuid4().hex[:8], workdir)


@dataclass(frozen=True, slots=True)
class ScorerRun:
    throughput: Throughput
    redis_cpu_s_per_100k: float
    broker_cpu_s_per_100k: float
    store_round_trips_per_event: float  # what the store counts (apply pipelines)
    redis_reads_per_event: float  # every request the server read, all callers
    weight_updates: int
    weight_updates_per_s: float
    entity_bytes: dict[str, float]  # mean, p99, max over entities; per type means
    redis_bytes_per_event: float  # used_memory growth / events (markers included)


async def run_workers(
    t: Target,
    ends: Mapping[tuple[str, int], int],
    workers: int,
    profile_to: Path | None = None,
    entity_bytes: bool = True,
) -> ScorerRun:
    """Start ``workers`` ``vane worker`` processes on ``t`` and follow them to the end.

    With ``profile_to``, py-spy samples the first worker and that file gets the
    summary (``profile.summary``); the folded stacks stay in the work directory.
    ``entity_bytes`` False skips reading every entity's size (a million resident).
    """
    port, pids = t.stack.redis_port, (t.stack.broker_pid, t.stack.redis_pid)
    before = probe.info(port)
    broker0, redis0 = (process.Child.cpu_of(pid) for pid in pids)
    children = [
        process.vane_worker(t.env(), t.workdir / f"worker-{t.run}-{i}.log") for i in range(workers)
    ]
    folded = t.workdir / f"profile-{t.run}.folded"
    spy = profile.start(children[0].pid, folded) if profile_to is not None else None
    try:
        samples = await process.follow(t.stack.kafka_bootstrap, t.group, ends, children, TIMEOUT_S)
        metrics = [metrics_of(c.web_port) for c in children]
    finally:
        for child in children:
            child.stop()
        if spy is not None and profile_to is not None:
            spy.wait(timeout=30)
            text = folded.read_text() if folded.exists() else ""
            profile_to.write_text(profile.summary(text))
    broker1, redis1 = (process.Child.cpu_of(pid) for pid in pids)
    after = probe.info(port)
    total = sum(ends.values())
    th = steady(samples, total)
    events = sum(m.get("vane_events_total", 0.0) for m in metrics) or total
    round_trips = sum(m.get("vane_redis_round_trips_total", 0.0) for m in metrics)
    reads = after["total_reads_processed"] - before["total_reads_processed"]
    weights = await count_messages(t.stack.kafka_bootstrap, t.weights)
    sizes = await _entity_bytes(t) if entity_bytes else {}
    grown = after["used_memory"] - before["used_memory"]
    wall = samples[-1].t - samples[0].t
    return ScorerRun(
        throughput=th,
        redis_cpu_s_per_100k=(redis1 - redis0) / total * 100_000,
        broker_cpu_s_per_100k=(broker1 - broker0) / total * 100_000,
        store_round_trips_per_event=round_trips / events,
        redis_reads_per_event=reads / total,
        weight_updates=weights,
        weight_updates_per_s=weights / wall if wall > 0 else 0.0,
        entity_bytes=sizes,
        redis_bytes_per_event=grown / total,
    )


async def count_messages(bootstrap: str, topic: str) -> int:
    """How many records ``topic`` holds (read to the end)."""
    return len(await read_topic(bootstrap, topic))


async def read_topic(bootstrap: str, topic: str, idle_s: float = 1.5) -> list[Any]:
    """Every record of ``topic`` from the beginning, until none arrives for ``idle_s``."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    out: list[Any] = []
    try:
        quiet = 0.0
        while quiet < idle_s:
            batches = await consumer.getmany(timeout_ms=250, max_records=10_000)
            got = [r for records in batches.values() for r in records]
            out.extend(got)
            quiet = 0.0 if got else quiet + 0.25
    finally:
        await consumer.stop()
    return out


async def _entity_bytes(t: Target) -> dict[str, float]:
    """Redis bytes of each entity (windows hash + state hash): mean, p99, max, per type."""
    store = await WindowStore.connect(
        RedisSettings(url=Secret(t.stack.redis_url), key_prefix=t.prefix)
    )
    try:
        keys = [key async for key in store.entities()]
        names = [f(*key) for key in keys for f in (store.entity_key, store.state_key)]
    finally:
        await store.close()
    used = probe.memory_usage(t.stack.redis_port, names)
    sizes: dict[str, list[float]] = {}
    for i, (entity_type, _) in enumerate(keys):
        sizes.setdefault(entity_type, []).append(float(used[2 * i] + used[2 * i + 1]))
    every = [s for group in sizes.values() for s in group]
    out = {
        "entities": float(len(every)),
        "mean": sum(every) / len(every) if every else 0.0,
        "p99": percentile(every, 99),
        "max": max(every, default=0.0),
    }
    out |= {f"mean_{k}": sum(v) / len(v) for k, v in sorted(sizes.items())}
    return out


def metrics_of(port: int) -> dict[str, float]:
    """A worker's /metrics, summed over labels, by sample name."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return {}
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[s.name] = out.get(s.name, 0.0) + s.value
    return out
