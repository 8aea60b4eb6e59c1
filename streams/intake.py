"""The input agents' processing policy: decode, validate, route.

Each consumed batch is split in two. Messages that break the event contract
(or that the validator cannot handle at all) become dead letters, are counted
and logged with topic, partition and offset, and are published to the
dead-letter topic before the batch is acknowledged; nothing of them is applied.
Valid events go, as one batch, to the next stage: an ``EventSink``.
Nothing a message contains can make ``process`` raise.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from streams import contract
from streams.contract import Event, Reason, SourcedEvent, Stream
from streams.deadletter import DeadLetter, Publisher, SourceMessage, publish_all
from streams.errors import MalformedEvent
from streams.metrics import Metrics

log = logging.getLogger(__name__)


class EventSink(Protocol):
    """The stage after validation (the window store plugs in here)."""

    async def apply(self, batch: Sequence[SourcedEvent]) -> None: ...


class DiscardingSink:
    """A sink that drops events: intake alone, with nothing downstream yet."""

    async def apply(self, batch: Sequence[SourcedEvent]) -> None:
        return None


class Intake:
    """Turns batches of raw records into validated events and dead letters."""

    def __init__(self, *, sink: EventSink, dead_letters: Publisher, metrics: Metrics) -> None:
        self._sink = sink
        self._dead_letters = dead_letters
        self._metrics = metrics

    async def process(self, stream: Stream, batch: Sequence[SourceMessage]) -> None:
        """Validate a batch, dead-letter the bad part, hand the good part on."""
        accepted: list[SourcedEvent] = []
        rejected: list[DeadLetter] = []
        for message in batch:
            outcome = self._check(stream, message)
            if isinstance(outcome, DeadLetter):
                rejected.append(outcome)
            else:
                accepted.append(
                    SourcedEvent(outcome, message.topic, message.partition, message.offset)
                )
        if rejected:
            await publish_all(self._dead_letters, rejected)
        if accepted:
            await self._sink.apply(accepted)

    def _check(self, stream: Stream, message: SourceMessage) -> Event | DeadLetter:
        try:
            event = contract.parse(stream, message.value or b"")
        except MalformedEvent as exc:
            return self._reject(DeadLetter(exc.reason, exc.detail, message))
        except Exception as exc:  # a validator bug must not stop consumption
            log.exception("validator failed on %s", _where(message))
            return self._reject(DeadLetter(Reason.INTERNAL_ERROR, repr(exc), message))
        self._metrics.events.labels(message.topic, event.type).inc()
        return event

    def _reject(self, letter: DeadLetter) -> DeadLetter:
        message = letter.message
        self._metrics.dead_letters.labels(message.topic, letter.reason).inc()
        log.info("dead letter %s: %s (%s)", _where(message), letter.reason, letter.detail)
        return letter


def _where(message: SourceMessage) -> str:
    return f"{message.topic}[{message.partition}]@{message.offset}"
