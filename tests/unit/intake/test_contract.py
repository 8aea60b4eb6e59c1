"""The input event contract (SCORING.md §1-2), as tables: what parses, what is refused, why."""

from __future__ import annotations

import ast
import re
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.counting import QUALITY_REASONS
from streams import codec, events
from streams.errors import MalformedEvent
from streams.events import Event, Reason, Stream, anchor_day
from streams.intake import checks, contract, table
from streams.intake.contract import MAX_MESSAGE_BYTES, parse
from streams.intake.table import TYPES_BY_STREAM

PAID, PAID_MS = "2024-05-01T10:00:00+08:00", 1_714_528_800_000
TS, TS_MS = "2024-05-02T01:30:00Z", 1_714_613_400_000
MAX_TS_MS = 253_402_300_799_999
DROP = object()  # as a change: remove the field

_ORDER = {"order_id": "o-1", "shop_id": "shop.1", "product_id": "p:1", "creator_id": None,
          "paid_at": PAID}  # fmt: skip
_ROOM = {"room_id": "room_1", "creator_id": "cr-1"}
EXTRA: dict[str, dict[str, Any]] = {
    "order.paid": {**_ORDER, "ts": PAID, "category_id": "cat-7", "channel": "live",
                   "quantity": 2, "amount_fen": 15900, "freight_fen": 0,
                   "ship_by": "2024-05-03T10:00:00+08:00", "promised_by": 1_714_960_800_000,
                   "listing_quality": 80, "brand_authorized": True},
    "order.cancelled": {**_ORDER, "cancelled_by": "system"},
    "order.completed": {**_ORDER},
    "order.reviewed": {**_ORDER, "rating": 2},
    "shipment.collected": {**_ORDER, "ship_by": "2024-05-03 10:00:00+08:00"},
    "shipment.delivered": {**_ORDER, "promised_by": "2024-05-06T02:00:00Z"},
    "shipment.exception": {**_ORDER, "kind": "lost", "carrier_fault": False},
    "refund.requested": {**_ORDER, "refund_id": "rf-1", "reason": "counterfeit",
                         "refund_only": True, "amount_fen": 100},
    "refund.resolved": {**_ORDER, "refund_id": "rf-1", "requested_at": PAID,
                        "outcome": "approved", "resolved_by": "platform",
                        "merchant_liable": True, "amount_fen": 100},
    "live.started": {**_ROOM, "shop_id": None, "mode": "distribution"},
    "live.stats": {**_ROOM, "viewer_minutes": 0},
    "live.ended": {**_ROOM},
    "live.report": {**_ROOM, "reason": "vulgar"},
    "live.violation": {**_ROOM, "shop_id": "shop.1", "severity": "severe"},
}  # fmt: skip
HOME = {"order": Stream.ORDERS, "shipment": Stream.SHIPPING, "refund": Stream.REFUNDS,
        "live": Stream.LIVESTREAM}  # fmt: skip

# Required fields per type and their kind, straight from SCORING.md §2.
ID, NULL_ID, TIME, INT, MONEY, ENUM, BOOL = "id", "null_id", "time", "int", "money", "enum", "bool"
_ORDER_KINDS = {"order_id": ID, "shop_id": ID, "product_id": ID, "creator_id": NULL_ID,
                "paid_at": TIME}  # fmt: skip
