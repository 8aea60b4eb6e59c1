"""Consumer lag of the worker's group, and a Burrow-style status per partition.

The evaluator (``Sample``, ``LagRules``, ``evaluate``, ``PartitionWindow``) is
pure; the sampler (``KafkaReader``, ``LagSampler``) talks to Kafka. Every
``interval_s`` it reads the group's committed offsets and, with one fetch at
those offsets, each partition's high watermark (from the fetch response:
ListOffsets is wrong on Tansu, INFRA.md) and the timestamp of the record at the
committed offset. Lag in messages = high watermark - committed; lag in seconds =
wall-clock age of that record (the oldest uncommitted one), 0 when caught up.
Every worker reports every partition: in Prometheus take ``max by (topic, partition)``.
See docs/operations.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from itertools import pairwise
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faust.web import Request, Response, View

from streams.kafka.clients import client_options
from streams.metrics import Metrics
from streams.settings import KafkaSettings, Settings, WorkerSettings
from streams.topics import Topics, input_topic_names

log = logging.getLogger(__name__)

HEAD_FETCH_BYTES = 64 * 1024  # one record's timestamp is all we read per partition
LAYOUT_REFRESH_S = 30.0  # how often to look for new partitions of the input topics


class Status(StrEnum):
    """A partition's status, as Burrow names them (see ``evaluate``)."""

    OK = "OK"
    WARN = "WARN"
    STALL = "STALL"
    STOP = "STOP"
    REWIND = "REWIND"


@dataclass(frozen=True, slots=True)
class Sample:
    """One observation of a partition: ``Sample(at_s=10.0, committed=5, end=9).lag == 4``."""

    at_s: float  # wall clock, epoch seconds
    committed: int  # the group's committed offset (next offset to consume)
    end: int  # high watermark (offset of the next message to be written)

    @property
    def lag(self) -> int:
        return max(0, self.end - self.committed)


@dataclass(frozen=True, slots=True)
class LagRules:
    """How often to sample, how many samples make a window, when a stall is a stop."""

    interval_s: float = 2.0
    window: int = 10  # at least 2: a window of one sample never sees a stall
    stop_after_s: float = 120.0

    def __post_init__(self) -> None:
        if self.interval_s <= 0 or self.window < 2 or self.stop_after_s <= 0:
            raise ValueError(
                f"lag rules need interval_s > 0, window >= 2, stop_after_s > 0: {self}"
            )

    @classmethod
    def from_settings(cls, worker: WorkerSettings) -> LagRules:
        """The ``VANE_LAG_INTERVAL_S``, ``VANE_LAG_WINDOW``, ``VANE_LAG_STOP_AFTER_S`` settings."""
        return cls(worker.lag_interval_s, worker.lag_window, worker.lag_stop_after_s)


def evaluate(samples: Sequence[Sample], moved_at_s: float, rules: LagRules) -> Status:
    """The status of a partition from its window of samples, oldest first.

    ``moved_at_s`` is when the committed offset last changed (or was first seen).
    First matching rule wins:

    1. OK      fewer than 2 samples, or no lag now;
    2. REWIND  the committed offset went backwards inside the window;
    3. OK      the lag was 0 somewhere in the window (caught up a moment ago);
    4. STOP    the committed offset has not moved for ``stop_after_s``;
    5. STALL   the window is full and the committed offset did not move across it;
    6. WARN    the window is full, the offset moves, but the lag never shrank
               between two consecutive samples (the group is falling behind);
    7. OK      otherwise.
    """
    if len(samples) < 2 or samples[-1].lag == 0:
        return Status.OK
    newest = samples[-1]
    if any(b.committed < a.committed for a, b in pairwise(samples)):
        return Status.REWIND
    if any(s.lag == 0 for s in samples):
        return Status.OK
    if newest.at_s - moved_at_s >= rules.stop_after_s:
        return Status.STOP
    if len(samples) < rules.window:
        return Status.OK
    if samples[0].committed == newest.committed:
        return Status.STALL
    if all(b.lag >= a.lag for a, b in pairwise(samples)):
        return Status.WARN
    return Status.OK


@dataclass(slots=True)
class PartitionWindow:
    """The sliding window of one partition: feed samples, read the status."""

    rules: LagRules
    samples: deque[Sample] = field(init=False)
    moved_at_s: float = 0.0

    def __post_init__(self) -> None:
        self.samples = deque(maxlen=self.rules.window)

    def observe(self, sample: Sample) -> Status:
        last = self.samples[-1] if self.samples else None
        if last is None or last.committed != sample.committed:
            self.moved_at_s = sample.at_s
        self.samples.append(sample)
        return evaluate(self.samples, self.moved_at_s, self.rules)


