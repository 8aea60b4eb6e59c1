"""The input agents: one per input topic, each feeding batches to the Intake."""

from __future__ import annotations

import time
from typing import cast

import faust
from faust.streams import Stream as EventStream
from faust.types import StreamT, TopicT

from streams.events import Stream
from streams.intake.policy import Intake
from streams.metrics import Metrics
from streams.settings import WorkerSettings
from streams.topics import Topics


def register(
    app: faust.App, topics: Topics, intake: Intake, worker: WorkerSettings, metrics: Metrics
) -> None:
    """Declare one intake agent per input stream on the app."""
    for stream, topic in topics.inputs.items():
        _register_one(app, stream, topic, intake, worker, metrics)


def _register_one(
    app: faust.App,
    stream: Stream,
    topic: TopicT,
    intake: Intake,
    worker: WorkerSettings,
    metrics: Metrics,
) -> None:
    topic_name = topic.get_topic_name()

    async def consume(records: StreamT[bytes]) -> None:
        # Agents receive a faust.Stream; StreamT does not declare take_events.
        batches = cast(EventStream[bytes], records).take_events(
            worker.max_batch, within=worker.batch_within_s
        )
        async for batch in batches:
            started = time.perf_counter()
            await intake.process(stream, [event.message for event in batch])
            metrics.batch_size.labels(topic_name).observe(len(batch))
            metrics.batch_duration.labels(topic_name).observe(time.perf_counter() - started)

    app.agent(topic, name=f"vane.intake.{stream.value}")(consume)
