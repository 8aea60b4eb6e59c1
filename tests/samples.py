"""Valid sample events of every type (SCORING.md §2), to copy and break in tests."""

from __future__ import annotations

import copy
from typing import Any

from streams.events import Stream

PAID = "2026-11-01T10:00:00+08:00"
TS = "2026-11-02T09:30:00+08:00"

_ORDER = {
    "order_id": "o-1",
    "shop_id": "shop-1",
    "product_id": "prod-1",
    "creator_id": "cr-1",
    "paid_at": PAID,
}

_EXTRA: dict[str, dict[str, Any]] = {
    "order.paid": {
        "paid_at": PAID,
        "category_id": "cat-1",
        "channel": "live",
        "quantity": 2,
        "amount_fen": 15900,
        "freight_fen": 0,
        "ship_by": "2026-11-03T10:00:00+08:00",
        "promised_by": "2026-11-06T10:00:00+08:00",
        "listing_quality": 80,
        "brand_authorized": True,
    },
    "order.cancelled": {"cancelled_by": "merchant"},
    "order.completed": {},
    "order.reviewed": {"rating": 4},
    "shipment.collected": {"ship_by": "2026-11-03T10:00:00+08:00"},
    "shipment.delivered": {"promised_by": "2026-11-06T10:00:00+08:00"},
    "shipment.exception": {"kind": "lost", "carrier_fault": True},
    "refund.requested": {
        "refund_id": "rf-1",
        "reason": "quality",
        "refund_only": False,
        "amount_fen": 15900,
    },
    "refund.resolved": {
        "refund_id": "rf-1",
        "requested_at": "2026-11-02T08:00:00+08:00",
        "outcome": "approved",
        "resolved_by": "platform",
        "merchant_liable": True,
        "amount_fen": 15900,
    },
    "live.started": {"room_id": "room-1", "creator_id": "cr-1", "shop_id": None, "mode": "self"},
    "live.stats": {"room_id": "room-1", "creator_id": "cr-1", "viewer_minutes": 1200},
    "live.ended": {"room_id": "room-1", "creator_id": "cr-1"},
    "live.report": {"room_id": "room-1", "creator_id": "cr-1", "reason": "misleading"},
    "live.violation": {
        "room_id": "room-1",
        "creator_id": "cr-1",
        "shop_id": "shop-1",
        "severity": "major",
    },
}

STREAM_OF_TYPE: dict[str, Stream] = {
    t: Stream.LIVESTREAM
    if t.startswith("live.")
    else Stream.SHIPPING
    if t.startswith("shipment.")
    else Stream.REFUNDS
    if t.startswith("refund.")
    else Stream.ORDERS
    for t in _EXTRA
}
TYPES = tuple(_EXTRA)


def sample(event_type: str, event_id: str = "ev-1", **overrides: Any) -> dict[str, Any]:
    """A valid event of ``event_type``; ``overrides`` replace or add fields."""
    body: dict[str, Any] = {"event_id": event_id, "type": event_type, "ts": TS}
    if event_type == "order.paid":
        body["ts"] = PAID
    if STREAM_OF_TYPE[event_type] is not Stream.LIVESTREAM:
        body.update(copy.deepcopy(_ORDER))
    body.update(copy.deepcopy(_EXTRA[event_type]))
    body.update(overrides)
    return body


def key_of(body: dict[str, Any]) -> bytes:
    """The message key the contract prescribes: order_id, or room_id for livestream."""
    return str(body.get("order_id") or body.get("room_id")).encode()