_ROOM_KINDS = {"room_id": ID, "creator_id": ID}
REQUIRED: dict[str, dict[str, str]] = {
    "order.paid": {**_ORDER_KINDS, "category_id": ID, "channel": ENUM, "quantity": INT,
                   "amount_fen": MONEY, "freight_fen": MONEY, "ship_by": TIME,
                   "promised_by": TIME},
    "order.cancelled": {**_ORDER_KINDS, "cancelled_by": ENUM},
    "order.completed": {**_ORDER_KINDS},
    "order.reviewed": {**_ORDER_KINDS, "rating": INT},
    "shipment.collected": {**_ORDER_KINDS, "ship_by": TIME},
    "shipment.delivered": {**_ORDER_KINDS, "promised_by": TIME},
    "shipment.exception": {**_ORDER_KINDS, "kind": ENUM, "carrier_fault": BOOL},
    "refund.requested": {**_ORDER_KINDS, "refund_id": ID, "reason": ENUM, "refund_only": BOOL,
                         "amount_fen": MONEY},
    "refund.resolved": {**_ORDER_KINDS, "refund_id": ID, "requested_at": TIME, "outcome": ENUM,
                        "resolved_by": ENUM, "merchant_liable": BOOL, "amount_fen": MONEY},
    "live.started": {**_ROOM_KINDS, "shop_id": NULL_ID, "mode": ENUM},
    "live.stats": {**_ROOM_KINDS, "viewer_minutes": INT},
    "live.ended": {**_ROOM_KINDS},
    "live.report": {**_ROOM_KINDS, "reason": ENUM},
    "live.violation": {**_ROOM_KINDS, "shop_id": NULL_ID, "severity": ENUM},
}  # fmt: skip
del REQUIRED["order.paid"]["paid_at"]  # optional on order.paid (and then = ts)


def stream_of(type_: str) -> Stream:
    return HOME[type_.split(".")[0]]


def event(type_: str, **changes: Any) -> dict[str, Any]:
    """A valid body of ``type_`` with ``changes`` applied (``DROP`` removes a field)."""
    body = {"event_id": f"ev-{type_}", "type": type_, "ts": TS, **EXTRA[type_], **changes}
    return {k: v for k, v in body.items() if v is not DROP}


def outcome(stream: Stream, raw: bytes) -> Event | MalformedEvent:
    try:
        return parse(stream, raw)
    except MalformedEvent as exc:
        return exc


def refusal(stream: Stream, raw: bytes) -> MalformedEvent:
    with pytest.raises(MalformedEvent) as caught:
        parse(stream, raw)
    return caught.value


# --- valid events -----------------------------------------------------------------------


@pytest.mark.parametrize("type_", sorted(EXTRA))
def test_a_valid_event_of_each_type_parses(type_: str) -> None:
    ev = parse(stream_of(type_), codec.dumps(event(type_)))
    order_lifecycle = not type_.startswith("live.")
    assert (ev.stream, ev.event_id, ev.type) == (stream_of(type_), f"ev-{type_}", type_)
    assert ev.ts_ms == ev.body["ts"] == (PAID_MS if type_ == "order.paid" else TS_MS)
    assert ev.anchor_ms == (PAID_MS if order_lifecycle else TS_MS)
    times = [f for f, kind in REQUIRED[type_].items() if kind == TIME]
    assert all(type(ev.body[f]) is int for f in times)


@pytest.mark.parametrize(
    ("type_", "changes", "expect"),
    [
        ("order.paid", {"paid_at": DROP}, {"paid_at": PAID_MS}),
        ("order.paid", {"paid_at": "2024-05-01T02:00:00Z"}, {"paid_at": PAID_MS}),
        ("order.paid", {"paid_at": PAID_MS}, {"ts": PAID_MS}),
        ("order.paid", {"creator_id": "cr-9", "quantity": 10**6}, {"quantity": 10**6}),
        ("order.paid", {"amount_fen": 10**10, "listing_quality": 0}, {"amount_fen": 10**10}),
        (
            "order.paid",
            {"listing_quality": 100, "brand_authorized": False},
            {"listing_quality": 100},
        ),
        ("order.reviewed", {"rating": 1}, {"rating": 1}),
        ("order.reviewed", {"rating": 5}, {"rating": 5}),
        ("order.completed", {"paid_at": TS}, {"paid_at": TS_MS}),
        ("refund.resolved", {"requested_at": TS_MS}, {"requested_at": TS_MS}),
        ("refund.requested", {"amount_fen": 0}, {"amount_fen": 0}),
        ("live.stats", {"viewer_minutes": 10**9}, {"viewer_minutes": 10**9}),
        ("live.started", {"shop_id": "shop-2", "mode": "self"}, {"shop_id": "shop-2"}),
        ("live.violation", {"shop_id": None}, {"shop_id": None}),
        ("live.ended", {"room_id": "x" * 64, "creator_id": "A.b_c:d-9"}, {"room_id": "x" * 64}),
        ("live.ended", {"future_field": [1, {"a": None}]}, {"future_field": [1, {"a": None}]}),
        ("live.ended", {"ts": 0}, {"ts": 0}),
        ("live.ended", {"ts": MAX_TS_MS}, {"ts": MAX_TS_MS}),
    ],
)
def test_valid_variants(type_: str, changes: dict[str, Any], expect: dict[str, Any]) -> None:
    body = parse(stream_of(type_), codec.dumps(event(type_, **changes))).body
    assert {k: body[k] for k in expect} == expect


