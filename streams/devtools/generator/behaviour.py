"""How a hidden quality level in [0, 1] drives behaviour: the whole mapping, in one place.

Every probability is per order (or per refund, per session, per 1000 viewer-minutes
where named) and moves monotonically with quality, so the scores have something true
to find. ``bad = 1 - quality``; most terms grow with ``bad**2`` so that the good
majority differs little and the bad tail stands out, as on a real marketplace.

    >>> good, bad = shop_behaviour(0.95), shop_behaviour(0.1)
    >>> good.p_merchant_cancel < bad.p_merchant_cancel
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: Buyer-side rates that do not depend on the seller.
P_BUYER_CANCEL: Final = 0.03
P_NO_REASON_REFUND: Final = 0.035
P_REVIEW: Final = 0.3
P_REVIEW_AFTER_QUALITY_REFUND: Final = 0.6


@dataclass(frozen=True, slots=True)
class ShopBehaviour:
    """A shop's (or one product's) propensities, derived from its quality."""

    p_quality_refund: float  # per delivered order
    p_negative_review: float  # per review not caused by a quality refund
    p_pickup_late: float  # carrier first scan after ship_by
    p_delivery_late: float  # delivered after promised_by
    p_merchant_cancel: float
    p_system_cancel: float  # auto-cancel: never shipped
    p_exception: float  # per shipped order
    p_carrier_fault: float  # share of exceptions that are the carrier's
    p_free_shipping: float
    handling_median_h: float  # merchant's after-sales handling time
    p_dispute: float  # a refund goes to the platform instead of the merchant
    p_liable: float  # the platform finds the merchant liable
    p_reject: float  # the merchant rejects a refund


@dataclass(frozen=True, slots=True)
class CreatorBehaviour:
    """A creator's propensities, derived from its quality."""

    p_misdescription: float  # extra not_as_described refunds on orders it sold
    reports_per_1000_vm: float  # live.report per 1000 viewer-minutes
    p_violation: float  # per livestream session
    p_severe: float  # share of violations that are major or severe


def shop_behaviour(quality: float) -> ShopBehaviour:
    """The behaviour of a shop (or a product, from its own quality)."""
    bad = 1.0 - quality
    return ShopBehaviour(
        p_quality_refund=0.003 + 0.14 * bad**1.5,
        p_negative_review=0.01 + 0.12 * bad**1.5,
        p_pickup_late=0.005 + 0.25 * bad**2,
        p_delivery_late=0.02 + 0.2 * bad**2,
        p_merchant_cancel=0.002 + 0.05 * bad**2,
        p_system_cancel=0.0005 + 0.02 * bad**3,
        p_exception=0.004 + 0.02 * bad,
        p_carrier_fault=0.3 + 0.65 * quality,
        p_free_shipping=0.45 + 0.53 * quality,
        handling_median_h=4.0 + 60.0 * bad**1.5,
        p_dispute=0.01 + 0.12 * bad**2,
        p_liable=0.2 + 0.75 * bad,
        p_reject=0.03 + 0.25 * bad,
    )


def creator_behaviour(quality: float) -> CreatorBehaviour:
    """The behaviour of a creator (or a shop's livestream host)."""
    bad = 1.0 - quality
    return CreatorBehaviour(
        p_misdescription=0.001 + 0.03 * bad**1.5,
        reports_per_1000_vm=0.02 + 1.2 * bad**2,
        p_violation=0.002 + 0.12 * bad**3,
        p_severe=0.1 + 0.5 * bad,
    )
