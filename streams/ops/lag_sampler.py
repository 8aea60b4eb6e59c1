"""The worker's lag sampler: readings in, windows, gauges and ``/lag`` out.

Every ``interval_s`` it asks the reader (``streams.kafka.lag_reader``) for each
partition's committed offset, high watermark and head record, feeds the window
of the partition (``streams.ops.lag``) and publishes the figures. Lag in
messages = high watermark - committed; lag in seconds = wall-clock age of the
record at the committed offset (the oldest uncommitted one), 0 when caught up.
Every worker reports every partition: in Prometheus take ``max by (topic, partition)``.
"""

from __future__ import annotations

import asyncio
import contextlib
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
