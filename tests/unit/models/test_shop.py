"""Shop experience score (SCORING.md §4.1, §5, §6), hand-computed.

Shrinkage m = 30. Weights: quality 20, negative reviews 15, pickup 12,
delivery 10, logistics 4, free shipping 4, after-sales 10, disputes 15,
merchant cancels 10 (Σ = 100, so a score is Σ w·sub / 100).
"""

from __future__ import annotations

import pytest

from models import EntityWindows, score, tier_of
from models.boosts import weight
from tests.unit.models.build import SHOP, shop

# A clean shop with 100 paid orders today: every shipped on time, free shipping.
CLEAN = {
    "paid": 100,
    "free_shipping": 100,
    "pickups": 100,
    "pickups_on_time": 100,
    "deliveries": 100,
    "deliveries_on_time": 100,
}
# Its only costs: pickup r = (100 + 30*0.95)/(100 + 30), below the 99% good;
# after-sales with no case is h0 = (0 + 30*24)/(0 + 30) = 24 h -> 100*(72-24)/(72-12) = 80.
# Every other shrunk rate is at or past its good value (e.g. quality 0.6/130 < 0.5%).
CLEAN_PICKUP_SUB = 100 * (0.90 - (100 + 30 * 0.95) / 130) / (0.90 - 0.99)
CLEAN_SCORE = (
    20 * 100
    + 15 * 100
    + 12 * CLEAN_PICKUP_SUB
    + 10 * 100
    + 4 * 100
    + 4 * 100
    + 10 * 80
    + 15 * 100
    + 10 * 100
) / 100

# A troubled shop: 200 paid, 8 quality refunds, 4 bad reviews, 184/200 pickups and
# 162/180 deliveries on time, 1 merchant exception, 150 free shipping, 10 merchant
# resolutions taking 360 h in all, 1 lost dispute, 3 merchant cancels.
TROUBLED = {
    "paid": 200,
    "quality_refunds": 8,
    "negative_reviews": 4,
    "pickups": 200,
    "pickups_on_time": 184,
    "deliveries": 180,
    "deliveries_on_time": 162,
    "merchant_exceptions": 1,
    "free_shipping": 150,
    "merchant_resolutions": 10,
    "merchant_handling_ms": 360 * 3_600_000,
    "lost_disputes": 1,
    "merchant_cancels": 3,
}
TROUBLED_SUBS = {
    "quality_refund_rate": 100 * (0.05 - (8 + 30 * 0.02) / 230) / (0.05 - 0.005),
    "negative_review_rate": 100 * (0.03 - (4 + 30 * 0.01) / 230) / (0.03 - 0.003),
    "pickup_on_time_rate": 100 * (0.90 - (184 + 30 * 0.95) / 230) / (0.90 - 0.99),
    "delivery_on_time_rate": 100 * (0.85 - (162 + 30 * 0.92) / 210) / (0.85 - 0.97),
    "logistics_exception_rate": 100 * (0.01 - (1 + 30 * 0.003) / 230) / (0.01 - 0.001),
    "free_shipping_rate": 100 * (0.50 - (150 + 30 * 0.80) / 230) / (0.50 - 0.95),
    "aftersales_hours": 100 * (72 - (360 + 30 * 24) / (10 + 30)) / (72 - 12),
    "dispute_rate": 100 * (0.005 - (1 + 30 * 0.002) / 230) / (0.005 - 0.0005),
    "merchant_cancel_rate": 100 * (0.025 - (3 + 30 * 0.01) / 230) / (0.025 - 0.005),
}
WEIGHTS = {
    "quality_refund_rate": 20,
    "negative_review_rate": 15,
    "pickup_on_time_rate": 12,
    "delivery_on_time_rate": 10,
    "logistics_exception_rate": 4,
    "free_shipping_rate": 4,
    "aftersales_hours": 10,
    "dispute_rate": 15,
    "merchant_cancel_rate": 10,
}
TROUBLED_SCORE = sum(WEIGHTS[k] * TROUBLED_SUBS[k] for k in WEIGHTS) / 100

# 30 paid orders, 2 of them with a quality refund: 6.7% raw would score 0, but
# shrunk r = (2 + 30*0.02)/(30 + 30) = 4.33% still earns some points.
TINY_SCORE = (
    20 * 100 * (0.05 - (2 + 0.6) / 60) / (0.05 - 0.005)
    + 15 * 100 * (0.03 - (0 + 0.3) / 60) / (0.03 - 0.003)
    + 12 * 100 * (0.90 - (30 + 28.5) / 60) / (0.90 - 0.99)
    + 10 * 100 * (0.85 - (30 + 27.6) / 60) / (0.85 - 0.97)
    + 4 * 100 * (0.01 - (0 + 0.09) / 60) / (0.01 - 0.001)
    + 4 * 100 * (0.50 - (30 + 24) / 60) / (0.50 - 0.95)
    + 10 * 80
    + 15 * 100 * (0.005 - (0 + 0.06) / 60) / (0.005 - 0.0005)
    + 10 * 100  # cancels: (0 + 0.3)/60 = 0.5%, exactly good
) / 100
TINY = dict(
    paid=30,
    quality_refunds=2,
    free_shipping=30,
    pickups=30,
    pickups_on_time=30,
    deliveries=30,
    deliveries_on_time=30,
)