def test_absent_optional_fields_stay_absent() -> None:
    changes = {"listing_quality": DROP, "brand_authorized": DROP}
    body = parse(Stream.ORDERS, codec.dumps(event("order.paid", **changes))).body
    assert "listing_quality" not in body
    assert "brand_authorized" not in body


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T08:00:00+08:00", 0),
        ("1969-12-31T19:00:00-05:00", 0),
        ("1970-01-01T00:00:00-00:00", 0),
        ("2024-05-02 01:30:00Z", TS_MS),
        ("2024-05-02T09:30:00.5+08:00", TS_MS + 500),
        ("2024-05-02T01:30:00.123456789Z", TS_MS + 123),
        ("2024-05-01T20:00:00.9999-05:30", TS_MS + 999),
        ("2024-02-29T00:00:00+14:00", 1_709_114_400_000),
        ("9999-12-31T23:59:59.999Z", MAX_TS_MS),
        ("9999-12-31T23:59:59.999-00:00", MAX_TS_MS),
    ],
)
def test_rfc3339_times_become_epoch_ms(text: str, ms: int) -> None:
    assert parse(Stream.LIVESTREAM, codec.dumps(event("live.ended", ts=text))).ts_ms == ms


@pytest.mark.parametrize(
    ("anchor_ms", "day"),
    [(0, 0), (57_599_999, 0), (57_600_000, 1), (-28_800_000, 0), (-28_800_001, -1),
     (PAID_MS, 19_844), (TS_MS, 19_845)],
)  # fmt: skip
def test_anchor_day_is_the_calendar_day_at_utc_plus_8(anchor_ms: int, day: int) -> None:
    assert anchor_day(anchor_ms) == day


def test_published_constants() -> None:
    assert {"quality", "not_as_described", "wrong_item", "counterfeit"} == QUALITY_REASONS
    assert {t: stream_of(t) for t in EXTRA} == {
        t: s for s, types in TYPES_BY_STREAM.items() for t in types
    }
    assert len({str(r) for r in Reason}) == len(Reason) == 20


def test_a_message_of_exactly_the_limit_is_not_too_large() -> None:
    raw = codec.dumps(event("live.ended", pad=""))
    raw = raw.replace(b'"pad":""', b'"pad":"' + b"x" * (MAX_MESSAGE_BYTES - len(raw)) + b'"')
    assert len(raw) == MAX_MESSAGE_BYTES
    parse(Stream.LIVESTREAM, raw)
    assert refusal(Stream.LIVESTREAM, raw + b" ").reason == Reason.TOO_LARGE


# --- refusals: one case per rule, and every reason ---------------------------------------

