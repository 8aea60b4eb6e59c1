"""Publishing dead letters when Kafka fails: retry, truncate, or count and log.

- A transient Kafka error (connection, timeout, leader moving) is retried with
  backoff until it succeeds or the worker stops (``Interrupted``: the batch is
  left unacknowledged and re-delivered).
- A record refused for good because of its size (``MessageSizeTooLargeError``,
  from the client or the broker) is dead-lettered as a truncated copy: the first
  ``TRUNCATED_BYTES`` of its value (at most half the producer's request size
  limit, ``VANE_MAX_MESSAGE_BYTES``), with the header ``vane.truncated`` = the
  original size in bytes, every other header as usual.
- Any other refusal, or a truncated copy refused again, is counted
  (``vane_publish_errors_total{topic="dlq",outcome="dropped"}``) and logged with
  the source topic, partition and offset; consumption goes on.

A batch that was refused is re-sent one letter at a time to find the refused
ones, so the others can reach the dead-letter topic twice (at-least-once).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from streams.errors import KafkaUnavailable, PublishRejected, never
from streams.intake.deadletter import HEADER_PREFIX, DeadLetter
from streams.kafka import publish
from streams.metrics import Metrics
from streams.topics import Headers, Publisher, send_all

log = logging.getLogger(__name__)

TRUNCATED_BYTES = 64 * 1024  # under any broker's limit, enough to see what it was
TRUNCATED_HEADER = HEADER_PREFIX + "truncated"

Record = tuple[bytes | None, bytes | None, Headers]


@dataclass(frozen=True, slots=True)
class DeadLetterSender:
    """Publishes batches of dead letters under the policy of the module docstring."""

    publisher: Publisher
    metrics: Metrics
    stopping: Callable[[], bool] = never
    truncate_to: int = TRUNCATED_BYTES

    async def publish(self, letters: Sequence[DeadLetter]) -> None:
        """Publish and wait for the broker; raises only ``Interrupted``."""
        try:
            await self._send([_record(d) for d in letters])
        except PublishRejected:
            for letter in letters:
                await self._send_one(letter)

    async def _send_one(self, letter: DeadLetter) -> None:
        try:
            await self._send([_record(letter)])
        except PublishRejected as exc:
            if not exc.too_large:
                self._count(exc, "dropped", letter)
                return
            self._count(exc, "truncated", letter)
            try:
                await self._send([truncated(letter, self.truncate_to)])
            except PublishRejected as again:
                self._count(again, "dropped", letter)

    async def _send(self, records: list[Record]) -> None:
        await publish.retrying(
            lambda: send_all(self.publisher, records),
            stopping=self.stopping,
            on_retry=self._retried,
        )

    def _retried(self, exc: KafkaUnavailable) -> None:
        self.metrics.publish_errors.labels("dlq", exc.kind, "retried").inc()

    def _count(self, exc: PublishRejected, outcome: str, letter: DeadLetter) -> None:
        msg = letter.message
        where = f"{msg.topic}[{msg.partition}]@{msg.offset}"
        log.error("dead letter of %s %s: %s", where, outcome, exc)
        self.metrics.publish_errors.labels("dlq", exc.kind, outcome).inc()


def _record(letter: DeadLetter) -> Record:
    return letter.message.key, letter.message.value, letter.headers()


def truncated(letter: DeadLetter, size: int = TRUNCATED_BYTES) -> Record:
    """The letter's record with its value cut to ``size`` bytes, its original size noted."""
    value = letter.message.value or b""
    headers = [*letter.headers(), (TRUNCATED_HEADER, str(len(value)).encode())]
    return letter.message.key, value[:size], headers
