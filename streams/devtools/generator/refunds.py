"""After delivery: refunds and their resolution, completion, reviews.

At most one refund per order (``refund_id`` = order id + ``-rf``), resolved once:
by the merchant after a handling time (its median grows as the shop's quality
falls), or by the platform after two to seven days when the buyer disputes
(``merchant_liable`` more often for bad shops). A completed order is confirmed by
the buyer or automatically after ten days, unless an approved refund came first.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Final

from models.counting import QUALITY_REASONS
from streams.devtools.generator.behaviour import (
    P_NO_REASON_REFUND,
    P_REVIEW,
    P_REVIEW_AFTER_QUALITY_REFUND,
    ShopBehaviour,
)
from streams.devtools.generator.config import DAY_MS, HOUR_MS, MINUTE_MS
from streams.devtools.generator.draw import between
from streams.devtools.generator.events import Trail
from streams.events import Stream

QUALITY: Final = ("quality", "wrong_item", "not_as_described", "counterfeit")
QUALITY_WEIGHTS_BRANDED: Final = (0.55, 0.2, 0.2, 0.05)
QUALITY_WEIGHTS_UNBRANDED: Final = (0.45, 0.2, 0.2, 0.15)
CHEAP_FEN: Final = 3_000
AUTO_CONFIRM_MS: Final = 10 * DAY_MS


@dataclass(frozen=True, slots=True)
class Refund:
    requested: int
    reason: str
    approved: bool
    resolved: int


def after_delivery(
    rng: random.Random, trail: Trail, delivered: int, late: bool, prior: Refund | None
) -> None:
    """A refund (unless one is already under way), the completion and a review."""
    current = prior if prior is not None else _maybe_refund(rng, trail, delivered)
    _complete(rng, trail, delivered, current)
    _review(rng, trail, delivered, late, current)


def refund(rng: random.Random, trail: Trail, requested: int, reason: str, forced: bool) -> Refund:
    """A refund request and its resolution; ``forced``: the merchant simply approves."""
    order = trail.order
    refund_only = forced or rng.random() < (0.6 if order.amount_fen < CHEAP_FEN else 0.15)
    partial = refund_only and not forced and rng.random() < 0.3
    amount = order.amount_fen * between(rng, 30, 71) // 100 if partial else order.amount_fen
    refund_id = f"{order.order_id}-rf"
    body = trail.add(Stream.REFUNDS, "refund.requested", "rreq", requested)
    body.update(refund_id=refund_id, reason=reason, refund_only=refund_only, amount_fen=amount)
    approved, resolved, by, liable = _resolution(rng, order.shop.behaviour, requested, forced)
    body = trail.add(Stream.REFUNDS, "refund.resolved", "rres", resolved)
    body["refund_id"] = refund_id
    body["requested_at"] = requested
    body["outcome"] = "approved" if approved else "rejected"
    body["resolved_by"] = by
    body["merchant_liable"] = liable
    body["amount_fen"] = amount
    return Refund(requested, reason, approved, resolved)


def _resolution(
    rng: random.Random, shop: ShopBehaviour, requested: int, forced: bool
) -> tuple[bool, int, str, bool]:
    """(approved, resolved at, resolved_by, merchant_liable)."""
    if not forced and rng.random() < shop.p_dispute:
        liable = rng.random() < shop.p_liable
        approved = liable or rng.random() < 0.3
        return approved, requested + between(rng, 2 * DAY_MS, 7 * DAY_MS), "platform", liable
    hours = rng.lognormvariate(math.log(shop.handling_median_h), 0.7)
    approved = forced or rng.random() >= shop.p_reject
    return approved, requested + 5 * MINUTE_MS + int(hours * HOUR_MS), "merchant", False


def _maybe_refund(rng: random.Random, trail: Trail, delivered: int) -> Refund | None:
    reason = _refund_reason(rng, trail)
    if reason is None:
        return None
    wait = min(14 * DAY_MS, int(rng.expovariate(1 / (36 * HOUR_MS))))
    return refund(rng, trail, delivered + 10 * MINUTE_MS + wait, reason, forced=False)


def _refund_reason(rng: random.Random, trail: Trail) -> str | None:
    """The product's quality, then the creator's misdescription, then buyers' whims."""
    product, creator = trail.order.product, trail.order.creator
    u = rng.random()
    if u < product.behaviour.p_quality_refund:
        weights = (
            QUALITY_WEIGHTS_BRANDED if product.brand_authorized else QUALITY_WEIGHTS_UNBRANDED
        )
        return rng.choices(QUALITY, weights)[0]
    u -= product.behaviour.p_quality_refund
    if creator is not None:
        if u < creator.behaviour.p_misdescription:
            return "not_as_described"
        u -= creator.behaviour.p_misdescription
    if u < P_NO_REASON_REFUND:
        return "no_reason" if rng.random() < 0.85 else "other"
    return None


def _complete(rng: random.Random, trail: Trail, delivered: int, current: Refund | None) -> None:
    if rng.random() < 0.6:  # the buyer confirms receipt
        done = delivered + MINUTE_MS + int(rng.expovariate(1 / (2 * DAY_MS)))
    else:
        done = delivered + AUTO_CONFIRM_MS
    if current is not None and current.requested < done:
        if current.approved:
            return
        done = max(done, current.resolved + HOUR_MS)
    trail.add(Stream.ORDERS, "order.completed", "done", done)


def _review(
    rng: random.Random, trail: Trail, delivered: int, late: bool, current: Refund | None
) -> None:
    bad_goods = current is not None and current.reason in QUALITY_REASONS
    if rng.random() >= (P_REVIEW_AFTER_QUALITY_REFUND if bad_goods else P_REVIEW):
        return
    ts = delivered + 10 * MINUTE_MS + int(rng.expovariate(1 / (60 * HOUR_MS)))
    if current is not None:
        ts = max(ts, current.requested + 30 * MINUTE_MS)
    trail.add(Stream.ORDERS, "order.reviewed", "rev", ts)["rating"] = _rating(
        rng, trail, bad_goods, late
    )


def _rating(rng: random.Random, trail: Trail, bad_goods: bool, late: bool) -> int:
    if bad_goods:
        return rng.choices((1, 2, 3), (5, 3, 2))[0]
    product = trail.order.product
    if rng.random() < product.behaviour.p_negative_review + (0.08 if late else 0.0):
        return rng.choice((1, 2))
    return 5 if rng.random() < 0.45 + 0.45 * product.quality else rng.choice((3, 4, 4))