RAW_CASES = [
    pytest.param(b" " * (MAX_MESSAGE_BYTES + 1), Reason.TOO_LARGE, id="too-large"),
    pytest.param(b'{"event_id": "\xff"}', Reason.INVALID_UTF8, id="utf8-bad-byte"),
    pytest.param(b'{"a": "\xed\xa0\x80"}', Reason.INVALID_UTF8, id="utf8-surrogate"),
    pytest.param(b'{"a": 1', Reason.INVALID_JSON, id="json-truncated"),
    pytest.param(b"", Reason.INVALID_JSON, id="json-empty"),
    pytest.param(b'{"a": NaN}', Reason.INVALID_JSON, id="json-nan"),
    pytest.param(b'{"a": -Infinity}', Reason.INVALID_JSON, id="json-infinity"),
    pytest.param(b'{"a": 1e400}', Reason.INVALID_JSON, id="json-overflowing-double"),
    pytest.param(b'{"a": "\\ud800"}', Reason.INVALID_JSON, id="json-lone-surrogate-escape"),
    pytest.param(b"[" * 5000 + b"]" * 5000, Reason.INVALID_JSON, id="json-too-deep"),
    pytest.param(b"{} {}", Reason.INVALID_JSON, id="json-trailing-data"),
    pytest.param(b"[]", Reason.NOT_AN_OBJECT, id="array"),
    pytest.param(b'"order.paid"', Reason.NOT_AN_OBJECT, id="string"),
    pytest.param(b"null", Reason.NOT_AN_OBJECT, id="null"),
    pytest.param(b"{}", Reason.MISSING_FIELD, id="empty-object"),
    pytest.param(
        b'{"event_id": "e", "type": "live.stats", "ts": 0, "room_id": "r", '
        b'"creator_id": "c", "viewer_minutes": 18446744073709551616}',
        Reason.WRONG_TYPE,
        id="int-beyond-u64-decodes-as-float",
    ),
]


@pytest.mark.parametrize(("raw", "reason"), RAW_CASES)
def test_undecodable_messages(raw: bytes, reason: Reason) -> None:
    exc = refusal(Stream.LIVESTREAM, raw)
    assert exc.reason == reason
    assert 0 < len(exc.detail) < 200


def test_a_tombstone_is_refused_not_crashed_on() -> None:
    assert refusal(Stream.ORDERS, None).reason == Reason.INVALID_JSON  # type: ignore[arg-type]


