"""Publish a file of events to their topics, with the contract's keys.

Each line of the file is one event as on the wire. Its ``type`` says the topic
(orders, shipping, refunds, livestream: as configured) and the key is its
``order_id`` (or ``room_id`` on livestream): ``streams.intake.routing``. The
value is the line's bytes, unchanged: the worker validates it, and a line that
breaks the contract goes to the dead-letter topic from there. A line that cannot
even be routed (not JSON, no known ``type``, no key) is reported with its line
number and skipped; one that the worker will dead-letter (the contract, or a
``ts`` from the future) is sent and counted in ``ReplayReport.doomed``, so that a
replay of nothing the worker can use says so.

``wait_consumed`` waits until the worker group committed every partition the
replay wrote; it gives up early with ``NoWorker`` when the group has had no
members for ``no_worker_s`` (a worker that is starting up has that long to join).
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

from streams.errors import MalformedEvent
from streams.events import Reason, Stream
from streams.intake import contract
from streams.intake.policy import FUTURE_TOLERANCE_MS
from streams.intake.routing import Unroutable, route
from streams.kafka.clients import MAX_MESSAGE_BYTES, client_options, start
from streams.semantics import wall_clock_ms
from streams.settings import Settings
from streams.topics import input_topic_names

IN_FLIGHT = 5000  # sends awaited in groups of this many
NO_WORKER_S = 30.0  # how long --wait lets the group be empty: a worker starting up joins


class NoWorker(Exception):
    """Nothing consumes the worker group's partitions: it has no members."""


@dataclass(slots=True)
class ReplayReport:
    """What a replay sent, skipped, and the end offset of every partition it wrote."""

    sent: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    ends: dict[tuple[str, int], int] = field(default_factory=dict)
    doomed: list[tuple[int, str]] = field(default_factory=list)  # sent, to be dead-lettered

    @property
    def usable(self) -> int:
        """Events sent that the worker's intake will accept."""
        return self.sent - len(self.doomed)


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
    latest_allowed_ms = wall_clock_ms() + FUTURE_TOLERANCE_MS
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
            breach = intake_breach(routed.stream, line, latest_allowed_ms)
            if breach is not None:
                report.doomed.append((number, breach))
            await limiter.wait()
            pending.append(await producer.send(routed.topic, value=routed.value, key=routed.key))
            on_progress(1)
            if len(pending) >= IN_FLIGHT:
                await _settle(pending, report)
        await _settle(pending, report)
    finally:
        await producer.stop()
    return report


def intake_breach(stream: Stream, line: bytes, latest_allowed_ms: int) -> str | None:
    """Why the worker's intake will dead-letter this routed line, or None (it applies it)."""
    try:
        event = contract.parse(stream, line)
    except MalformedEvent as exc:
        return str(exc)
    if event.ts_ms > latest_allowed_ms:
        return f"{Reason.FROM_FUTURE}: ts more than 10 minutes ahead of the wall clock"
    return None


async def _settle(pending: list[asyncio.Future[Any]], report: ReplayReport) -> None:
    """Wait for the broker's acknowledgements; note each partition's end offset."""
    for meta in await asyncio.gather(*pending):
        key = (meta.topic, meta.partition)
        report.ends[key] = max(report.ends.get(key, 0), meta.offset + 1)
    report.sent += len(pending)
    pending.clear()


async def wait_consumed(
    settings: Settings,
    ends: Mapping[tuple[str, int], int],
    timeout_s: float,
    *,
    no_worker_s: float = NO_WORKER_S,
    on_empty: Callable[[], None] = lambda: None,
) -> None:
    """Block until the worker group has committed every partition up to ``ends``.

    Raises TimeoutError after ``timeout_s``, and NoWorker once the group has had
    no members for ``no_worker_s`` (``on_empty`` is called when it first has none).
    """
    group = settings.worker.app_id
    admin = AIOKafkaAdminClient(**client_options(settings.kafka))
    await start(admin, settings.kafka)
    started = time.monotonic()
    partitions = [TopicPartition(t, p) for t, p in ends]
    empty_since: float | None = None
    try:
        while True:
            offsets = await _group_offsets(admin, group, partitions)
            behind = [
                tp for tp in partitions if _committed(offsets, tp) < ends[(tp.topic, tp.partition)]
            ]
            if not behind:
                return
            now = time.monotonic()
            if now - started > timeout_s:
                raise TimeoutError(f"{len(behind)} partitions not consumed after {timeout_s:g}s")
            if await _members(admin, group) != 0:
                empty_since = None
            elif empty_since is None:
                empty_since = now
                on_empty()
            elif now - empty_since >= no_worker_s:
                raise NoWorker(
                    f"no worker is consuming: group {group!r} has had no members for "
                    f"{no_worker_s:g}s ({len(behind)} partitions not consumed)"
                )
            await asyncio.sleep(0.25)
    finally:
        await admin.close()


async def _members(admin: AIOKafkaAdminClient, group: str) -> int | None:
    """How many members the group has now (None: the broker did not say)."""
    try:
        responses = await admin.describe_consumer_groups([group])
    except KafkaError:
        return None
    groups = [g for r in responses for g in r.to_object()["groups"] if g["group"] == group]
    return len(groups[0]["members"]) if groups and groups[0]["error_code"] == 0 else None


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