@dataclass(frozen=True, slots=True)
class Reading:
    """What the reader learnt about one partition in one round."""

    committed: int  # committed offset, or the first available one when none is committed
    end: int  # high watermark
    head_ts_ms: int | None  # timestamp of the record at ``committed``, when lag > 0


@dataclass(frozen=True, slots=True)
class PartitionView:
    """The latest figures of one partition, as shown on ``/lag`` and in the gauges."""

    topic: str
    partition: int
    committed: int
    end: int
    lag: int
    lag_seconds: float
    status: Status


class KafkaReader:
    """Reads committed offsets, then fetches once at them: high watermarks, head records."""

    def __init__(self, kafka: KafkaSettings, group: str, topics: Iterable[str]) -> None:
        self._options = client_options(kafka)
        self._group = group
        self._topics = sorted(set(topics))
        self._consumer: AIOKafkaConsumer | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._layout: dict[str, list[int]] = {}
        self._layout_at_s = float("-inf")

    async def read(self, timeout_s: float) -> dict[TopicPartition, Reading]:
        consumer, admin = await self._clients()
        tps = await self._partitions(consumer, admin)
        if not tps:
            return {}
        offsets = await admin.list_consumer_group_offsets(self._group, partitions=tps)
        committed = {tp: offsets[tp].offset if tp in offsets else -1 for tp in tps}
        return await self._fetch_heads(consumer, committed, timeout_s)

    async def close(self) -> None:
        consumer, admin, self._consumer, self._admin = self._consumer, self._admin, None, None
        if consumer is not None:
            await consumer.stop()
        if admin is not None:
            await admin.close()

    async def _clients(self) -> tuple[AIOKafkaConsumer, AIOKafkaAdminClient]:
        if self._consumer is None or self._admin is None:
            await self.close()
            consumer = AIOKafkaConsumer(
                **self._options,
                client_id="vane-lag",
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                fetch_max_wait_ms=100,
                max_partition_fetch_bytes=HEAD_FETCH_BYTES,
            )
            self._consumer = consumer
            await consumer.start()
            self._admin = AIOKafkaAdminClient(**self._options, client_id="vane-lag")
            await self._admin.start()
        return self._consumer, self._admin

    async def _partitions(
        self, consumer: AIOKafkaConsumer, admin: AIOKafkaAdminClient
    ) -> list[TopicPartition]:
        now = time.monotonic()
        if now - self._layout_at_s > LAYOUT_REFRESH_S or len(self._layout) < len(self._topics):
            # All topics: naming ours would ask the broker to auto-create missing ones.
            described = await admin.describe_topics()
            self._layout = _layout(described, self._topics)
            self._layout_at_s = now
        tps = [TopicPartition(t, p) for t, parts in sorted(self._layout.items()) for p in parts]
        if set(tps) != consumer.assignment():
            consumer.assign(tps)
            consumer.pause(*tps)
        return tps

    async def _fetch_heads(
        self, consumer: AIOKafkaConsumer, committed: dict[TopicPartition, int], timeout_s: float
    ) -> dict[TopicPartition, Reading]:
        started_ms = int(time.time() * 1000)
        for tp, offset in committed.items():
            if offset >= 0:
                consumer.seek(tp, offset)
        unset = [tp for tp, offset in committed.items() if offset < 0]
        if unset:
            await consumer.seek_to_beginning(*unset)
        tps, heads = list(committed), dict[TopicPartition, Any]()
        consumer.resume(*tps)
        try:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline and _pending(consumer, committed, heads, started_ms):
                batches = await consumer.getmany(*tps, timeout_ms=100)
                for tp, records in batches.items():
                    heads.setdefault(tp, records[0])
        finally:
            consumer.pause(*tps)
        return _readings(consumer, committed, heads, started_ms)


def _layout(described: list[Any], wanted: Sequence[str]) -> dict[str, list[int]]:
    return {  # partition ids of the wanted topics that exist
        t["topic"]: sorted(p["partition"] for p in t["partitions"])
        for t in described
        if t["topic"] in wanted and t["error_code"] == 0 and t["partitions"]
    }


def _fresh(consumer: AIOKafkaConsumer, tp: TopicPartition, started_ms: int) -> bool:
    polled = consumer.last_poll_timestamp(tp)
    return polled is not None and polled >= started_ms


def _pending(
    consumer: AIOKafkaConsumer,
    committed: dict[TopicPartition, int],
    heads: dict[TopicPartition, Any],
    started_ms: int,
) -> bool:
    """True while a partition still owes us a fresh high watermark or its head record."""
    for tp, offset in committed.items():
        if not _fresh(consumer, tp, started_ms):
            return True
        if tp not in heads and (consumer.highwater(tp) or 0) > max(offset, 0):
            return True
    return False