# 10 paid orders in 30 days, 40 more 40 days ago: the 90-day window (50 paid).
FALLBACK = shop(
    ago={
        40: dict(
            paid=40,
            free_shipping=40,
            pickups=40,
            pickups_on_time=38,
            deliveries=40,
            deliveries_on_time=40,
            quality_refunds=1,
        )
    },
    paid=10,
    free_shipping=10,
    pickups=10,
    pickups_on_time=10,
    deliveries=10,
    deliveries_on_time=10,
)
FALLBACK_SCORE = (
    20 * 100 * (0.05 - (1 + 0.6) / 80) / (0.05 - 0.005)
    + 15 * 100 * (0.03 - (0 + 0.3) / 80) / (0.03 - 0.003)
    + 12 * 100 * (0.90 - (48 + 28.5) / 80) / (0.90 - 0.99)
    + 10 * 100  # deliveries (50 + 27.6)/80 = 97%, exactly good
    + 4 * 100 * (0.01 - (0 + 0.09) / 80) / (0.01 - 0.001)
    + 4 * 100 * (0.50 - (50 + 24) / 80) / (0.50 - 0.95)
    + 10 * 80
    + 15 * 100 * (0.005 - (0 + 0.06) / 80) / (0.005 - 0.0005)
    + 10 * 100
) / 100


@pytest.mark.parametrize(
    ("windows", "expected_score", "expected_tier"),
    [
        pytest.param(shop(**CLEAN), CLEAN_SCORE, "EXCELLENT", id="clean"),
        pytest.param(shop(**TROUBLED), TROUBLED_SCORE, "POOR", id="troubled"),
        pytest.param(shop(**TINY), TINY_SCORE, "STANDARD", id="tiny-sample-shrunk"),
        pytest.param(FALLBACK, FALLBACK_SCORE, "GOOD", id="90-day-fallback"),
        pytest.param(shop(paid=29), None, "NEW", id="29-paid-new"),
        pytest.param(shop(ago={40: {"paid": 15}}, paid=10), None, "NEW", id="fallback-still-new"),
        pytest.param(shop(ago={95: {"paid": 25}}, paid=10), None, "NEW", id="older-than-90-days"),
        pytest.param(
            shop(ago={60: {"paid": 100, "quality_refunds": 50}}, **TINY),
            TINY_SCORE,
            "STANDARD",
            id="30-paid-no-fallback",
        ),
        pytest.param(shop(penalty_points=15, **CLEAN), CLEAN_SCORE - 15, "GOOD", id="penalty"),
        pytest.param(
            shop(penalty_points=60, **CLEAN), CLEAN_SCORE - 40, "WATCH", id="penalty-cap"
        ),
        pytest.param(
            shop(ago={89: {"penalty_points": 10}, 90: {"penalty_points": 20}}, **CLEAN),
            CLEAN_SCORE - 10,
            "GOOD",
            id="penalty-90-day-window",
        ),
        pytest.param(shop(penalty_points=40, **TROUBLED), 0.0, "POOR", id="penalty-floor-0"),
        pytest.param(shop(penalty_points=20, paid=5), None, "NEW", id="penalty-new"),
    ],
)
def test_shop_score(
    windows: EntityWindows, expected_score: float | None, expected_tier: str
) -> None:
    result = score(SHOP, windows)
    if expected_score is None:
        assert (result.rated, result.value, result.display) == (False, None, None)
        assert result.penalty == 0
    else:
        assert result.rated
        assert result.value == pytest.approx(expected_score, abs=1e-9)
    assert tier_of(SHOP, result, None) == expected_tier


def test_fallback_reports_its_window_and_evidence() -> None:
    result = score(SHOP, FALLBACK)
    assert (result.window_days, result.paid) == (90, 50)
    assert score(SHOP, shop(**CLEAN)).window_days == 30
    assert score(SHOP, shop(paid=29)).window_days == 90


