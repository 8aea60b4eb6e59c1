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

import collections
import logging
from collections.abc import Callable, Sequence

from streams.errors import Interrupted, MalformedEvent, never
from streams.events import Event, EventSink, Reason, Rejection, SourcedEvent, Stream
from streams.intake import contract
from streams.intake import headers as record_headers
from streams.intake.deadletter import DeadLetter
from streams.intake.delivery import TRUNCATED_BYTES, DeadLetterSender
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
        stopping: Callable[[], bool] = never,
        max_message_bytes: int = 2 * TRUNCATED_BYTES,
        topic_generation: int = 0,
    ) -> None:
        """``topic_generation``: stamped on every event (its watermarks' topic identity)."""
        self._sink = sink
        self._generation = topic_generation
        truncate_to = min(TRUNCATED_BYTES, max_message_bytes // 2)
        self._dead_letters = DeadLetterSender(dead_letters, metrics, stopping, truncate_to)
        self._metrics = metrics
        self._clock_ms = clock_ms

    async def process(self, stream: Stream, batch: Sequence[SourceMessage]) -> None:
        """Validate a batch, hand the good part on, dead-letter the rest."""
        accepted: list[SourcedEvent] = []
        sources: list[SourceMessage] = []
        rejected: list[DeadLetter] = []
        latest_allowed_ms = self._clock_ms() + FUTURE_TOLERANCE_MS
        passed: collections.Counter[tuple[str, str]] = collections.Counter()
        for message in batch:
            outcome = self._check(stream, message, latest_allowed_ms)
            if isinstance(outcome, DeadLetter):
                rejected.append(outcome)
            else:
                position = (message.topic, message.partition, message.offset, self._generation)
                accepted.append(SourcedEvent(outcome, *position))
                sources.append(message)
                passed[message.topic, outcome.type] += 1
        for (topic, event_type), n in passed.items():  # once per label pair, not per event
            self._metrics.events.labels(topic, event_type).inc(n)
        if accepted:
            for refused in await self._apply(accepted):
                letter = DeadLetter(refused.reason, refused.detail, sources[refused.index])
                rejected.append(self._reject(letter))
        if rejected:
            await self._dead_letters.publish(rejected)

    async def _apply(self, accepted: Sequence[SourcedEvent]) -> Sequence[Rejection]:
        """The sink's rejections; all of the batch as ``internal_error`` when the sink fails.

        The sink retries what can succeed (Redis away, OOM, READONLY: streams.errors)
        and raises ``Interrupted`` when the worker stops; anything else it raises
        (a Lua script bug: ``StoreRejected``, a scoring bug) cannot pass on retrying.
        Parts of such a batch may have been applied (entities whose update succeeded).
        """
        try:
            return await self._sink.apply(accepted)
        except Interrupted:
            raise
        except Exception as exc:
            first = accepted[0]
            where = f"{first.topic}[{first.partition}]@{first.offset}"
            log.exception(
                "batch of %d from %s dead-lettered: the store failed", len(accepted), where
            )
            detail = f"store failed on the batch: {exc!r}"
            return [Rejection(i, Reason.INTERNAL_ERROR, detail) for i in range(len(accepted))]

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
        return event

    def _reject(self, letter: DeadLetter) -> DeadLetter:
        message = letter.message
        self._metrics.dead_letters.labels(message.topic, letter.reason).inc()
        log.info("dead letter %s: %s (%s)", _where(message), letter.reason, letter.detail)
        return letter


def _where(message: SourceMessage) -> str:
    return f"{message.topic}[{message.partition}]@{message.offset}"