BAD_TIMES = [
    *("2024-05-02", "2024-05-02T01:30:00", "20240502T013000Z", "2024-05-02T01:30Z"),
    *("2024-05-02T01:30:00,5Z", "2024-05-02T01:30:00+0800", "2024-05-02T01:30:00+08"),
    *("2024-05-02T01:30:00+08:00:00", "2024-05-02t01:30:00z", "2024-05-02T01:30:00z"),
    *("2024-05-02x01:30:00Z", "2024-W18-4T01:30:00Z", "2024-123T01:30:00Z"),
    *("2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "2024-05-02T24:00:00Z"),
    *("2024-05-02T23:59:60Z", "2024-05-02T01:30:00+24:00", "2024-05-02T01:30:00+08:60"),
    *("\uff12\uff10\uff12\uff14-05-02T01:30:00Z", "2024-05-02T01:30:00.Z"),
    *("2024-05-02T01:30:00.1234567890Z", "2024-05-02T01:30:00Z\n", " 2024-05-02T01:30:00Z"),
    *("1969-12-31T23:59:59.999Z", "9999-12-31T23:59:59-01:00", "0000-01-01T00:00:00Z"),
    *("+024-05-02T01:30:00Z", "", "1714613400000"),
    *(-1, MAX_TS_MS + 1, 2**64 - 1, -(2**63), 1.7e12, 1714613400000.0),
]
BAD_IDS = ["", "x" * 65, "a b", "\u00e9", "a/b", "a\x00b", "a\n", "\uff41", "o" * 1_000_000]
R = Reason
RULES = [  # (type, changes, reason, field): one or more per rule of SCORING.md §2
    ("order.paid", {"type": "order.shipped"}, R.UNKNOWN_TYPE, "type"),
    ("order.paid", {"type": "Order.Paid"}, R.UNKNOWN_TYPE, "type"),
    ("order.paid", {"type": 7}, R.UNKNOWN_TYPE, "type"),
    ("order.paid", {"type": None}, R.UNKNOWN_TYPE, "type"),
    ("order.paid", {"type": ["order.paid"]}, R.UNKNOWN_TYPE, "type"),
    ("order.paid", {"type": DROP}, R.MISSING_FIELD, "type"),
    ("order.paid", {"type": "refund.requested"}, R.WRONG_TOPIC, "type"),
    ("shipment.collected", {"type": "live.stats"}, R.WRONG_TOPIC, "type"),
    ("live.ended", {"type": "order.paid"}, R.WRONG_TOPIC, "type"),
    ("refund.resolved", {"type": "shipment.delivered"}, R.WRONG_TOPIC, "type"),
    *(("live.ended", {"event_id": bad}, R.BAD_ID, "event_id") for bad in BAD_IDS),
    *(("live.ended", {"ts": bad}, R.BAD_TIMESTAMP, "ts") for bad in BAD_TIMES),
    ("order.paid", {"paid_at": 1.5}, R.BAD_TIMESTAMP, "paid_at"),
    ("live.ended", {"ts": True}, R.WRONG_TYPE, "ts"),
    ("live.ended", {"ts": []}, R.WRONG_TYPE, "ts"),
    ("order.paid", {"amount_fen": -(2**63)}, R.NEGATIVE_MONEY, "amount_fen"),
    ("order.paid", {"amount_fen": 10**10 + 1}, R.OUT_OF_RANGE, "amount_fen"),
    ("order.paid", {"freight_fen": 10**10 + 1}, R.OUT_OF_RANGE, "freight_fen"),
    ("refund.requested", {"amount_fen": 2**53 + 1}, R.OUT_OF_RANGE, "amount_fen"),
    ("order.paid", {"freight_fen": 2**64 - 1}, R.OUT_OF_RANGE, "freight_fen"),
    ("order.paid", {"quantity": 0}, R.OUT_OF_RANGE, "quantity"),
    ("order.paid", {"quantity": 10**6 + 1}, R.OUT_OF_RANGE, "quantity"),
    ("order.paid", {"quantity": 2.0}, R.WRONG_TYPE, "quantity"),
    ("order.paid", {"quantity": True}, R.WRONG_TYPE, "quantity"),
    ("order.reviewed", {"rating": 0}, R.OUT_OF_RANGE, "rating"),
    ("order.reviewed", {"rating": 6}, R.OUT_OF_RANGE, "rating"),
    ("order.paid", {"listing_quality": -1}, R.OUT_OF_RANGE, "listing_quality"),
    ("order.paid", {"listing_quality": 101}, R.OUT_OF_RANGE, "listing_quality"),
    ("order.paid", {"listing_quality": None}, R.WRONG_TYPE, "listing_quality"),
    ("order.paid", {"listing_quality": 50.0}, R.WRONG_TYPE, "listing_quality"),
    ("order.paid", {"brand_authorized": 1}, R.WRONG_TYPE, "brand_authorized"),
    ("live.stats", {"viewer_minutes": -1}, R.OUT_OF_RANGE, "viewer_minutes"),
    ("live.stats", {"viewer_minutes": 10**9 + 1}, R.OUT_OF_RANGE, "viewer_minutes"),
    ("order.paid", {"channel": "LIVE"}, R.BAD_ENUM, "channel"),
    ("refund.requested", {"reason": "vulgar"}, R.BAD_ENUM, "reason"),
    ("live.report", {"reason": "quality"}, R.BAD_ENUM, "reason"),
    ("order.paid", {"paid_at": PAID_MS + 1}, R.PAID_AT_MISMATCH, "paid_at"),
    ("order.paid", {"paid_at": TS}, R.PAID_AT_MISMATCH, "paid_at"),
    ("order.paid", {"paid_at": "2024-05-01T01:59:59Z"}, R.PAID_AT_MISMATCH, "paid_at"),
    ("refund.resolved", {"requested_at": TS_MS + 1}, R.REQUESTED_AT_AFTER_TS, "requested_at"),
]
# And every field of every type: the rules of its kind, plus missing / wrong type / null.
_KIND_BREACHES = {
    ID: [("bad id", R.BAD_ID)],
    NULL_ID: [("bad id", R.BAD_ID)],
    TIME: [("yesterday", R.BAD_TIMESTAMP)],
    MONEY: [(-1, R.NEGATIVE_MONEY)],
    ENUM: [("Nope", R.BAD_ENUM)],
}
_WRONG_TYPED = {ID: 42, NULL_ID: 4.2, TIME: {}, INT: "1", MONEY: True, ENUM: 1, BOOL: "true"}


def _field_cases() -> list[tuple[str, dict[str, Any], Reason, str]]:
    cases: list[tuple[str, dict[str, Any], Reason, str]] = []
    for t, fields in REQUIRED.items():
        for f, kind in {"event_id": ID, "ts": TIME, **fields}.items():
            cases.append((t, {f: DROP}, R.MISSING_FIELD, f))
            cases.append((t, {f: _WRONG_TYPED[kind]}, R.WRONG_TYPE, f))
            if kind != NULL_ID:
                cases.append((t, {f: None}, R.WRONG_TYPE, f))
            cases += [(t, {f: bad}, reason, f) for bad, reason in _KIND_BREACHES.get(kind, [])]
        if t != "order.paid" and "paid_at" in fields:
            cases.append((t, {"paid_at": TS_MS + 1}, R.PAID_AT_AFTER_TS, "paid_at"))
    return cases


def _param(case: tuple[str, dict[str, Any], Reason, str]) -> Any:
    type_, changes, reason, field = case
    value = next(iter(changes.values()))
    shown = "DROP" if value is DROP else repr(value)[:24]
    return pytest.param(*case, id=f"{reason}-{type_}-{field}-{shown}")


FIELD_CASES = [_param(c) for c in RULES + _field_cases()]


@pytest.mark.parametrize(("type_", "changes", "reason", "field"), FIELD_CASES)
def test_breaches(type_: str, changes: dict[str, Any], reason: Reason, field: str) -> None:
    exc = refusal(stream_of(type_), codec.dumps(event(type_, **changes)))
    assert (exc.reason, exc.detail.split(":")[0]) == (reason, field), exc.detail
    assert len(exc.detail) < 300  # a huge value is never echoed whole


def test_every_reason_is_exercised() -> None:
    seen = {c.values[1] for c in RAW_CASES} | {c.values[2] for c in FIELD_CASES}
    assert seen == set(Reason) - events.LATER_REASONS


FIRST_BREACH = [  # several breaches: envelope first, then table order, optional, rules
    ("live.ended", {"event_id": "bad id", "type": "nope"}, R.BAD_ID, "event_id"),
    ("live.ended", {"event_id": DROP, "type": DROP}, R.MISSING_FIELD, "event_id"),
    ("live.ended", {"type": "nope", "ts": "bad"}, R.UNKNOWN_TYPE, "type"),
    ("live.ended", {"type": "order.paid", "ts": "bad"}, R.WRONG_TOPIC, "type"),
    ("order.paid", {"ts": "bad", "order_id": "bad id"}, R.BAD_TIMESTAMP, "ts"),
    ("order.paid", {"shop_id": 1, "order_id": "bad id"}, R.BAD_ID, "order_id"),
    ("order.paid", {"channel": "tv", "category_id": DROP}, R.MISSING_FIELD, "category_id"),
    ("order.paid", {"creator_id": 1, "category_id": "bad id"}, R.WRONG_TYPE, "creator_id"),
    ("order.paid", {"promised_by": "bad", "listing_quality": -1}, R.BAD_TIMESTAMP, "promised_by"),
    ("order.paid", {"listing_quality": -1, "paid_at": 1}, R.OUT_OF_RANGE, "listing_quality"),
    ("order.paid", {"paid_at": 1, "brand_authorized": 0}, R.WRONG_TYPE, "brand_authorized"),
    ("refund.resolved", {"paid_at": TS_MS + 1, "requested_at": TS_MS + 1}, R.PAID_AT_AFTER_TS,
     "paid_at"),
    ("refund.resolved", {"requested_at": TS_MS + 1, "amount_fen": -1}, R.NEGATIVE_MONEY,
     "amount_fen"),
]  # fmt: skip


@pytest.mark.parametrize(("type_", "changes", "reason", "field"), FIRST_BREACH)
def test_the_first_breach_wins(
    type_: str, changes: dict[str, Any], reason: Reason, field: str
) -> None:
    exc = refusal(stream_of(type_), codec.dumps(event(type_, **changes)))
    assert (exc.reason, exc.detail.split(":")[0]) == (reason, field), exc.detail


def test_contract_imports_only_the_standard_library_codec_errors_and_counting() -> None:
    # The contract is the vocabulary, the checkers, the table and the parser together.
    parts = {"streams.events": events, "streams.intake.checks": checks,
             "streams.intake.table": table, "streams.intake.contract": contract}  # fmt: skip
    modules: set[str] = set()
    for part in parts.values():
        tree = ast.parse(Path(part.__file__).read_text())
        modules |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        modules |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    ours = {m for m in modules - set(parts) if m.split(".")[0] not in sys.stdlib_module_names}
    # ``from streams import codec``; the quality reasons are the rulebook's (models)
    assert ours == {"streams", "streams.errors", "models.counting"}


# --- properties ---------------------------------------------------------------------------

# Small JSON values: a field's check looks at its type and range, never at depth or size,
# so short texts and shallow containers find every refusal and keep generation cheap.
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=4), inner, max_size=2)
    ),
    max_leaves=4,
)
_FIELDS = sorted({f for fields in REQUIRED.values() for f in fields} | {"event_id", "type", "ts"})


