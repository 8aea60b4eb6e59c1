"""The input agents: one per input topic, each feeding batches to the Intake.

An agent never dies. ``Intake.process`` retries what can succeed (Redis away or
refusing writes for a while, Kafka away) and dead-letters what cannot (a script
bug); anything else it raises is retried here, with the same backoff. When the
worker stops or its partitions are revoked the retries give up (``Interrupted``)
and the batch is *left unacknowledged*: marked done for Faust, which then stops
waiting for it (a stop or a rebalance would otherwise wait forever), but never
acknowledged, so its offsets are not committed and Kafka re-delivers it.
Events of an older consumer generation (fetched before a rebalance) are left
the same way: the partition was sought back to its committed offset.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import faust
from faust.types import EventT, StreamT, TopicT
from faust.types.tuples import ack_lock

from streams.errors import Interrupted, backoff_s, pause
from streams.events import Stream
from streams.intake.policy import Intake
from streams.kafka.fastpath import take_ready
from streams.metrics import Metrics
from streams.settings import WorkerSettings
from streams.topics import Topics

log = logging.getLogger(__name__)


def register(
    app: faust.App,
    topics: Topics,
    intake: Intake,
    worker: WorkerSettings,
    metrics: Metrics,
    stopping: Callable[[], bool],
) -> None:
    """Declare one intake agent per input stream on the app."""
    for stream, topic in topics.inputs.items():
        _register_one(app, stream, topic, intake, worker, metrics, stopping)


def _register_one(
    app: faust.App,
    stream: Stream,
    topic: TopicT,
    intake: Intake,
    worker: WorkerSettings,
    metrics: Metrics,
    stopping: Callable[[], bool],
) -> None:
    topic_name = topic.get_topic_name()

    async def consume(records: StreamT[bytes]) -> None:
        batches = take_ready(records, worker.max_batch, worker.batch_within_s)
        async for batch in batches:
            started = time.perf_counter()
            generation = app.consumer_generation_id
            current = [e for e in batch if e.message.generation_id == generation]
            leave_unacknowledged(app, [e for e in batch if e.message.generation_id != generation])
            if current and not await _process(intake, stream, current, stopping):
                leave_unacknowledged(app, current)
            metrics.batch_size.labels(topic_name).observe(len(batch))
            metrics.batch_duration.labels(topic_name).observe(time.perf_counter() - started)

    app.agent(topic, name=f"vane.intake.{stream.value}")(consume)


async def _process(
    intake: Intake, stream: Stream, batch: Sequence[EventT[Any]], stopping: Callable[[], bool]
) -> bool:
    """Process the batch until done (True) or the worker stops (False)."""
    messages = [event.message for event in batch]
    attempt = 0
    while True:
        try:
            await intake.process(stream, messages)
            return True
        except Interrupted as exc:
            log.warning("batch of %d from %s left for re-delivery: %s", len(batch), stream, exc)
            return False
        except Exception:
            attempt += 1
            log.exception("batch of %d from %s failed; retrying", len(batch), stream)
            try:
                await pause(backoff_s(attempt), stopping)
            except Interrupted:
                return False


def leave_unacknowledged(app: faust.App, events: Sequence[EventT[Any]]) -> None:
    """Let Faust stop waiting for these events without committing their offsets.

    Faust's ``Consumer.ack`` marks a message acked *and* records its offset for
    the next commit; a stop or a rebalance waits until every message taken is
    acked. Setting only the flag (under Faust's ack lock) ends the wait and keeps
    the offset uncommitted, so the records are fetched again.
    """
    if not events:
        return
    consumer: Any = app.consumer
    with ack_lock:
        for event in events:
            event.message.acked = True
            consumer._unacked_messages.discard(event.message)
