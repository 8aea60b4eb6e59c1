"""What each event counts, and for whom: the x and n of SCORING.md §4 per event.

An event adds integer deltas to named counters of up to four entities (its
shop, product, creator and category) in its anchor day. The models then read
window totals of these counters. Counters per entity type are listed in
``COUNTERS``; their order is part of the store's encoding, so new counters are
appended, never inserted.

Choices where SCORING.md is silent are documented in docs/scoring.md:
"on time" is ``ts <= deadline`` (equal counts as on time); handling time is
kept in milliseconds; distribution GMV and its refunds count only orders with a
creator_id, whatever the channel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# Counters by entity type; the order is the storage order (append only).
COUNTERS: dict[str, tuple[str, ...]] = {
    "shop": (
        "paid", "free_shipping", "quality_refunds", "negative_reviews",
        "pickups", "pickups_on_time", "deliveries", "deliveries_on_time",
        "merchant_exceptions", "merchant_resolutions", "merchant_handling_ms",
        "lost_disputes", "merchant_cancels", "dist_gmv_fen", "dist_refund_fen",
        "penalty_points",
    ),
    "product": (
        "paid", "quality_refunds", "negative_reviews", "pickups", "pickups_on_time",
        "merchant_cancels", "amount_fen", "quantity",
    ),
    "creator": (
        "paid", "misdescriptions", "quality_refunds", "negative_reviews", "lost_disputes",
        "pickups", "pickups_on_time", "reports", "viewer_minutes", "penalty_points",
        "dist_gmv_fen", "dist_refund_fen",
    ),
    "category": ("amount_fen", "quantity"),
}  # fmt: skip
ENTITY_TYPES = tuple(COUNTERS)
REGISTERS: dict[str, tuple[str, ...]] = {"product": ("listing_quality", "brand_authorized")}
#: the text labels an entity type's contributions carry (``Contribution.labels``)
LABELS: dict[str, tuple[str, ...]] = {"product": ("category",)}

QUALITY_REASONS = frozenset({"quality", "not_as_described", "wrong_item", "counterfeit"})
PENALTY_POINTS = {"minor": 5, "major": 10, "severe": 20}
NEGATIVE_RATING_MAX = 2


@dataclass(slots=True)
class Contribution:
    """Deltas for one entity's counters on one anchor day, and register updates."""

    entity_type: str
    entity_id: str
    counts: dict[str, int] = field(default_factory=dict)
    registers: dict[str, int] = field(default_factory=dict)
    #: text labels, latest by (ts, event_id) whatever its age: a product's category
    labels: dict[str, str] = field(default_factory=dict)


class _Parties:
    """The entities of an order-lifecycle event, created on first use: at most one of
    each type, named by the body's ``<type>_id``."""

    __slots__ = ("body", "found")

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.found: dict[str, Contribution] = {}

    def get(self, entity_type: str) -> Contribution | None:
        party = self.found.get(entity_type)
        if party is None:
            entity_id = self.body.get(_ID_FIELDS[entity_type])
            if entity_id is None:
                return None
            party = self.found[entity_type] = Contribution(entity_type, entity_id)
        return party

    def add(self, entity_types: tuple[str, ...], counter: str, delta: int = 1) -> None:
        for entity_type in entity_types:
            party = self.get(entity_type)
            if party is not None and delta:
                counts = party.counts
                counts[counter] = counts.get(counter, 0) + delta


_ID_FIELDS = {entity_type: f"{entity_type}_id" for entity_type in COUNTERS}
SHOP, PRODUCT, CREATOR = ("shop",), ("product",), ("creator",)
SPC = ("shop", "product", "creator")


def _order_paid(p: _Parties, b: dict[str, Any]) -> None:
    p.add(("shop", "product", "creator"), "paid")
    p.add(SHOP, "free_shipping", int(b["freight_fen"] == 0))
    p.add(("product", "category"), "amount_fen", b["amount_fen"])
    p.add(("product", "category"), "quantity", b["quantity"])
    if b["creator_id"] is not None:
        p.add(("shop", "creator"), "dist_gmv_fen", b["amount_fen"])
    product = p.get("product")
    if product is not None:
        product.labels["category"] = b["category_id"]
        for name in ("listing_quality", "brand_authorized"):
            if name in b:  # optional fields: absent, never null
                product.registers[name] = int(b[name])


def _order_cancelled(p: _Parties, b: dict[str, Any]) -> None:
    if b["cancelled_by"] != "buyer":
        p.add(("shop", "product"), "merchant_cancels")


def _order_reviewed(p: _Parties, b: dict[str, Any]) -> None:
    if b["rating"] <= NEGATIVE_RATING_MAX:
        p.add(SPC, "negative_reviews")


def _collected(p: _Parties, b: dict[str, Any]) -> None:
    p.add(SPC, "pickups")
    p.add(SPC, "pickups_on_time", int(b["ts"] <= b["ship_by"]))


def _delivered(p: _Parties, b: dict[str, Any]) -> None:
    p.add(SHOP, "deliveries")
    p.add(SHOP, "deliveries_on_time", int(b["ts"] <= b["promised_by"]))


def _exception(p: _Parties, b: dict[str, Any]) -> None:
    if not b["carrier_fault"]:
        p.add(SHOP, "merchant_exceptions")


def _refund_requested(p: _Parties, b: dict[str, Any]) -> None:
    if b["reason"] in QUALITY_REASONS:
        p.add(SPC, "quality_refunds")
    if b["reason"] == "not_as_described":
        p.add(CREATOR, "misdescriptions")


def _refund_resolved(p: _Parties, b: dict[str, Any]) -> None:
    if b["resolved_by"] == "merchant":
        p.add(SHOP, "merchant_resolutions")
        p.add(SHOP, "merchant_handling_ms", b["ts"] - b["requested_at"])
    elif b["merchant_liable"]:
        p.add(("shop", "creator"), "lost_disputes")
    if b["outcome"] == "approved" and b["creator_id"] is not None:
        p.add(("shop", "creator"), "dist_refund_fen", b["amount_fen"])


def _live_stats(p: _Parties, b: dict[str, Any]) -> None:
    p.add(CREATOR, "viewer_minutes", b["viewer_minutes"])


def _live_report(p: _Parties, b: dict[str, Any]) -> None:
    p.add(CREATOR, "reports")


def _live_violation(p: _Parties, b: dict[str, Any]) -> None:
    p.add(("creator", "shop"), "penalty_points", PENALTY_POINTS[b["severity"]])


def _nothing(p: _Parties, b: dict[str, Any]) -> None:
    return None


RULES: dict[str, Callable[[_Parties, dict[str, Any]], None]] = {
    "order.paid": _order_paid,
    "order.cancelled": _order_cancelled,
    "order.completed": _nothing,
    "order.reviewed": _order_reviewed,
    "shipment.collected": _collected,
    "shipment.delivered": _delivered,
    "shipment.exception": _exception,
    "refund.requested": _refund_requested,
    "refund.resolved": _refund_resolved,
    "live.started": _nothing,
    "live.stats": _live_stats,
    "live.ended": _nothing,
    "live.report": _live_report,
    "live.violation": _live_violation,
}


def contributions(event_type: str, body: dict[str, Any]) -> Iterator[Contribution]:
    """The non-empty contributions of one valid event (timestamps as epoch ms)."""
    parties = _Parties(body)
    RULES[event_type](parties, body)
    for contribution in parties.found.values():
        if contribution.counts or contribution.registers or contribution.labels:
            yield contribution
