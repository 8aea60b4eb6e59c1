"""The event vocabulary every stage speaks: streams, events, reasons, the anchor day, the sink.

    >>> anchor_day(1714521600000)  # 2024-05-01T08:00:00+08:00
    19844

An ``Event`` is one valid input event (``streams.intake.contract.parse`` makes
them); a ``SourcedEvent`` is one with the Kafka position it was read from. The
intake hands batches of them to an ``EventSink`` (the scoring stage), which
answers with the ``Rejection`` of each event it refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Final, Protocol


class Stream(StrEnum):
    """The four input topics."""

    ORDERS = "orders"
    SHIPPING = "shipping"
    REFUNDS = "refunds"
    LIVESTREAM = "livestream"


class Reason(StrEnum):
    """Why a message is malformed: stable codes for the dead-letter headers."""

    TOO_LARGE = "too_large"
    INVALID_UTF8 = "invalid_utf8"
    INVALID_JSON = "invalid_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_TYPE = "unknown_type"
    WRONG_TOPIC = "wrong_topic"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    BAD_ID = "bad_id"
    BAD_TIMESTAMP = "bad_timestamp"
    NEGATIVE_MONEY = "negative_money"
    OUT_OF_RANGE = "out_of_range"
    BAD_ENUM = "bad_enum"
    PAID_AT_AFTER_TS = "paid_at_after_ts"
    PAID_AT_MISMATCH = "paid_at_mismatch"
    REQUESTED_AT_AFTER_TS = "requested_at_after_ts"
    # Decided outside ``parse``: by the intake, and by the time rules of SCORING.md §1:
    BAD_HEADER = "bad_header"  # a record header key that is not UTF-8 (checked before the value)
    FROM_FUTURE = "from_future"  # ts more than 10 minutes ahead of the wall clock
    TOO_LATE = "too_late"  # anchor day older than 90 days before the as-of day
    INTERNAL_ERROR = "internal_error"  # the validator itself failed (a bug, logged)


#: Reasons that ``parse`` never gives: the intake or later stages decide them.
LATER_REASONS: Final = frozenset(
    {Reason.BAD_HEADER, Reason.FROM_FUTURE, Reason.TOO_LATE, Reason.INTERNAL_ERROR}
)

EntityKey = tuple[str, str]  # (entity_type, entity_id)


@dataclass(frozen=True, slots=True)
class Event:
    """One valid input event; ``body`` is the decoded object, timestamps as epoch ms."""

    stream: Stream
    event_id: str
    type: str
    ts_ms: int
    anchor_ms: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SourcedEvent:
    """A valid event and the Kafka position it was read from.

    ``generation`` is the topic's generation (``VANE_TOPIC_GENERATION``): with the
    topic's name, what tells a recreated topic's offsets from the old one's.
    """

    event: Event
    topic: str
    partition: int
    offset: int
    generation: int = 0


def anchor_day(anchor_ms: int) -> int:
    """The calendar day at UTC+08:00 of an anchor (SCORING.md §1)."""
    return (anchor_ms + 28_800_000) // 86_400_000


_DAY_ZERO = date(1970, 1, 1)  # day 0 is 1970-01-01 at UTC+08:00


def day_text(day: int) -> str:
    """A day number (``anchor_day``) as its UTC+08:00 calendar date, for people and logs.

    day_text(anchor_day(1795312800000))  # '2026-11-22' (10:00 at UTC+08:00)
    """
    return (_DAY_ZERO + timedelta(days=day)).isoformat()


@dataclass(frozen=True, slots=True)
class Rejection:
    """A valid event the next stage refused: its index in the batch and why."""

    index: int
    reason: str
    detail: str


class EventSink(Protocol):
    """The stage after validation: applies a batch, returns what it refused."""

    async def apply(self, batch: Sequence[SourcedEvent]) -> Sequence[Rejection]: ...
