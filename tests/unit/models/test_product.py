"""Product score (SCORING.md §4.2), hand-computed.

Shrinkage m = 20. Weights: heat 20, quality 20, negative reviews 15, pickup 8,
merchant cancels 7, price index 15, listing quality 10, brand 5 (Σ = 100).
"""

from __future__ import annotations

import math

import pytest

from models import EntityWindows, ModelInputError, score, tier_of
from tests.unit.models.build import DAY, PRODUCT, category, product

# 100 paid orders today at 50 yuan a unit, all picked up on time; the category
# also sells at 50 yuan a unit (index 1.0); listing quality 80, brand authorised.
GOOD_PRODUCT = dict(paid=100, pickups=100, pickups_on_time=100, amount_fen=500_000, quantity=100)
REGISTERS = {
    "listing_quality": {DAY: (1, "e1", 80)},
    "brand_authorized": {DAY: (1, "e1", 1)},
}
AT_PAR = category(amount_fen=2_000_000, quantity=400)
HEAT_100 = 100 * math.log(1 + 100) / math.log(1 + 500)
PRICE_AT_PAR = 100 * (1.30 - 1.0) / (1.30 - 0.90)  # 75
# quality (0 + 20*0.02)/120, negative reviews 0.2/120, pickup (100 + 19)/120 and
# cancels 0.2/120 are all at or past their good value: 100 each.
GOOD_SCORE = (
    20 * HEAT_100 + 20 * 100 + 15 * 100 + 8 * 100 + 7 * 100 + 15 * PRICE_AT_PAR + 10 * 80 + 5 * 100
) / 100

# 20 paid orders (just enough evidence), one quality refund: 5% raw would be
# sub 0, shrunk r = (1 + 20*0.02)/(20 + 20) = 3.5%. No registers: listing 60, brand 40.
TINY = dict(
    paid=20, quality_refunds=1, pickups=20, pickups_on_time=20, amount_fen=100_000, quantity=20
)
TINY_SCORE = (
    20 * 100 * math.log(1 + 20) / math.log(501)
    + 20 * 100 * (0.05 - (1 + 0.4) / 40) / (0.05 - 0.005)
    + 15 * 100 * (0.03 - (0 + 0.2) / 40) / (0.03 - 0.003)
    + 8 * 100 * (0.90 - (20 + 19) / 40) / (0.90 - 0.99)
    + 7 * 100  # cancels (0 + 0.2)/40 = 0.5%, exactly good
    + 15 * PRICE_AT_PAR  # 5 000 fen a unit, as the category
    + 10 * 60
    + 5 * 40
) / 100


@pytest.mark.parametrize(
    ("windows", "expected_score", "expected_tier"),
    [
        pytest.param(product(registers=REGISTERS, **GOOD_PRODUCT), GOOD_SCORE, "GOOD", id="good"),
        pytest.param(product(**TINY), TINY_SCORE, "WATCH", id="tiny-sample-shrunk"),
        pytest.param(product(paid=19, quantity=19, amount_fen=1), None, "NEW", id="19-paid-new"),
        pytest.param(product(ago={31: {"paid": 50}}, paid=19), None, "NEW", id="no-fallback"),
    ],
)
def test_product_score(
    windows: EntityWindows, expected_score: float | None, expected_tier: str
) -> None:
    result = score(PRODUCT, windows, category=AT_PAR)
    assert result.value == (None if expected_score is None else pytest.approx(expected_score))
    assert tier_of(PRODUCT, result, None) == expected_tier


def test_display_is_the_score_itself() -> None:
    result = score(PRODUCT, product(registers=REGISTERS, **GOOD_PRODUCT), category=AT_PAR)
    assert result.display == 89.10  # GOOD_SCORE = 89.0977...
    assert result.value == pytest.approx(GOOD_SCORE)


@pytest.mark.parametrize(
    ("ago", "today", "expected_x", "expected_sub"),
    [
        ({}, 100, 100, 100 * math.log(101) / math.log(501)),
        ({6: {"paid": 4}}, 1, 5, 100 * math.log(6) / math.log(501)),
        ({7: {"paid": 400}}, 5, 5, 100 * math.log(6) / math.log(501)),  # 7 days ago is out
        ({}, 500, 500, 100.0),
        ({}, 900, 900, 100.0),  # saturated
        ({10: {"paid": 30}}, 0, 0, 0.0),
    ],
)
def test_heat_is_log_of_paid_orders_in_7_days(
    ago: dict[int, dict[str, int]], today: int, expected_x: int, expected_sub: float
) -> None:
    windows = product(ago=ago, paid=today) if today else product(ago=ago)
    heat = score(PRODUCT, windows, category=AT_PAR).indicator("heat")
    assert (heat.x, heat.value, heat.window_days) == (expected_x, expected_x, 7)
    assert heat.sub == pytest.approx(expected_sub)


