"""The input agents' processing policy: decode, validate, route.

Each consumed batch is split in two. Messages that break the event contract
(a header key that is not UTF-8 included: ``bad_header``),
carry a ``ts`` more than 10 minutes ahead of the wall clock (``from_future``),
or that the validator cannot handle at all, become dead letters. Valid events
go, as one batch, to the next stage (an ``EventSink``), which may reject some
in turn (``too_late``). Every dead letter is counted, logged with topic,
partition and offset, and published to the dead-letter topic before the batch
is acknowledged; nothing of it is applied. Nothing a message contains can make
``process`` raise.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from streams.errors import MalformedEvent
from streams.events import Event, EventSink, Reason, SourcedEvent, Stream
from streams.intake import contract
from streams.intake import headers as record_headers
from streams.intake.deadletter import DeadLetter, publish_all
from streams.metrics import Metrics
from streams.semantics import wall_clock_ms
from streams.topics import Publisher, SourceMessage

log = logging.getLogger(__name__)


FUTURE_TOLERANCE_MS = 600_000  # SCORING.md §1: the only use of the wall clock


class Intake:
    """Turns batches of raw records into validated events and dead letters."""

    def __init__(
        self,
        *,
        sink: EventSink,
        dead_letters: Publisher,
        metrics: Metrics,
        clock_ms: Callable[[], int] = wall_clock_ms,
        topic_generation: int = 0,
    ) -> None:
        """``topic_generation``: stamped on every event (its watermarks' topic identity)."""
        self._sink = sink
        self._generation = topic_generation
        self._dead_letters = dead_letters
        self._metrics = metrics
        self._clock_ms = clock_ms

    async def process(self, stream: Stream, batch: Sequence[SourceMessage]) -> None:
        """Validate a batch, hand the good part on, dead-letter the rest."""
        accepted: list[SourcedEvent] = []
        sources: list[SourceMessage] = []
        rejected: list[DeadLetter] = []
        latest_allowed_ms = self._clock_ms() + FUTURE_TOLERANCE_MS
        for message in batch:
            outcome = self._check(stream, message, latest_allowed_ms)
            if isinstance(outcome, DeadLetter):
                rejected.append(outcome)
            else:
                position = (message.topic, message.partition, message.offset, self._generation)
                accepted.append(SourcedEvent(outcome, *position))
                sources.append(message)
        if accepted:
            for refused in await self._sink.apply(accepted):
                letter = DeadLetter(refused.reason, refused.detail, sources[refused.index])
                rejected.append(self._reject(letter))
        if rejected:
            await publish_all(self._dead_letters, rejected)

    def _check(
        self, stream: Stream, message: SourceMessage, latest_allowed_ms: int
    ) -> Event | DeadLetter:
        try:
            record_headers.check(message.headers)
            event = contract.parse(stream, message.value or b"")
        except MalformedEvent as exc:
            return self._reject(DeadLetter(exc.reason, exc.detail, message))
        except Exception as exc:  # a validator bug must not stop consumption
            log.exception("validator failed on %s", _where(message))
            return self._reject(DeadLetter(Reason.INTERNAL_ERROR, repr(exc), message))
        if event.ts_ms > latest_allowed_ms:
            ahead_s = (event.ts_ms - latest_allowed_ms) / 1000 + FUTURE_TOLERANCE_MS / 1000
            detail = f"ts: {ahead_s:.0f}s ahead of the wall clock (limit 600s)"
            return self._reject(DeadLetter(Reason.FROM_FUTURE, detail, message))
        self._metrics.events.labels(message.topic, event.type).inc()
        return event

    def _reject(self, letter: DeadLetter) -> DeadLetter:
        message = letter.message
        self._metrics.dead_letters.labels(message.topic, letter.reason).inc()
        log.info("dead letter %s: %s (%s)", _where(message), letter.reason, letter.detail)
        return letter


def _where(message: SourceMessage) -> str:
    return f"{message.topic}[{message.partition}]@{message.offset}"
