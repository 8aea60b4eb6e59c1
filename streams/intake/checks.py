"""The contract's value checkers and cross-field rules (SCORING.md §2).

A checker takes ``(field, value)`` and returns the value, normalised (a
timestamp becomes int epoch ms), or raises ``MalformedEvent`` with a stable
``Reason`` and a detail naming the field. A rule looks at a whole body once
every field is checked:

    >>> timestamp("ts", "2024-05-01T08:00:00+08:00")
    1714521600000
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from reprlib import Repr
from typing import Any, Final

from streams.errors import MalformedEvent
from streams.events import Reason

Check = Callable[[str, Any], Any]
Rule = Callable[[dict[str, Any]], None]

MAX_INT: Final = 2**53
# What one event can carry (SCORING.md §2 leaves them open; docs/semantics.md): far above
# any real order or stream, low enough that a window of them stays exact for long.
MAX_MONEY_FEN: Final = 10**10  # 100 million CNY in one order or refund
MAX_QUANTITY: Final = 10**6  # items in one order
MAX_VIEWER_MINUTES: Final = 10**9  # between two live.stats events of one room
MAX_TS_MS: Final = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
ID_PATTERN: Final = r"[A-Za-z0-9._:-]{1,64}"

_ID_MATCH: Final = re.compile(ID_PATTERN).fullmatch
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


def show(value: Any) -> str:
    """A value for a detail message: its JSON type and a repr cut to ~80 chars."""
    if value is None:
        return "null"
    return f"{_JSON_TYPES.get(type(value), type(value).__name__)} {_REPR.repr(value)[:80]}"


def fail(reason: Reason, name: str, message: str) -> MalformedEvent:
    return MalformedEvent(reason, f"{name}: {message}")


def _wrong_type(name: str, expected: str, value: Any) -> MalformedEvent:
    return fail(Reason.WRONG_TYPE, name, f"expected {expected}, got {show(value)}")


# --- value checkers: (field, value) -> value, normalised; raise on a breach ------------


def identifier(name: str, value: Any) -> Any:
    if type(value) is not str:
        raise _wrong_type(name, "an id string", value)
    if _ID_MATCH(value) is None:
        raise fail(Reason.BAD_ID, name, f"{show(value)} is not 1-64 chars of [A-Za-z0-9._:-]")
    return value


def nullable_identifier(name: str, value: Any) -> Any:
    return value if value is None else identifier(name, value)


def boolean(name: str, value: Any) -> Any:
    if type(value) is not bool:
        raise _wrong_type(name, "a boolean", value)
    return value


def int_in(low: int, high: int) -> Check:
    def check(name: str, value: Any) -> Any:
        if type(value) is not int:
            raise _wrong_type(name, "an integer", value)
        if not low <= value <= high:
            raise fail(Reason.OUT_OF_RANGE, name, f"{value} not in [{low}, {high}]")
        return value

    return check


def money(name: str, value: Any) -> Any:
    if type(value) is not int:
        raise _wrong_type(name, "an integer of fen", value)
    if value < 0:
        raise fail(Reason.NEGATIVE_MONEY, name, f"{value} < 0")
    if value > MAX_MONEY_FEN:
        raise fail(Reason.OUT_OF_RANGE, name, f"{value} > {MAX_MONEY_FEN} fen (10**10)")
    return value


def enum(*allowed: str) -> Check:
    values = frozenset(allowed)

    def check(name: str, value: Any) -> Any:
        if type(value) is not str:
            raise _wrong_type(name, "a string", value)
        if value not in values:
            raise fail(Reason.BAD_ENUM, name, f"{show(value)} not one of {'/'.join(allowed)}")
        return value

    return check


def timestamp(name: str, value: Any) -> Any:
    """An RFC 3339 string or int epoch ms -> int epoch ms."""
    if type(value) is int:
        ms = value
    elif type(value) is str:
        ms = _rfc3339_ms(value)
    elif type(value) is float:
        raise fail(Reason.BAD_TIMESTAMP, name, f"{show(value)} is not an integer of ms")
    else:
        raise _wrong_type(name, "an RFC 3339 string or epoch ms", value)
    if not 0 <= ms <= MAX_TS_MS:
        raise fail(
            Reason.BAD_TIMESTAMP, name, f"{show(value)} is not RFC 3339 or epoch ms, 1970-9999"
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


def not_after_ts(name: str, reason: Reason) -> Rule:
    def rule(body: dict[str, Any]) -> None:
        if body[name] > body["ts"]:
            raise fail(reason, name, f"{body[name]} > ts {body['ts']}")

    return rule


def paid_at_is_ts(body: dict[str, Any]) -> None:
    paid_at = body.setdefault("paid_at", body["ts"])
    if paid_at != body["ts"]:
        raise fail(Reason.PAID_AT_MISMATCH, "paid_at", f"{paid_at} != ts {body['ts']}")
