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

The vocabulary (``Event``, ``Reason``, ``anchor_day``) is ``streams.events``; the
value checkers are ``streams.intake.checks`` and the per-type table
``streams.intake.table``; this module is the parser that runs them in order.

Decisions where SCORING.md is silent:

- Unknown extra fields are accepted and ignored (forward compatibility).
- A nullable field (``creator_id`` in order fields; ``shop_id`` in ``live.started`` and
  ``live.violation``) must be present; only its value may be null. Optional fields
  (``listing_quality``, ``brand_authorized``; ``paid_at`` on ``order.paid``) may be
  absent but not null. Null anywhere else is ``wrong_type``.
- Integers must be JSON integers: a bool or a float (even ``2.0``) is ``wrong_type``;
  any integer above 2**53 is ``out_of_range``; money (``*_fen``) below 0 is
  ``negative_money``. Per event, money above 10**10 fen, a ``quantity`` above 10**6
  and ``viewer_minutes`` above 10**9 are ``out_of_range`` too (``checks.MAX_*``).
  A non-string in an id or enum field is ``wrong_type``.
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

from typing import Any, Final

from streams import codec
from streams.errors import MalformedEvent
from streams.events import Event, Reason, Stream
from streams.intake.checks import fail, identifier, show
from streams.intake.table import SPECS, Fields, Spec

MAX_MESSAGE_BYTES: Final = 1_048_576


# --- parse -----------------------------------------------------------------------------


def parse(stream: Stream, raw: bytes) -> Event:
    """Decode and validate one message; raise MalformedEvent(reason, detail) on any breach."""
    body = _decode(raw)
    type_: Any = body.get("type")
    spec = SPECS.get(type_) if type(type_) is str else None
    if spec is None or spec.stream != stream:
        raise _bad_type(stream, body)
    _check_fields(body, spec)
    return _new_event(spec.stream, body["event_id"], type_, body["ts"], body[spec.anchor], body)


def _decode(raw: bytes) -> dict[str, Any]:
    try:
        size = len(raw)
    except TypeError:  # a tombstone (None) or another non-buffer
        raise MalformedEvent(Reason.INVALID_JSON, f"value is {show(raw)}, not bytes") from None
    if size > MAX_MESSAGE_BYTES:
        raise MalformedEvent(Reason.TOO_LARGE, f"{size} bytes > {MAX_MESSAGE_BYTES}")
    try:
        body = codec.loads(raw)
    except codec.JSONDecodeError as exc:
        raise _undecodable(raw, exc) from exc
    if type(body) is not dict:
        raise MalformedEvent(Reason.NOT_AN_OBJECT, f"top level is {show(body)}")
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
        return fail(Reason.MISSING_FIELD, "event_id", "missing")
    identifier("event_id", body["event_id"])  # checked before the type
    if "type" not in body:
        return fail(Reason.MISSING_FIELD, "type", "missing")
    type_ = body["type"]
    spec = SPECS.get(type_) if type(type_) is str else None
    if spec is None:
        return fail(Reason.UNKNOWN_TYPE, "type", f"{show(type_)} is not a known type")
    return fail(Reason.WRONG_TOPIC, "type", f"{type_} belongs on {spec.stream}, not {stream}")


def _check_fields(body: dict[str, Any], spec: Spec) -> None:
    if not _ids_valid(body, spec):
        _check_each(body, spec.required)  # slow path: raises the first breach in table order
    _check_each(body, spec.rest)
    for name, check in spec.optional:
        if name in body:
            body[name] = check(name, body[name])
    for rule in spec.rules:
        rule(body)


def _ids_valid(body: dict[str, Any], spec: Spec) -> bool:
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
            raise fail(Reason.MISSING_FIELD, name, "missing") from None
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