def test_breakdown_of_a_troubled_shop() -> None:
    result = score(SHOP, shop(**TROUBLED))
    quality = result.indicator("quality_refund_rate")
    assert (quality.x, quality.n) == (8, 200)
    assert quality.value == pytest.approx((8 + 30 * 0.02) / (200 + 30))
    aftersales = result.indicator("aftersales_hours")
    assert (aftersales.x, aftersales.n) == (360, 10)
    assert aftersales.value == pytest.approx((360 + 30 * 24) / (10 + 30))
    for item in result.breakdown:
        assert item.sub == pytest.approx(TROUBLED_SUBS[item.name])
        assert item.points_lost == pytest.approx(WEIGHTS[item.name] * (100 - item.sub) / 100)
    assert 100 - sum(i.points_lost for i in result.breakdown) == pytest.approx(TROUBLED_SCORE)


def test_reasons_are_the_three_costliest_indicators() -> None:
    # Points lost = w·(100 - sub)/100: quality 14.40, disputes 13.70, pickup 8.81,
    # then negative reviews 8.72 (left out).
    reasons = score(SHOP, shop(**TROUBLED)).reasons()
    assert [r.name for r in reasons] == [
        "quality_refund_rate",
        "dispute_rate",
        "pickup_on_time_rate",
    ]
    assert reasons[0].points_lost == pytest.approx(
        20 * (100 - TROUBLED_SUBS["quality_refund_rate"]) / 100
    )
    assert reasons[0].value == pytest.approx(8.6 / 230)


def test_reasons_skip_indicators_that_cost_nothing() -> None:
    reasons = score(SHOP, shop(**CLEAN)).reasons()
    assert [r.name for r in reasons] == ["aftersales_hours", "pickup_on_time_rate"]
    assert score(SHOP, shop(paid=5)).reasons() == ()


def test_penalty_applied_is_reported() -> None:
    assert score(SHOP, shop(penalty_points=60, **CLEAN)).penalty == 40
    result = score(SHOP, shop(penalty_points=15, **CLEAN))
    assert (result.penalty, result.before_penalty) == (15, pytest.approx(CLEAN_SCORE))


@pytest.mark.parametrize(
    ("windows", "expected_display"),
    [
        (shop(**CLEAN), 4.96),  # 3 + 2*97.79.../100 = 4.9559
        (shop(**TROUBLED), 3.76),  # 3 + 2*38.23.../100 = 3.7646
        (shop(penalty_points=40, **TROUBLED), 3.00),
    ],
)
def test_display_is_three_to_five(windows: EntityWindows, expected_display: float) -> None:
    assert score(SHOP, windows).display == expected_display


# The new-shop boost (§5): weight 1.15 for a NEW shop whose paid orders of the last
# 90 days all lie in the last 30, unless >= 10 paid and a shrunk rate trips the guard.
@pytest.mark.parametrize(
    ("windows", "expected_weight"),
    [
        pytest.param(shop(paid=5), 1.15, id="new-and-recent"),
        pytest.param(shop(ago={29: {"paid": 1}}, paid=5), 1.15, id="oldest-29-days-ago"),
        pytest.param(shop(ago={30: {"paid": 1}}, paid=5), 1.00, id="oldest-30-days-ago"),
        pytest.param(shop(ago={95: {"paid": 1}}, paid=5), 1.15, id="older-than-lookback"),
        pytest.param(shop(penalty_points=5), 1.00, id="no-paid-order"),
        # quality: (3 + 30*0.02)/(12 + 30) = 8.57% > 8% -> guard
        pytest.param(shop(paid=12, quality_refunds=3), 1.00, id="guard-quality"),
        # (2 + 0.6)/42 = 6.19%
        pytest.param(shop(paid=12, quality_refunds=2), 1.15, id="below-guard-quality"),
        # cancels: (2 + 30*0.01)/(12 + 30) = 5.48% > 5% -> guard
        pytest.param(shop(paid=12, merchant_cancels=2), 1.00, id="guard-cancels"),
        # (1 + 0.3)/42 = 3.10%
        pytest.param(shop(paid=12, merchant_cancels=1), 1.15, id="below-guard-cancels"),
        # (3 + 0.6)/(10 + 30) = 9% with exactly 10 paid -> guard
        pytest.param(shop(paid=10, quality_refunds=3), 1.00, id="guard-at-10-paid"),
        # (9 + 0.6)/(9 + 30) = 24.6% but only 9 paid -> no guard yet
        pytest.param(shop(paid=9, quality_refunds=9), 1.15, id="guard-needs-10-paid"),
        pytest.param(shop(**CLEAN), 1.20, id="rated-takes-tier-weight"),
    ],
)
def test_new_shop_boost(windows: EntityWindows, expected_weight: float) -> None:
    result = score(SHOP, windows)
    tier = tier_of(SHOP, result, None)
    assert weight(SHOP, result, windows, tier) == expected_weight