@pytest.mark.parametrize(
    ("amount_fen", "quantity", "expected_index", "expected_sub"),
    [
        (400_000, 100, 4000 / 5000, 100.0),  # cheaper than good 0.90: capped at 100
        (450_000, 100, 0.90, 100.0),
        (500_000, 100, 1.0, 100 * (1.30 - 1.0) / (1.30 - 0.90)),
        (600_000, 100, 6000 / 5000, 100 * (1.30 - 1.2) / (1.30 - 0.90)),
        (750_000, 100, 1.5, 0.0),
        (120_000, 20, 6000 / 5000, 100 * (1.30 - 1.2) / (1.30 - 0.90)),  # no shrinkage
    ],
)
def test_price_index_is_not_shrunk(
    amount_fen: int, quantity: int, expected_index: float, expected_sub: float
) -> None:
    windows = product(paid=quantity, amount_fen=amount_fen, quantity=quantity)
    price = score(PRODUCT, windows, category=AT_PAR).indicator("price_index")
    assert (price.x, price.n) == (amount_fen / quantity, 5000)
    assert price.value == pytest.approx(expected_index)
    assert price.sub == pytest.approx(expected_sub)
    assert not price.defaulted


@pytest.mark.parametrize(
    ("windows", "category_windows"),
    [
        pytest.param(product(**GOOD_PRODUCT), None, id="no-category"),
        pytest.param(product(**GOOD_PRODUCT), category(0, 0), id="category-without-quantity"),
        pytest.param(product(**GOOD_PRODUCT), category(0, 10), id="category-average-0"),
        pytest.param(product(paid=3), AT_PAR, id="product-without-quantity"),
    ],
)
def test_price_index_without_data_is_at_par(
    windows: EntityWindows, category_windows: EntityWindows | None
) -> None:
    price = score(PRODUCT, windows, category=category_windows).indicator("price_index")
    assert (price.value, price.defaulted) == (1.0, True)
    assert price.sub == pytest.approx(75.0)


def test_category_must_match_the_product_day() -> None:
    stale = EntityWindows("category", "c1", DAY - 1, {})
    with pytest.raises(ModelInputError):
        score(PRODUCT, product(paid=1), category=stale)
    with pytest.raises(ModelInputError):
        score(PRODUCT, product(paid=1), category=product(paid=1))


@pytest.mark.parametrize(
    ("registers", "expected_listing", "expected_brand_sub"),
    [
        pytest.param({}, 60, 40, id="defaults"),
        pytest.param(REGISTERS, 80, 100, id="latest-today"),
        pytest.param(
            {
                "listing_quality": {DAY - 30: (1, "e1", 90)},
                "brand_authorized": {DAY - 30: (1, "e", 1)},
            },
            60,
            40,
            id="outside-30-days",
        ),
        pytest.param(
            {
                "listing_quality": {DAY - 29: (1, "e1", 90)},
                "brand_authorized": {DAY - 29: (1, "e", 1)},
            },
            90,
            100,
            id="29-days-ago",
        ),
        pytest.param(
            {"listing_quality": {DAY - 3: (500, "a", 30), DAY - 5: (400, "z", 70)}},
            30,
            40,
            id="largest-ts-wins",
        ),
        pytest.param(
            {"listing_quality": {DAY - 3: (500, "a", 30), DAY - 4: (500, "b", 70)}},
            70,
            40,
            id="then-largest-event-id",
        ),
        pytest.param(
            {"brand_authorized": {DAY - 3: (500, "a", 1), DAY - 1: (600, "b", 0)}},
            60,
            40,
            id="brand-revoked",
        ),
    ],
)
def test_listing_quality_and_brand_registers(
    registers: dict[str, dict[int, tuple[int, str, int]]],
    expected_listing: float,
    expected_brand_sub: float,
) -> None:
    result = score(PRODUCT, product(registers=registers, paid=1), category=AT_PAR)
    listing = result.indicator("listing_quality")
    assert (listing.value, listing.sub) == (expected_listing, pytest.approx(expected_listing))
    assert result.indicator("brand").sub == expected_brand_sub