def _readings(
    consumer: AIOKafkaConsumer,
    committed: dict[TopicPartition, int],
    heads: dict[TopicPartition, Any],
    started_ms: int,
) -> dict[TopicPartition, Reading]:
    out: dict[TopicPartition, Reading] = {}
    for tp, offset in committed.items():
        if not _fresh(consumer, tp, started_ms):
            continue  # no fresh high watermark this round: report nothing rather than stale
        end = consumer.highwater(tp) or 0
        head = heads.get(tp)
        start = offset if offset >= 0 else (head.offset if head is not None else end)
        out[tp] = Reading(start, end, head.timestamp if head is not None else None)
    return out


class LagSampler:
    """The worker's sampling loop: readings in, windows, gauges and ``/lag`` out."""

    def __init__(self, reader: KafkaReader, metrics: Metrics, rules: LagRules, group: str) -> None:
        self.reader = reader
        self.metrics = metrics
        self.rules = rules
        self.group = group
        self.windows: dict[TopicPartition, PartitionWindow] = {}
        self.views: dict[TopicPartition, PartitionView] = {}
        self.sampled_at_s: float | None = None
        self._failing = False

    async def run(self) -> None:
        """Sample every ``interval_s`` until cancelled; a broker outage is logged, not fatal."""
        try:
            while True:
                await self.tick()
                await asyncio.sleep(self.rules.interval_s)
        finally:
            await self.reader.close()

    async def tick(self) -> None:
        timeout_s = max(1.0, self.rules.interval_s)
        try:
            readings = await asyncio.wait_for(self.reader.read(timeout_s), timeout_s * 3)
        except Exception as exc:  # any failure: log once per outage, reconnect next time
            level = logging.DEBUG if self._failing else logging.WARNING
            log.log(level, "lag sampler: cannot read Kafka (%s: %s)", type(exc).__name__, exc)
            self._failing = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.reader.close(), timeout_s)
            return
        if self._failing:
            log.info("lag sampler: reading Kafka again")
        self._failing = False
        self.record(readings, time.time())

    def record(self, readings: dict[TopicPartition, Reading], now_s: float) -> None:
        """Feed one round of readings into the windows and the gauges."""
        for tp, reading in readings.items():
            window = self.windows.setdefault(tp, PartitionWindow(self.rules))
            sample = Sample(now_s, reading.committed, reading.end)
            status = window.observe(sample)
            seconds = _lag_seconds(sample, reading.head_ts_ms, self.views.get(tp))
            view = PartitionView(
                tp.topic, tp.partition, reading.committed, reading.end, sample.lag, seconds, status
            )
            self.views[tp] = view
            self._publish(view)
        self.sampled_at_s = now_s

    def _publish(self, view: PartitionView) -> None:
        labels = (view.topic, str(view.partition))
        self.metrics.consumer_lag_messages.labels(*labels).set(view.lag)
        self.metrics.consumer_lag_seconds.labels(*labels).set(view.lag_seconds)
        for status in Status:
            value = 1.0 if status is view.status else 0.0
            self.metrics.partition_status.labels(*labels, status.value).set(value)

    def snapshot(self) -> dict[str, Any]:
        """The latest figures as plain values (the ``/lag`` page)."""
        return {
            "group": self.group,
            "sampled_at": self.sampled_at_s,
            "partitions": [asdict(view) for _, view in sorted(self.views.items())],
        }


def _lag_seconds(sample: Sample, head_ts_ms: int | None, last: PartitionView | None) -> float:
    """Age of the record at the committed offset; the last figure when it was not fetched."""
    if sample.lag == 0:
        return 0.0
    if head_ts_ms is None:
        return last.lag_seconds if last is not None else 0.0
    return max(0.0, sample.at_s - head_ts_ms / 1000)


def register(
    app: faust.App,
    settings: Settings,
    metrics: Metrics,
    topics: Topics,
    *,
    rules: LagRules | None = None,
) -> None:
    """Run a lag sampler in the worker and serve its figures on ``/lag``."""
    rules = rules or LagRules.from_settings(settings.worker)
    group = settings.worker.app_id
    names = input_topic_names(settings.topics).values()
    sampler = LagSampler(KafkaReader(settings.kafka, group, names), metrics, rules, group)
    app.task(sampler.run)

    @app.page("/lag")
    class LagPage(View):
        async def get(self, request: Request, **kwargs: Any) -> Response:
            return self.json(sampler.snapshot())
