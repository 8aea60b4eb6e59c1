"""The input event contract (SCORING.md §1 "Time", §2 "Events"): decode, validate, normalise.

``parse(stream, raw)`` turns one Kafka message into an ``Event`` or raises
``MalformedEvent(reason, detail)`` with a stable ``Reason`` code for the dead-letter
headers. The first breach wins, in a fixed order: size, decoding, the envelope
(``event_id``, ``type``, ``ts``), the type's required fields in table order, its
optional fields, then the cross-field rules (``paid_at``, ``requested_at``).

    >>> ev = parse(Stream.LIVESTREAM, b'{"event_id":"e1","type":"live.ended",'
    ...            b'"ts":"2024-05-01T08:00:00+08:00","room_id":"r1","creator_id":"c1"}')
    >>> ev.ts_ms, ev.anchor_ms, anchor_day(ev.anchor_ms)
    (1714521600000, 1714521600000, 19844)

Decisions where SCORING.md is silent:

- Unknown extra fields are accepted and ignored (forward compatibility).
- A nullable field (``creator_id`` in order fields; ``shop_id`` in ``live.started`` and
  ``live.violation``) must be present; only its value may be null. Optional fields
  (``listing_quality``, ``brand_authorized``; ``paid_at`` on ``order.paid``) may be
  absent but not null. Null anywhere else is ``wrong_type``.
- Integers must be JSON integers: a bool or a float (even ``2.0``) is ``wrong_type``;
  any integer above 2**53 is ``out_of_range``; money (``*_fen``) below 0 is
  ``negative_money``. A non-string in an id or enum field is ``wrong_type``.
- A timestamp is an integer of epoch ms in [0, 253402300799999], or an RFC 3339 string
  ``YYYY-MM-DD(T| )hh:mm:ss[.fraction](Z|±hh:mm)`` in the same range (upper-case ``T``
  and ``Z``; 1-9 fraction digits, truncated to the ms; no leap second ``:60``).
  A float is ``bad_timestamp``; null, a bool, an array or an object is ``wrong_type``.
- Every timestamp field is rewritten in ``body`` as int epoch ms. ``order.paid`` gets
  ``paid_at = ts`` when absent; a present one must equal ``ts`` to the ms.
- A missing ``type`` is ``missing_field``; a non-string or unknown one is ``unknown_type``.
- ``invalid_utf8`` is decided once the decoder has rejected the bytes, by decoding them
  as UTF-8; every other rejection by the decoder is ``invalid_json``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from operator import itemgetter
from reprlib import Repr
from types import MappingProxyType
from typing import Any, Final

from models.counting import QUALITY_REASONS
from streams import codec
from streams.errors import MalformedEvent


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
    # Decided after parsing, by the time rules of SCORING.md §1 and by the intake:
    FROM_FUTURE = "from_future"  # ts more than 10 minutes ahead of the wall clock
    TOO_LATE = "too_late"  # anchor day older than 90 days before the as-of day
    INTERNAL_ERROR = "internal_error"  # the validator itself failed (a bug, logged)


#: Reasons that ``parse`` never gives: later stages decide them.
LATER_REASONS: Final = frozenset({Reason.FROM_FUTURE, Reason.TOO_LATE, Reason.INTERNAL_ERROR})


MAX_MESSAGE_BYTES: Final = 1_048_576
MAX_INT: Final = 2**53
MAX_TS_MS: Final = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


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
    """A valid event and the Kafka position it was read from."""

    event: Event
    topic: str
    partition: int
    offset: int


def anchor_day(anchor_ms: int) -> int:
    """The calendar day at UTC+08:00 of an anchor (SCORING.md §1)."""
    return (anchor_ms + 28_800_000) // 86_400_000


# --- value checkers: (field, value) -> value, normalised; raise on a breach ------------

Check = Callable[[str, Any], Any]
Rule = Callable[[dict[str, Any]], None]

_ID_PATTERN: Final = r"[A-Za-z0-9._:-]{1,64}"
_ID_MATCH: Final = re.compile(_ID_PATTERN).fullmatch
# Positions only: fromisoformat checks the digits, _OFFSET_MS the offset; the shape
# rules out its other ISO 8601 forms (basic, week dates, no seconds, "," or "+0800").
_RFC3339_MATCH: Final = re.compile(
    r"....-..-..[T ]..:..:..(?:\.[0-9]{1,9})?(?:Z|[+-]..:..)"
).fullmatch
_FROM_ISO: Final = datetime.fromisoformat
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH: Final = datetime(1970, 1, 1)
_OFFSET_MS: Final = {  # every RFC 3339 numeric offset: "+08:00" -> 28_800_000
    f"{sign}{h:02}:{m:02}": (h * 60 + m) * (60_000 if sign == "+" else -60_000)
    for sign in "+-"
    for h in range(24)
    for m in range(60)
}
_JSON_TYPES: Final = {str: "string", int: "integer", float: "number", bool: "boolean",
                      list: "array", dict: "object"}  # fmt: skip
_REPR: Final = Repr()
_REPR.maxstring = _REPR.maxother = 80


def _show(value: Any) -> str:
    """A value for a detail message: its JSON type and a repr cut to ~80 chars."""
    if value is None:
        return "null"
    return f"{_JSON_TYPES.get(type(value), type(value).__name__)} {_REPR.repr(value)[:80]}"


def _fail(reason: Reason, name: str, message: str) -> MalformedEvent:
    return MalformedEvent(reason, f"{name}: {message}")


def _wrong_type(name: str, expected: str, value: Any) -> MalformedEvent:
    return _fail(Reason.WRONG_TYPE, name, f"expected {expected}, got {_show(value)}")


def _id(name: str, value: Any) -> Any:
    if type(value) is not str:
        raise _wrong_type(name, "an id string", value)
    if _ID_MATCH(value) is None:
        raise _fail(Reason.BAD_ID, name, f"{_show(value)} is not 1-64 chars of [A-Za-z0-9._:-]")
    return value


def _nullable_id(name: str, value: Any) -> Any:
    return value if value is None else _id(name, value)


def _bool(name: str, value: Any) -> Any:
    if type(value) is not bool:
        raise _wrong_type(name, "a boolean", value)
    return value


def _int_in(low: int, high: int) -> Check:
    def check(name: str, value: Any) -> Any:
        if type(value) is not int:
            raise _wrong_type(name, "an integer", value)
        if not low <= value <= high:
            raise _fail(Reason.OUT_OF_RANGE, name, f"{value} not in [{low}, {high}]")
        return value

    return check


def _money(name: str, value: Any) -> Any:
    if type(value) is not int:
        raise _wrong_type(name, "an integer of fen", value)
    if value < 0:
        raise _fail(Reason.NEGATIVE_MONEY, name, f"{value} < 0")
    if value > MAX_INT:
        raise _fail(Reason.OUT_OF_RANGE, name, f"{value} > 2**53")
    return value


def _enum(*allowed: str) -> Check:
    values = frozenset(allowed)

    def check(name: str, value: Any) -> Any:
        if type(value) is not str:
            raise _wrong_type(name, "a string", value)
        if value not in values:
            raise _fail(Reason.BAD_ENUM, name, f"{_show(value)} not one of {'/'.join(allowed)}")
        return value

    return check


def _timestamp(name: str, value: Any) -> Any:
    """An RFC 3339 string or int epoch ms -> int epoch ms."""
    if type(value) is int:
        ms = value
    elif type(value) is str:
        ms = _rfc3339_ms(value)
    elif type(value) is float:
        raise _fail(Reason.BAD_TIMESTAMP, name, f"{_show(value)} is not an integer of ms")
    else:
        raise _wrong_type(name, "an RFC 3339 string or epoch ms", value)
    if not 0 <= ms <= MAX_TS_MS:
        raise _fail(
            Reason.BAD_TIMESTAMP, name, f"{_show(value)} is not RFC 3339 or epoch ms, 1970-9999"
        )
    return ms


def _rfc3339_ms(text: str) -> int:
    """Epoch ms of an RFC 3339 string; -1 (out of range, for the caller) if it is not one."""
    if _RFC3339_MATCH(text) is None:
        return -1
    try:
        if text[-1] == "Z":  # parses to UTC, _EPOCH's own tzinfo: a cheap subtraction
            delta, offset_ms = _FROM_ISO(text) - _EPOCH, 0
        else:  # half the cost of subtracting datetimes in two zones
            delta, offset_ms = _FROM_ISO(text[:-6]) - _NAIVE_EPOCH, _OFFSET_MS[text[-6:]]
    except (ValueError, KeyError, TypeError):  # TypeError: an aware "naive" part
        return -1
    ms: int = delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000
    return ms - offset_ms


# --- cross-field rules, run once every field is checked and normalised -----------------


def _not_after_ts(name: str, reason: Reason) -> Rule:
    def rule(body: dict[str, Any]) -> None:
        if body[name] > body["ts"]:
            raise _fail(reason, name, f"{body[name]} > ts {body['ts']}")

    return rule


def _paid_at_is_ts(body: dict[str, Any]) -> None:
    paid_at = body.setdefault("paid_at", body["ts"])
    if paid_at != body["ts"]:
        raise _fail(Reason.PAID_AT_MISMATCH, "paid_at", f"{paid_at} != ts {body['ts']}")


# --- the table: SCORING.md §2, one spec per type ---------------------------------------

Fields = tuple[tuple[str, Check], ...]


@dataclass(frozen=True, slots=True)
class _Spec:
    """A type's table, and its fast path: every plain id checked by one regex call over
    their NUL-joined values; the other fields (``rest``) one by one, in table order."""

    stream: Stream
    required: Fields
    optional: Fields
    rules: tuple[Rule, ...]
    anchor: str
    rest: Fields
    id_values: Callable[[dict[str, Any]], tuple[Any, ...]]
    ids_match: Callable[[str], object]


def _spec(
    stream: Stream,
    *required: tuple[str, Check],
    optional: Fields = (),
    rules: tuple[Rule, ...] = (),
    anchor: str = "ts",
) -> _Spec:
    ids = [name for name, check in required if check is _id]  # >= 2: itemgetter gives a tuple
    rest = tuple((name, check) for name, check in required if check is not _id)
    ids_match = re.compile("\x00".join([_ID_PATTERN] * len(ids))).fullmatch
    return _Spec(stream, required, optional, rules, anchor, rest, itemgetter(*ids), ids_match)


# The envelope leads every table (``type`` itself is checked by looking the table up).
_ENVELOPE: Final[Fields] = (("event_id", _id), ("ts", _timestamp))
_ORDER: Final[Fields] = (
    *_ENVELOPE,
    *(("order_id", _id), ("shop_id", _id), ("product_id", _id), ("creator_id", _nullable_id)),
)
_ROOM: Final[Fields] = (*_ENVELOPE, ("room_id", _id), ("creator_id", _id))
_PAID_AT: Final = ("paid_at", _timestamp)
_PAID_AT_NOT_AFTER_TS: Final = _not_after_ts("paid_at", Reason.PAID_AT_AFTER_TS)
_REFUND_REASONS: Final = (*sorted(QUALITY_REASONS), "damaged_in_transit", "no_reason", "other")


def _order(stream: Stream, *fields: tuple[str, Check], rules: tuple[Rule, ...] = ()) -> _Spec:
    rules = (_PAID_AT_NOT_AFTER_TS, *rules)
    return _spec(stream, *_ORDER, _PAID_AT, *fields, rules=rules, anchor="paid_at")


def _live(*fields: tuple[str, Check]) -> _Spec:
    return _spec(Stream.LIVESTREAM, *_ROOM, *fields)


# fmt: off
_SPECS: Final[Mapping[str, _Spec]] = {
    "order.paid": _spec(
        Stream.ORDERS, *_ORDER, ("category_id", _id), ("channel", _enum("live", "video", "shelf")),
        ("quantity", _int_in(1, MAX_INT)), ("amount_fen", _money), ("freight_fen", _money),
        ("ship_by", _timestamp), ("promised_by", _timestamp),
        optional=(_PAID_AT, ("listing_quality", _int_in(0, 100)), ("brand_authorized", _bool)),
        rules=(_paid_at_is_ts,), anchor="paid_at"),
    "order.cancelled": _order(
        Stream.ORDERS, ("cancelled_by", _enum("buyer", "merchant", "system"))),
    "order.completed": _order(Stream.ORDERS),
    "order.reviewed": _order(Stream.ORDERS, ("rating", _int_in(1, 5))),
    "shipment.collected": _order(Stream.SHIPPING, ("ship_by", _timestamp)),
    "shipment.delivered": _order(Stream.SHIPPING, ("promised_by", _timestamp)),
    "shipment.exception": _order(
        Stream.SHIPPING, ("kind", _enum("lost", "damaged", "returned", "delayed")),
        ("carrier_fault", _bool)),
    "refund.requested": _order(
        Stream.REFUNDS, ("refund_id", _id), ("reason", _enum(*_REFUND_REASONS)),
        ("refund_only", _bool), ("amount_fen", _money)),
    "refund.resolved": _order(
        Stream.REFUNDS, ("refund_id", _id), ("requested_at", _timestamp),
        ("outcome", _enum("approved", "rejected")), ("resolved_by", _enum("merchant", "platform")),
        ("merchant_liable", _bool), ("amount_fen", _money),
        rules=(_not_after_ts("requested_at", Reason.REQUESTED_AT_AFTER_TS),)),
    "live.started": _live(("shop_id", _nullable_id), ("mode", _enum("self", "distribution"))),
    "live.stats": _live(("viewer_minutes", _int_in(0, MAX_INT))),
    "live.ended": _live(),
    "live.report": _live(("reason", _enum("misleading", "vulgar", "other"))),
    "live.violation": _live(
        ("shop_id", _nullable_id), ("severity", _enum("minor", "major", "severe"))),
}
# fmt: on
TYPES_BY_STREAM: Final[Mapping[Stream, frozenset[str]]] = MappingProxyType(
    {s: frozenset(t for t, spec in _SPECS.items() if spec.stream is s) for s in Stream}
)


# --- parse -----------------------------------------------------------------------------


def parse(stream: Stream, raw: bytes) -> Event:
    """Decode and validate one message; raise MalformedEvent(reason, detail) on any breach."""
    body = _decode(raw)
    type_: Any = body.get("type")
    spec = _SPECS.get(type_) if type(type_) is str else None
    if spec is None or spec.stream != stream:
        raise _bad_type(stream, body)
    _check_fields(body, spec)
    return _new_event(spec.stream, body["event_id"], type_, body["ts"], body[spec.anchor], body)


def _decode(raw: bytes) -> dict[str, Any]:
    try:
        size = len(raw)
    except TypeError:  # a tombstone (None) or another non-buffer
        raise MalformedEvent(Reason.INVALID_JSON, f"value is {_show(raw)}, not bytes") from None
    if size > MAX_MESSAGE_BYTES:
        raise MalformedEvent(Reason.TOO_LARGE, f"{size} bytes > {MAX_MESSAGE_BYTES}")
    try:
        body = codec.loads(raw)
    except codec.JSONDecodeError as exc:
        raise _undecodable(raw, exc) from exc
    if type(body) is not dict:
        raise MalformedEvent(Reason.NOT_AN_OBJECT, f"top level is {_show(body)}")
    return body


def _undecodable(raw: bytes, exc: ValueError) -> MalformedEvent:
    try:
        bytes(raw).decode("utf-8")
    except UnicodeDecodeError as bad:
        return MalformedEvent(Reason.INVALID_UTF8, f"byte {bad.start}: {bad.reason}")
    except TypeError:  # not a buffer at all
        pass
    return MalformedEvent(Reason.INVALID_JSON, str(exc)[:160])


def _bad_type(stream: Stream, body: dict[str, Any]) -> MalformedEvent:
    """The first breach of a message whose type is missing, unknown or on another stream."""
    if "event_id" not in body:
        return _fail(Reason.MISSING_FIELD, "event_id", "missing")
    _id("event_id", body["event_id"])  # checked before the type
    if "type" not in body:
        return _fail(Reason.MISSING_FIELD, "type", "missing")
    type_ = body["type"]
    spec = _SPECS.get(type_) if type(type_) is str else None
    if spec is None:
        return _fail(Reason.UNKNOWN_TYPE, "type", f"{_show(type_)} is not a known type")
    return _fail(Reason.WRONG_TOPIC, "type", f"{type_} belongs on {spec.stream}, not {stream}")


def _check_fields(body: dict[str, Any], spec: _Spec) -> None:
    if not _ids_valid(body, spec):
        _check_each(body, spec.required)  # slow path: raises the first breach in table order
    _check_each(body, spec.rest)
    for name, check in spec.optional:
        if name in body:
            body[name] = check(name, body[name])
    for rule in spec.rules:
        rule(body)


def _ids_valid(body: dict[str, Any], spec: _Spec) -> bool:
    """Whether every plain id is present and valid (NUL is in no valid id)."""
    try:
        return spec.ids_match("\x00".join(spec.id_values(body))) is not None
    except (KeyError, TypeError):
        return False


def _check_each(body: dict[str, Any], fields: Fields) -> None:
    for name, check in fields:
        try:
            value = body[name]
        except KeyError:
            raise _fail(Reason.MISSING_FIELD, name, "missing") from None
        out = check(name, value)
        if out is not value:  # a normalised timestamp
            body[name] = out


_SET_STREAM, _SET_ID, _SET_TYPE, _SET_TS, _SET_ANCHOR, _SET_BODY = (
    Event.__dict__[name].__set__ for name in Event.__slots__
)


def _new_event(
    stream: Stream, event_id: str, type_: str, ts_ms: int, anchor_ms: int, body: dict[str, Any]
) -> Event:
    """``Event(...)`` at half the cost: the frozen ``__init__`` calls ``object.__setattr__``
    per field; the slot descriptors are the same store, reached directly."""
    event: Event = object.__new__(Event)
    _SET_STREAM(event, stream)
    _SET_ID(event, event_id)
    _SET_TYPE(event, type_)
    _SET_TS(event, ts_ms)
    _SET_ANCHOR(event, anchor_ms)
    _SET_BODY(event, body)
    return event
