"""The contract's table (SCORING.md §2): per event type, its stream, fields, rules, anchor.

``SPECS`` maps each type to its ``Spec``; ``TYPES_BY_STREAM`` says which types
each input topic carries. The checkers are ``streams.intake.checks``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from types import MappingProxyType
from typing import Any, Final

from models.counting import QUALITY_REASONS
from streams.events import Reason, Stream
from streams.intake.checks import (
    ID_PATTERN,
    MAX_QUANTITY,
    MAX_VIEWER_MINUTES,
    Check,
    Rule,
    boolean,
    enum,
    identifier,
    int_in,
    money,
    not_after_ts,
    nullable_identifier,
    paid_at_is_ts,
    timestamp,
)

Fields = tuple[tuple[str, Check], ...]


@dataclass(frozen=True, slots=True)
class Spec:
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
) -> Spec:
    ids = [name for name, check in required if check is identifier]  # >= 2: a tuple
    rest = tuple((name, check) for name, check in required if check is not identifier)
    ids_match = re.compile("\x00".join([ID_PATTERN] * len(ids))).fullmatch
    return Spec(stream, required, optional, rules, anchor, rest, itemgetter(*ids), ids_match)


# The envelope leads every table (``type`` itself is checked by looking the table up).
_ENVELOPE: Final[Fields] = (("event_id", identifier), ("ts", timestamp))
_ORDER: Final[Fields] = (
    *_ENVELOPE,
    *(("order_id", identifier), ("shop_id", identifier), ("product_id", identifier),
      ("creator_id", nullable_identifier)),
)  # fmt: skip
_ROOM: Final[Fields] = (*_ENVELOPE, ("room_id", identifier), ("creator_id", identifier))
_PAID_AT: Final = ("paid_at", timestamp)
_PAID_AT_NOT_AFTER_TS: Final = not_after_ts("paid_at", Reason.PAID_AT_AFTER_TS)
_REFUND_REASONS: Final = (*sorted(QUALITY_REASONS), "damaged_in_transit", "no_reason", "other")


def _order(stream: Stream, *fields: tuple[str, Check], rules: tuple[Rule, ...] = ()) -> Spec:
    rules = (_PAID_AT_NOT_AFTER_TS, *rules)
    return _spec(stream, *_ORDER, _PAID_AT, *fields, rules=rules, anchor="paid_at")


def _live(*fields: tuple[str, Check]) -> Spec:
    return _spec(Stream.LIVESTREAM, *_ROOM, *fields)


# fmt: off
SPECS: Final[Mapping[str, Spec]] = {
    "order.paid": _spec(
        Stream.ORDERS, *_ORDER, ("category_id", identifier),
        ("channel", enum("live", "video", "shelf")),
        ("quantity", int_in(1, MAX_QUANTITY)), ("amount_fen", money), ("freight_fen", money),
        ("ship_by", timestamp), ("promised_by", timestamp),
        optional=(_PAID_AT, ("listing_quality", int_in(0, 100)), ("brand_authorized", boolean)),
        rules=(paid_at_is_ts,), anchor="paid_at"),
    "order.cancelled": _order(
        Stream.ORDERS, ("cancelled_by", enum("buyer", "merchant", "system"))),
    "order.completed": _order(Stream.ORDERS),
    "order.reviewed": _order(Stream.ORDERS, ("rating", int_in(1, 5))),
    "shipment.collected": _order(Stream.SHIPPING, ("ship_by", timestamp)),
    "shipment.delivered": _order(Stream.SHIPPING, ("promised_by", timestamp)),
    "shipment.exception": _order(
        Stream.SHIPPING, ("kind", enum("lost", "damaged", "returned", "delayed")),
        ("carrier_fault", boolean)),
    "refund.requested": _order(
        Stream.REFUNDS, ("refund_id", identifier), ("reason", enum(*_REFUND_REASONS)),
        ("refund_only", boolean), ("amount_fen", money)),
    "refund.resolved": _order(
        Stream.REFUNDS, ("refund_id", identifier), ("requested_at", timestamp),
        ("outcome", enum("approved", "rejected")), ("resolved_by", enum("merchant", "platform")),
        ("merchant_liable", boolean), ("amount_fen", money),
        rules=(not_after_ts("requested_at", Reason.REQUESTED_AT_AFTER_TS),)),
    "live.started": _live(
        ("shop_id", nullable_identifier), ("mode", enum("self", "distribution"))),
    "live.stats": _live(("viewer_minutes", int_in(0, MAX_VIEWER_MINUTES))),
    "live.ended": _live(),
    "live.report": _live(("reason", enum("misleading", "vulgar", "other"))),
    "live.violation": _live(
        ("shop_id", nullable_identifier), ("severity", enum("minor", "major", "severe"))),
}
# fmt: on
TYPES_BY_STREAM: Final[Mapping[Stream, frozenset[str]]] = MappingProxyType(
    {s: frozenset(t for t, spec in SPECS.items() if spec.stream is s) for s in Stream}
)
