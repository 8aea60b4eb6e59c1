"""The worker's lag sampler: readings in, windows, gauges and ``/lag`` out.

Every ``interval_s`` it asks the reader (``streams.kafka.lag_reader``) for each
partition's committed offset, high watermark and head record, feeds the window
of the partition (``streams.ops.lag``) and publishes the figures. Lag in
messages = high watermark - committed; lag in seconds = wall-clock age of the
record at the committed offset (the oldest uncommitted one), 0 when caught up.
While Kafka cannot be read, the lag in seconds keeps counting from the last
reading (nothing can be committed meanwhile): a broker outage shows as lag.
Every worker reports every partition of its group (series labelled by group,
topic, partition): in Prometheus take ``max by (group, topic, partition)``
(docs/operations.md says why the copies are harmless).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

import faust
from faust.web import Request, Response, View

from streams.kafka.lag_reader import KafkaReader, Partition, Reading
from streams.metrics import Metrics
from streams.ops.lag import LagRules, PartitionWindow, Sample, Status
from streams.settings import Settings
from streams.topics import Topics, input_topic_names

log = logging.getLogger(__name__)


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
    head_ts_s: float | None = None  # Kafka timestamp of the record at the committed offset


class LagSampler:
    """The worker's sampling loop: readings in, windows, gauges and ``/lag`` out."""

    def __init__(self, reader: KafkaReader, metrics: Metrics, rules: LagRules, group: str) -> None:
        self.reader = reader
        self.metrics = metrics
        self.rules = rules
        self.group = group
        self.windows: dict[Partition, PartitionWindow] = {}
        self.views: dict[Partition, PartitionView] = {}
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
            self.age(time.time())
            return
        if self._failing:
            log.info("lag sampler: reading Kafka again")
        self._failing = False
        self.record(readings, time.time())

    def record(self, readings: dict[Partition, Reading], now_s: float) -> None:
        """Feed one round of readings into the windows and the gauges."""
        for tp, reading in readings.items():
            window = self.windows.setdefault(tp, PartitionWindow(self.rules))
            sample = Sample(now_s, reading.committed, reading.end)
            status = window.observe(sample)
            last = self.views.get(tp)
            seconds = _lag_seconds(sample, reading.head_ts_ms, last)
            head_s = _head_s(sample, reading.head_ts_ms, last)
            view = PartitionView(
                tp.topic, tp.partition, reading.committed, reading.end, sample.lag, seconds,
                status, head_s,
            )  # fmt: skip
            self.views[tp] = view
            self._publish(view)
        self.sampled_at_s = now_s
        self._publish_group()

    def age(self, now_s: float) -> None:
        """No reading this round: the oldest uncommitted messages only got older.

        Commits go through the broker, so none happened since the last reading that
        the sampler missed; the lag in messages keeps its last value.
        """
        for tp, view in self.views.items():
            if view.lag and view.head_ts_s is not None:
                self.views[tp] = dataclasses.replace(
                    view, lag_seconds=max(view.lag_seconds, now_s - view.head_ts_s)
                )
                self._publish(self.views[tp])
        self._publish_group()

    def _publish(self, view: PartitionView) -> None:
        labels = (self.group, view.topic, str(view.partition))
        self.metrics.consumer_lag_messages.labels(*labels).set(view.lag)
        self.metrics.consumer_lag_seconds.labels(*labels).set(view.lag_seconds)
        for status in Status:
            value = 1.0 if status is view.status else 0.0
            self.metrics.partition_status.labels(*labels, status.value).set(value)

    def _publish_group(self) -> None:
        views = self.views.values()
        self.metrics.consumer_max_lag_messages.labels(self.group).set(
            max((v.lag for v in views), default=0)
        )
        self.metrics.consumer_max_lag_seconds.labels(self.group).set(
            max((v.lag_seconds for v in views), default=0.0)
        )

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


def _head_s(sample: Sample, head_ts_ms: int | None, last: PartitionView | None) -> float | None:
    """The head record's time; the last one when it was not fetched at the same offset."""
    if sample.lag == 0:
        return None
    if head_ts_ms is not None:
        return head_ts_ms / 1000
    same = last is not None and last.committed == sample.committed
    return last.head_ts_s if same and last is not None else None


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