@given(raw=st.binary(max_size=300), stream=st.sampled_from(Stream))
def test_random_bytes_only_ever_raise_malformed_event(raw: bytes, stream: Stream) -> None:
    result = outcome(stream, raw)
    assert isinstance(result, Event) or result.reason in set(Reason)


@given(
    type_=st.sampled_from(sorted(EXTRA)),
    changes=st.dictionaries(st.sampled_from(_FIELDS), _json | st.just(DROP), max_size=4),
)
def test_random_fields_only_ever_raise_malformed_event(
    type_: str, changes: dict[str, Any]
) -> None:
    result = outcome(stream_of(type_), codec.dumps(event(type_, **changes)))
    if isinstance(result, MalformedEvent):
        assert result.reason in set(Reason)
    else:
        assert (result.type, type(result.ts_ms)) == (type_, int)


_ids = st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True)
_ms = st.integers(0, MAX_TS_MS)
_offsets = st.integers(-(24 * 60 - 1), 24 * 60 - 1)


def rfc3339(ms: int, offset_min: int, digits: int, sep: str, zulu: bool) -> str:
    """``ms`` as RFC 3339 in the zone ``offset_min``, with ``digits`` fraction digits."""
    t = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    t = t.astimezone(timezone(timedelta(minutes=offset_min)))
    text = f"{t.year:04}-{t.month:02}-{t.day:02}{sep}{t.hour:02}:{t.minute:02}:{t.second:02}"
    if digits:
        text += "." + f"{t.microsecond:06}000"[:digits]
    if zulu and offset_min == 0:
        return text + "Z"
    sign, (h, m) = "-" if offset_min < 0 else "+", divmod(abs(offset_min), 60)
    return f"{text}{sign}{h:02}:{m:02}"


