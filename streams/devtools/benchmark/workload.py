"""The benchmark's workload: a generated marketplace, routed, produced once.

``build(events)`` generates a marketplace (``streams.devtools.generator``) big enough for
``events`` and routes every line to its topic and key exactly as ``vane replay``
does (``streams.devtools.replay.route``); ``produce`` writes it to the broker once, so
that every consumer under test reads the very same records with its own group.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams import codec
from streams.devtools.generator import GeneratorConfig, items
from streams.devtools.generator.config import DAY_MS
from streams.events import Stream
from streams.intake.routing import route

EVENTS_PER_ORDER_DAY = 5.67  # ~177k events for 30 days x 1,000 orders/day
DAYS = 30
LIVE_DAYS = 5


@dataclass(frozen=True, slots=True)
class Record:
    """One input message as produced: topic (stream), key, value, its event_id."""

    stream: Stream
    key: bytes
    value: bytes
    event_id: str


@dataclass(frozen=True, slots=True)
class Workload:
    records: Sequence[Record]
    config: GeneratorConfig

    def counts(self) -> dict[str, int]:
        """Events per input stream."""
        out = {s.value: 0 for s in Stream}
        for r in self.records:
            out[r.stream.value] += 1
        return out

    def entities(self) -> int:
        """Distinct keys (orders and rooms): the key spread over partitions."""
        return len({r.key for r in self.records})


def build(min_events: int, seed: int = 1) -> Workload:
    """A generated marketplace of 30 days and at least ``min_events`` events."""
    per_day = max(1, int(min_events / DAYS / EVENTS_PER_ORDER_DAY * 1.02) + 1)
    while True:
        wl = _routed(GeneratorConfig(days=DAYS, orders_per_day=per_day, seed=seed))
        if len(wl.records) >= min_events:
            return wl
        per_day = int(per_day * 1.1) + 1


def live_day(min_events: int, seed: int = 1, days: int = LIVE_DAYS) -> Workload:
    """The last of ``days`` days of the same marketplace: at least ``min_events`` events.

    Stream time stays within one day, as it does live (a replay of many days at
    benchmark speed crosses a day boundary every few seconds, and each crossing
    re-scores every entity: the day-close sweep). The days before it are
    generated but not kept, so that the day has the steady mix of a live one:
    shipments, completions and refunds of earlier days' orders, not only new orders.
    """
    per_day = max(1, int((min_events - 1_500) / 3.2) + 1)
    while True:
        config = GeneratorConfig(days=days, orders_per_day=per_day, seed=seed)
        wl = _routed(config, since_ms=config.start_ms + (days - 1) * DAY_MS)
        if len(wl.records) >= min_events:
            return wl
        per_day = int(per_day * 1.1) + 1


def _routed(config: GeneratorConfig, since_ms: int = 0) -> Workload:
    """Every generated event with ``ts >= since_ms``, routed as ``vane replay`` does."""
    names = {s: s.value for s in Stream}
    records = []
    for item in items(config):
        if item[0] < since_ms:
            continue
        line = item[4]
        routed = route(line, names)
        event_id = codec.loads(line)["event_id"]
        records.append(Record(routed.stream, routed.key, routed.value, event_id))
    return Workload(records, config)


async def create_topics(bootstrap: str, names: Iterable[str], partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(n, partitions, 1) for n in names])
    finally:
        await admin.close()


async def produce(
    bootstrap: str,
    records: Sequence[Record],
    topics: Mapping[Stream, str],
    *,
    rate: float | None = None,
    sent_at: dict[str, float] | None = None,
) -> dict[tuple[str, int], int]:
    """Send ``records`` (at ``rate`` per second, or as fast as possible).

    Returns each partition's end offset. With ``sent_at``, records the wall-clock
    time (epoch seconds) each event_id was handed to the producer.
    """
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, linger_ms=2 if rate else 20, max_batch_size=512 * 1024
    )
    await producer.start()
    ends: dict[tuple[str, int], int] = {}
    try:
        pending: list[asyncio.Future[object]] = []
        started = time.monotonic()
        for i, r in enumerate(records):
            if rate and i % 50 == 0:
                delay = started + i / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            if sent_at is not None:
                sent_at[r.event_id] = time.time()
            pending.append(await producer.send(topics[r.stream], value=r.value, key=r.key))
            if len(pending) >= 5000:
                await _settle(pending, ends)
        await _settle(pending, ends)
    finally:
        await producer.stop()
    return ends


async def _settle(pending: list[asyncio.Future[object]], ends: dict[tuple[str, int], int]) -> None:
    for meta in await asyncio.gather(*pending):
        key = (meta.topic, meta.partition)  # type: ignore[attr-defined]
        ends[key] = max(ends.get(key, 0), meta.offset + 1)  # type: ignore[attr-defined]
    pending.clear()
