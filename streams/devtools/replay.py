"""Publish a file of events to their topics, with the contract's keys.

Each line of the file is one event as on the wire. Its ``type`` says the topic
(orders, shipping, refunds, livestream: as configured) and the key is its
``order_id`` (or ``room_id`` on livestream): ``streams.intake.routing``. The
value is the line's bytes, unchanged: the worker validates it, and a line that
breaks the contract goes to the dead-letter topic from there. A line that cannot
even be routed (not JSON, no known ``type``, no key) is reported with its line
number and skipped.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from streams.intake.routing import Unroutable, route
from streams.kafka.clients import MAX_MESSAGE_BYTES, client_options, start
from streams.settings import Settings
from streams.topics import input_topic_names

IN_FLIGHT = 5000  # sends awaited in groups of this many


@dataclass(slots=True)
class ReplayReport:
    """What a replay sent, skipped, and the end offset of every partition it wrote."""

    sent: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    ends: dict[tuple[str, int], int] = field(default_factory=dict)


class RateLimiter:
    """At most ``rate`` calls per second on average (None: unlimited)."""

    def __init__(self, rate: float | None) -> None:
        self._interval = None if not rate else 1.0 / rate
        self._next = time.monotonic()

    async def wait(self) -> None:
        if self._interval is None:
            return
        self._next += self._interval
        delay = self._next - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


async def replay(
    settings: Settings,
    lines: Iterable[tuple[int, bytes]],
    *,
    rate: float | None = None,
    on_progress: Callable[[int], None] = lambda n: None,
    on_skip: Callable[[int, str], None] = lambda n, why: None,
) -> ReplayReport:
    """Send every routable line; report skips and the partitions' end offsets."""
    topics = input_topic_names(settings.topics)
    producer = AIOKafkaProducer(
        **client_options(settings.kafka),
        max_request_size=MAX_MESSAGE_BYTES,
        linger_ms=5,
        max_batch_size=256 * 1024,
    )
    report = ReplayReport()
    limiter = RateLimiter(rate)
    await start(producer, settings.kafka)
    try:
        pending: list[asyncio.Future[Any]] = []
        for number, line in lines:
            try:
                routed = route(line, topics)
            except Unroutable as exc:
                report.skipped.append((number, str(exc)))
                on_skip(number, str(exc))
                continue
            await limiter.wait()
            pending.append(await producer.send(routed.topic, value=routed.value, key=routed.key))
            on_progress(1)
            if len(pending) >= IN_FLIGHT:
                await _settle(pending, report)
        await _settle(pending, report)
    finally:
        await producer.stop()
    return report


async def _settle(pending: list[asyncio.Future[Any]], report: ReplayReport) -> None:
    """Wait for the broker's acknowledgements; note each partition's end offset."""
    for meta in await asyncio.gather(*pending):
        key = (meta.topic, meta.partition)
        report.ends[key] = max(report.ends.get(key, 0), meta.offset + 1)
    report.sent += len(pending)
    pending.clear()


async def wait_consumed(
    settings: Settings, ends: Mapping[tuple[str, int], int], timeout_s: float
) -> None:
    """Block until the worker group has committed every partition up to ``ends``."""
    admin = AIOKafkaAdminClient(**client_options(settings.kafka))
    await start(admin, settings.kafka)
    deadline = time.monotonic() + timeout_s
    partitions = [TopicPartition(t, p) for t, p in ends]
    try:
        while True:
            offsets = await _group_offsets(admin, settings.worker.app_id, partitions)
            behind = [
                tp for tp in partitions if _committed(offsets, tp) < ends[(tp.topic, tp.partition)]
            ]
            if not behind:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(behind)} partitions not consumed after {timeout_s:g}s")
            await asyncio.sleep(0.25)
    finally:
        await admin.close()


async def _group_offsets(
    admin: AIOKafkaAdminClient, group: str, partitions: list[TopicPartition]
) -> Mapping[Any, Any]:
    """The group's committed offsets; none yet while the coordinator is not ready.

    A fresh Apache Kafka answers COORDINATOR_NOT_AVAILABLE (retriable) until its
    offsets topic exists, which the worker's first FindCoordinator creates.
    """
    try:
        offsets: Mapping[Any, Any] = await admin.list_consumer_group_offsets(
            group, partitions=partitions
        )
    except KafkaError as exc:
        if not exc.retriable:
            raise
        return {}
    return offsets


def _committed(offsets: Mapping[Any, Any], tp: TopicPartition) -> int:
    meta = offsets.get(tp)
    return -1 if meta is None else int(meta.offset)
