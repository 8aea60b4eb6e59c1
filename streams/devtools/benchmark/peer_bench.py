"""The peer (``peer.py``, Quix Streams) under measurement, and its parity with Vane.

``run_peer`` starts the peer as a child process on the same input topics with
its own group and follows it to the end: the input topics committed, then its
contributions topic (the repartition) committed up to its high watermark.
Throughput and CPU are taken as for every other path (``figures.steady``, the
child's ``/proc`` CPU); the state's size is the RocksDB directory after a clean
stop. The peer's counts are read back from its output topic (the latest
message per entity and day).

``parity`` holds those counts to Vane's windows: for every entity either side
knows, the totals of every horizon as of Vane's stream-time day, today's and
yesterday's (``EntityWindows.from_days`` on the peer's days against the
store's snapshot).
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from models.windows import HORIZONS, EntityWindows
from streams import codec
from streams.devtools.benchmark import process
from streams.devtools.benchmark.figures import Sample, Throughput, between
from streams.devtools.benchmark.scorer import TIMEOUT_S, Target, read_topic
from streams.events import EntityKey, anchor_day
from streams.settings import RedisSettings, Secret
from streams.store import WindowStore

PARTITIONS = 4  # of the peer's contributions topic
STATE_DIR = "peer-state"
BROKER_ENV = "VANE_BENCH_BROKER"
Days = dict[int, dict[str, int]]


def contributions_topic(group: str) -> str:
    """The peer's repartition topic: (entity, day, deltas) records keyed by entity."""
    return f"{group}-contributions"


def counters_topic(group: str) -> str:
    """Where the peer writes one message per changed entity per commit interval."""
    return f"{group}-counters"


@dataclass(frozen=True, slots=True)
class PeerRun:
    throughput: Throughput
    broker_cpu_s_per_100k: float
    entities: int
    state_bytes: int  # the RocksDB directory after a clean stop
    messages: int  # counter messages emitted (one per changed entity per commit)

    @property
    def state_bytes_per_entity(self) -> float:
        return self.state_bytes / self.entities if self.entities else 0.0


@dataclass(frozen=True, slots=True)
class Parity:
    entities: int
    equal: int
    mismatches: list[str] = field(default_factory=list)  # the first few, described

    @property
    def ok(self) -> bool:
        return self.entities > 0 and self.equal == self.entities


def available() -> str | None:
    """Why the peer cannot run here (one line), or None when it can."""
    if importlib.util.find_spec("quixstreams") is None:
        return "quixstreams is not installed (pip install -e '.[bench]')"
    return None


async def run_peer(
    t: Target, ends: Mapping[tuple[str, int], int]
) -> tuple[PeerRun, dict[EntityKey, Days]]:
    """Run the peer on ``t``'s inputs to the end; its figures and its final counts."""
    bootstrap, group = t.stack.kafka_bootstrap, t.group
    child = process.peer(t.env() | {BROKER_ENV: t.stack.broker}, t.workdir / f"peer-{t.run}.log")
    broker0 = process.Child.cpu_of(t.stack.broker_pid)
    try:
        inputs = await process.follow(bootstrap, group, ends, [child], TIMEOUT_S)
        stage = await high_watermarks(bootstrap, contributions_topic(group), PARTITIONS)
        last = await process.follow(bootstrap, group, stage, [child], TIMEOUT_S)
    finally:
        child.stop()
    broker1 = process.Child.cpu_of(t.stack.broker_pid)
    total = sum(ends.values())
    started = next(s for s in inputs if s.done > 0)
    th = between(started, Sample(last[-1].t, total, last[-1].cpu_s))
    counts, messages = await read_counts(bootstrap, counters_topic(group))
    state = _bytes_under(t.workdir / t.run / STATE_DIR)
    broker = (broker1 - broker0) / total * 100_000
    return PeerRun(th, broker, len(counts), state, messages), counts


async def high_watermarks(
    bootstrap: str, topic: str, partitions: int
) -> dict[tuple[str, int], int]:
    """Each partition's high watermark, from fetch responses (ListOffsets is wrong on Tansu)."""
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(tps)
        for tp in tps:
            consumer.seek(tp, 0)
        deadline = time.monotonic() + 30
        while any(consumer.highwater(tp) is None for tp in tps):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: no fetch answer in 30 s")
            await consumer.getmany(timeout_ms=500, max_records=1)
        return {(topic, tp.partition): int(consumer.highwater(tp) or 0) for tp in tps}
    finally:
        await consumer.stop()


async def read_counts(bootstrap: str, topic: str) -> tuple[dict[EntityKey, Days], int]:
    """The peer's final counters per entity and day (the latest message wins), and how
    many messages it sent."""
    records = await read_topic(bootstrap, topic)
    counts: dict[EntityKey, Days] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        message = codec.loads(record.value)
        days = counts.setdefault((message["entity_type"], message["entity_id"]), {})
        for day, counters in message["days"].items():
            days[int(day)] = counters
    return counts, len(records)


async def parity(redis_url: str, prefix: str, counts: Mapping[EntityKey, Days]) -> Parity:
    """Compare the peer's counts with the windows of Vane's store under ``prefix``."""
    store = await WindowStore.connect(RedisSettings(url=Secret(redis_url), key_prefix=prefix))
    try:
        vane = [key async for key in store.entities()]
        stream_ms = await store.stream_time_ms()
        as_of = anchor_day(stream_ms) if stream_ms is not None else 0
        keys = sorted(set(vane) | set(counts))
        snapshots = await store.snapshots(keys, as_of)
    finally:
        await store.close()
    bad = []
    for key in keys:
        peer = EntityWindows.from_days(*key, as_of, counts.get(key, {}))
        ours = snapshots[key].windows
        if (diff := _differs(ours, peer)) is not None:
            bad.append(f"{key[0]}:{key[1]} {diff}")
    return Parity(len(keys), len(keys) - len(bad), bad[:5])


def _differs(vane: EntityWindows, peer: EntityWindows) -> str | None:
    for label, ours, theirs in (
        ("today", vane.totals, peer.totals),
        ("yesterday", vane.previous_totals, peer.previous_totals),
    ):
        for h in HORIZONS:
            a, b = _nonzero(ours.get(h, {})), _nonzero(theirs.get(h, {}))
            if a != b:
                return f"{h}-day {label}: vane {a} peer {b}"
    return None


def _nonzero(totals: Mapping[str, int]) -> dict[str, int]:
    return {name: int(value) for name, value in totals.items() if value}


def _bytes_under(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