@st.composite
def times(draw: st.DrawFn, low: int = 0, high: int = MAX_TS_MS) -> tuple[int | str, int]:
    """A timestamp as sent (int or RFC 3339) and the epoch ms it must parse to."""
    ms = draw(st.integers(low, high))
    if draw(st.booleans()) or ms > MAX_TS_MS - 86_400_000:
        return ms, ms
    digits = draw(st.integers(0, 9))
    kept = ms - ms % 10 ** max(0, 3 - digits)
    sep, zulu = draw(st.sampled_from("T ")), draw(st.booleans())
    return rfc3339(ms, draw(_offsets), digits, sep, zulu), kept


@given(sent=times())
def test_timestamps_in_either_form_parse_to_their_epoch_ms(sent: tuple[int | str, int]) -> None:
    assert parse(Stream.LIVESTREAM, codec.dumps(event("live.ended", ts=sent[0]))).ts_ms == sent[1]


_STRICT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?"
    r"(Z|[+-]([0-9]{2}):([0-9]{2}))"
)


def reference_ms(text: str) -> int | None:
    """The plain reading of the RFC 3339 rule, to hold the fast path against."""
    match = _STRICT.fullmatch(text)
    if not match or (match[1] != "Z" and (int(match[2]) > 23 or int(match[3]) > 59)):
        return None
    try:
        delta = datetime.fromisoformat(text) - datetime(1970, 1, 1, tzinfo=UTC)
    except ValueError:
        return None
    ms = delta // timedelta(milliseconds=1)
    return ms if 0 <= ms <= MAX_TS_MS else None


