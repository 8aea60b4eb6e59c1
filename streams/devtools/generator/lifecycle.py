"""One order's life: paid → (cancelled | collected → delivered → completed / refunded /
reviewed), with realistic delays and the order's deadlines.

Every delay is positive, so within one order: paid first; collected after paid;
exceptions after collected; delivered after collected; a refund requested after
delivery (or after a lost/returned parcel); resolved after requested; reviewed after
delivery. ``ship_by = paid + the shop's window (24-72 h)``, ``promised_by = ship_by +
72 h``. The shop's quality drives logistics, cancels and after-sales; the product's
quality drives quality refunds and bad reviews; the creator's quality adds
``not_as_described`` refunds on what it sold.
"""

from __future__ import annotations

import random
from typing import Final

from streams.devtools.generator.behaviour import P_BUYER_CANCEL
from streams.devtools.generator.config import DAY_MS, HOUR_MS, MINUTE_MS
from streams.devtools.generator.draw import between
from streams.devtools.generator.events import Emitted, Order, Trail, rfc3339
from streams.devtools.generator.refunds import Refund, after_delivery, refund
from streams.events import Stream

TRANSIT_PROMISE_MS: Final = 72 * HOUR_MS
EXCEPTION_KINDS: Final = ("lost", "damaged", "returned", "delayed")
EXCEPTION_WEIGHTS: Final = (0.15, 0.3, 0.15, 0.4)


def order_events(rng: random.Random, order: Order, listing: bool) -> list[Emitted]:
    """Every event of one order; ``listing``: the paid event carries the catalog fields."""
    trail = Trail(order)
    ship_by = order.paid_ms + order.shop.ship_window_ms
    promised_by = ship_by + TRANSIT_PROMISE_MS
    _paid(trail, ship_by, promised_by, listing)
    if _cancelled(rng, trail, ship_by):
        return trail.events
    collected = _collected(rng, trail, ship_by)
    kind = _exception_kind(rng, trail)
    if kind in ("lost", "returned"):
        _undelivered(rng, trail, collected, kind)
        return trail.events
    delivered = _delivered(rng, trail, collected, promised_by, kind)
    prior: Refund | None = None
    if kind == "damaged" and rng.random() < 0.7:
        requested = delivered + between(rng, HOUR_MS, 2 * DAY_MS)
        prior = refund(rng, trail, requested, "damaged_in_transit", forced=False)
    after_delivery(rng, trail, delivered, delivered > promised_by, prior)
    return trail.events


def _paid(trail: Trail, ship_by: int, promised_by: int, listing: bool) -> None:
    order = trail.order
    body = trail.add(Stream.ORDERS, "order.paid", "paid", order.paid_ms)
    body["category_id"] = order.product.category_id
    body["channel"] = order.channel
    body["quantity"] = order.quantity
    body["amount_fen"] = order.amount_fen
    body["freight_fen"] = order.freight_fen
    body["ship_by"] = ship_by
    body["promised_by"] = promised_by
    if listing:
        body["listing_quality"] = order.product.listing_quality
        body["brand_authorized"] = order.product.brand_authorized


def _cancelled(rng: random.Random, trail: Trail, ship_by: int) -> bool:
    """Maybe cancel before shipping: by the buyer, the merchant or the system."""
    paid, shop = trail.order.paid_ms, trail.order.shop.behaviour
    u = rng.random()
    if u < P_BUYER_CANCEL:
        by, ts = "buyer", paid + MINUTE_MS + int(rng.expovariate(1 / (2 * HOUR_MS)))
    elif (u := u - P_BUYER_CANCEL) < shop.p_merchant_cancel:
        by, ts = "merchant", paid + between(rng, 30 * MINUTE_MS, ship_by - paid)
    elif u - shop.p_merchant_cancel < shop.p_system_cancel:
        by, ts = "system", ship_by + between(rng, MINUTE_MS, 2 * HOUR_MS)
    else:
        return False
    trail.add(Stream.ORDERS, "order.cancelled", "cancel", ts)["cancelled_by"] = by
    return True


def _collected(rng: random.Random, trail: Trail, ship_by: int) -> int:
    """The carrier's first scan: on time within the window, or late by hours."""
    paid = trail.order.paid_ms
    if rng.random() < trail.order.shop.behaviour.p_pickup_late:
        ts = ship_by + MINUTE_MS + int(rng.expovariate(1 / (10 * HOUR_MS)))
    else:
        early = min(rng.random(), rng.random())  # most parcels leave early in the window
        ts = paid + 10 * MINUTE_MS + int((ship_by - paid - 10 * MINUTE_MS) * early)
    trail.add(Stream.SHIPPING, "shipment.collected", "col", ts)["ship_by"] = rfc3339(ship_by)
    return ts


def _exception_kind(rng: random.Random, trail: Trail) -> str | None:
    if rng.random() < trail.order.shop.behaviour.p_exception:
        return rng.choices(EXCEPTION_KINDS, EXCEPTION_WEIGHTS)[0]
    return None


def _delivered(
    rng: random.Random, trail: Trail, collected: int, promised_by: int, kind: str | None
) -> int:
    """Delivery (late when the parcel was delayed), after any exception on the way."""
    late = kind == "delayed" or rng.random() < trail.order.shop.behaviour.p_delivery_late
    delivered = _delivery_time(rng, collected, promised_by, late)
    if kind is not None:
        at = delivered - 30 * MINUTE_MS if kind == "damaged" else (collected + delivered) // 2
        _exception(rng, trail, max(collected + MINUTE_MS, at), kind)
    body = trail.add(Stream.SHIPPING, "shipment.delivered", "dlv", delivered)
    body["promised_by"] = rfc3339(promised_by)
    return delivered


def _delivery_time(rng: random.Random, collected: int, promised_by: int, late: bool) -> int:
    if late:
        return max(promised_by, collected + 6 * HOUR_MS) + int(rng.expovariate(1 / (20 * HOUR_MS)))
    if promised_by - collected < 12 * HOUR_MS:  # a late pickup leaves little time
        return collected + between(rng, 6 * HOUR_MS, 48 * HOUR_MS)
    return collected + int((promised_by - collected) * (0.3 + 0.7 * rng.random()))


def _undelivered(rng: random.Random, trail: Trail, collected: int, kind: str) -> None:
    """Lost or returned to sender: the exception, then a refund the merchant approves."""
    at = collected + between(rng, DAY_MS, 3 * DAY_MS)
    _exception(rng, trail, at, kind)
    refund(rng, trail, at + between(rng, HOUR_MS, DAY_MS), "other", forced=True)


def _exception(rng: random.Random, trail: Trail, ts: int, kind: str) -> None:
    body = trail.add(Stream.SHIPPING, "shipment.exception", "exc", ts)
    body["kind"] = kind
    body["carrier_fault"] = rng.random() < trail.order.shop.behaviour.p_carrier_fault