_SHAPES = st.from_regex(
    r"[0-9+-]{4}-..-..[T ]..:..:..(\.[0-9]{0,10})?(Z|[+-]..:..)", fullmatch=True
)
_NEAR_MISSES = st.from_regex(
    r"(19[6-9][0-9]|20[0-9]{2})-[01][0-9]-[0-3][0-9][T ][0-2][0-9]:[0-5][0-9]:[0-6][0-9]"
    r"(\.[0-9]{1,3})?(Z|[+-][0-2][0-9]:[0-6][0-9])",
    fullmatch=True,
)


_ISO_8601_VARIANTS = st.tuples(  # what fromisoformat also takes, and RFC 3339 does not
    st.sampled_from(["2024-05-02", "20240502", "2024-W18-4", "2024-123", "1969-12-31"]),
    st.sampled_from(["T", " ", "t", "x", ""]),
    st.sampled_from(["01:30:00", "0130", "01:30", "01", "013000", "23:59:60", "24:00:00"]),
    st.sampled_from(["", ".5", ",5", ".", ".123456789", ".1234567890"]),
    st.sampled_from(["Z", "z", "+08:00", "-05:30", "-00:00", "+0800", "+08", "+08:00:00", ""]),
).map("".join)


@settings(max_examples=500)
@given(text=_SHAPES | _NEAR_MISSES | _ISO_8601_VARIANTS)
def test_rfc3339_parsing_agrees_with_the_reference(text: str) -> None:
    result = outcome(Stream.LIVESTREAM, codec.dumps(event("live.ended", ts=text)))
    if isinstance(result, MalformedEvent):
        assert (result.reason, reference_ms(text)) == (Reason.BAD_TIMESTAMP, None)
    else:
        assert result.ts_ms == reference_ms(text)


@st.composite
def valid_events(draw: st.DrawFn) -> tuple[Stream, dict[str, Any]]:
    """Any valid event: every id, enum, number and time drawn within its rule."""
    type_ = draw(st.sampled_from(sorted(EXTRA)))
    ts, ts_ms = draw(times())
    body: dict[str, Any] = {"event_id": draw(_ids), "type": type_, "ts": ts}
    for name, kind in REQUIRED[type_].items():
        body[name] = draw(_value(name, kind, type_, ts_ms))
    if type_ == "order.paid" and draw(st.booleans()):
        body["paid_at"] = ts_ms
    return stream_of(type_), body


ENUMS = {
    "channel": ["live", "video", "shelf"],
    "cancelled_by": ["buyer", "merchant", "system"],
    "kind": ["lost", "damaged", "returned", "delayed"],
    "reason": sorted([*QUALITY_REASONS, "damaged_in_transit", "no_reason", "other"]),
    "outcome": ["approved", "rejected"],
    "resolved_by": ["merchant", "platform"],
    "mode": ["self", "distribution"],
    "severity": ["minor", "major", "severe"],
}
INT_RANGES = {"quantity": (1, 10**6), "rating": (1, 5), "viewer_minutes": (0, 10**9)}


def _value(name: str, kind: str, type_: str, ts_ms: int) -> st.SearchStrategy[Any]:
    if kind == TIME:  # paid_at and requested_at must not be after ts
        high = ts_ms if name in ("paid_at", "requested_at") else MAX_TS_MS
        return times(high=high).map(lambda sent: sent[0])
    if kind == ENUM:
        live = type_ == "live.report"
        return st.sampled_from(["misleading", "vulgar", "other"] if live else ENUMS[name])
    strategies = {
        ID: _ids,
        NULL_ID: st.none() | _ids,
        MONEY: st.integers(0, 10**10),
        BOOL: st.booleans(),
        INT: st.integers(*INT_RANGES.get(name, (0, 0))),
    }
    return strategies[kind]


@given(sent=valid_events())
def test_any_valid_event_parses_and_survives_a_roundtrip(
    sent: tuple[Stream, dict[str, Any]],
) -> None:
    stream, body = sent
    ev = parse(stream, codec.dumps(body))
    assert ev.type == body["type"]
    assert parse(stream, codec.dumps(ev.body)) == ev
