"""The reference tier R: the plain band of the score as of the previous day (SCORING.md §7).

Every case builds per-day rows and checks ``reference`` against the hand-computed
scores of the model tests, one day earlier: R reads windows ending on d - 1
(fallback, evidence and penalties judged there), a product's category as of
d - 1, and today's registers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import (
    EntityWindows,
    ModelInputError,
    Reference,
    decide,
    evaluate,
    load_models,
    reference,
)
from models.counting import COUNTERS
from models.evaluate import score, score_value
from tests.unit.models import test_creator, test_product, test_shop
from tests.unit.models.build import CREATOR, DAY, PRODUCT, SHOP, creator, product, shop

Rows = Mapping[int, Mapping[str, int]]

CLEAN, CLEAN_SCORE = test_shop.CLEAN, test_shop.CLEAN_SCORE
SOLID, SOLID_SCORE = test_creator.SOLID, test_creator.SOLID_SCORE

# test_shop.FALLBACK one day earlier: 10 paid on d - 1, 40 more on d - 41.
SHOP_FALLBACK_ROWS: dict[int, Mapping[str, int]] = {
    41: dict(
        paid=40,
        free_shipping=40,
        pickups=40,
        pickups_on_time=38,
        deliveries=40,
        deliveries_on_time=40,
        quality_refunds=1,
    ),
    1: dict(
        paid=10, free_shipping=10, pickups=10, pickups_on_time=10, deliveries=10,
        deliveries_on_time=10,
    ),
}  # fmt: skip
# Today 20 more clean orders: 30 paid in 30 days, so today's score has no fallback.
TODAY_20 = dict(paid=20, free_shipping=20, pickups=20, pickups_on_time=20, deliveries=20)
TODAY_20 |= {"deliveries_on_time": 20}

# test_creator.FALLBACK one day earlier: 20 paid on d - 1, 20 more on d - 61.
CREATOR_FALLBACK_ROWS: dict[int, Mapping[str, int]] = {
    61: dict(paid=20, reports=2, viewer_minutes=10_000, pickups=20, pickups_on_time=20),
    1: dict(paid=20, pickups=20, pickups_on_time=20),
}


def _plus(row: Mapping[str, int], **more: int) -> dict[str, int]:
    return {**row, **more}


@pytest.mark.parametrize(
    ("windows", "expected"),
    [
        pytest.param(shop(**CLEAN), None, id="rated-only-from-today"),
        pytest.param(shop(ago={1: CLEAN}), Reference("EXCELLENT", CLEAN_SCORE), id="yesterday"),
        pytest.param(
            shop(ago={1: CLEAN}, penalty_points=30),
            Reference("EXCELLENT", CLEAN_SCORE),
            id="todays-penalty-not-in-r",
        ),
        pytest.param(
            shop(ago={1: CLEAN, 90: {"penalty_points": 20}, 91: {"penalty_points": 10}}),
            Reference("STANDARD", CLEAN_SCORE - 20),
            id="penalties-over-90-days-ending-d-1",
        ),
        pytest.param(
            shop(ago={1: _plus(CLEAN, penalty_points=35), 90: {"penalty_points": 20}}),
            Reference("WATCH", CLEAN_SCORE - 40),
            id="penalty-cap",
        ),
        pytest.param(
            shop(ago=SHOP_FALLBACK_ROWS, **TODAY_20),
            Reference("GOOD", test_shop.FALLBACK_SCORE),
            id="90-day-fallback-judged-on-d-1",
        ),
        pytest.param(
            shop(ago={1: {"paid": 29}}, paid=10), None, id="unrated-yesterday-rated-today"
        ),
    ],
)
def test_shop_reference(windows: EntityWindows, expected: Reference | None) -> None:
    got = reference(SHOP, windows)
    if expected is None:
        assert got is None
    else:
        assert got is not None
        assert (got.tier, got.score) == (expected.tier, pytest.approx(expected.score, abs=1e-9))


def test_shop_rated_yesterday_and_new_today() -> None:
    # 30 paid orders on day d - 90: inside the 90 days ending d - 1, outside today's.
    windows = shop(ago={90: {"paid": 30}})
    decision = decide(SHOP, windows)
    assert decision.reference is not None
    assert decision.reference == reference(SHOP, windows)
    assert decision.state.published == ("NEW", 1.0, 1.0)  # no paid order left: no boost


def test_the_fallback_is_judged_separately_today_and_yesterday() -> None:
    # Yesterday 10 paid in 30 days: the 90-day fallback (50 paid, 85.31, GOOD). Today
    # 30 paid in 30 days: no fallback, only the 30 clean orders (m = 30, so each rate
    # is half its baseline): subs 88.89, 92.59, 83.33, 91.67, 94.44, 88.89, 80, 88.89,
    # 100 weighted 20/15/12/10/4/4/10/15/10 -> exactly 89.5, in R's band: GOOD.
    decision = decide(SHOP, shop(ago=SHOP_FALLBACK_ROWS, **TODAY_20))
    assert (decision.score.window_days, decision.score.value) == (30, pytest.approx(89.5))
    assert decision.reference is not None
    assert decision.reference.score == pytest.approx(test_shop.FALLBACK_SCORE)
    assert decision.state.tier == "GOOD"


@pytest.mark.parametrize(
    ("windows", "expected_tier", "expected_score", "today_tier"),
    [
        pytest.param(creator(**SOLID), None, None, "STANDARD", id="rated-only-from-today"),
        pytest.param(creator(ago={1: SOLID}), "STANDARD", SOLID_SCORE, "STANDARD", id="yesterday"),
        pytest.param(
            creator(ago={1: SOLID, 90: {"penalty_points": 20}}),
            "WATCH",
            SOLID_SCORE - 20,  # 58.21; today 78.21 reaches 67, not 82
            "STANDARD",
            id="penalty-on-d-90",
        ),
        pytest.param(
            creator(ago=CREATOR_FALLBACK_ROWS),
            "EXCELLENT",
            test_creator.FALLBACK_SCORE,
            "EXCELLENT",
            id="90-day-fallback-judged-on-d-1",
        ),
    ],
)
def test_creator_reference(
    windows: EntityWindows,
    expected_tier: str | None,
    expected_score: float | None,
    today_tier: str,
) -> None:
    got = reference(CREATOR, windows)
    if expected_tier is None:
        assert got is None
    else:
        assert got is not None
        assert (got.tier, got.score) == (expected_tier, pytest.approx(expected_score))
    assert decide(CREATOR, windows).state.tier == today_tier


def _category(rows: Rows) -> EntityWindows:
    return EntityWindows.from_days("category", "c1", DAY, {DAY - b: r for b, r in rows.items()})


AT_PAR_YESTERDAY = {1: {"amount_fen": 2_000_000, "quantity": 400}}  # 5 000 fen a unit
CHEAP_TODAY = {0: {"amount_fen": 1_000_000, "quantity": 1_000}}  # 1 000 fen a unit
GOOD_PRODUCT, GOOD_SCORE = test_product.GOOD_PRODUCT, test_product.GOOD_SCORE
PRICE_AT_PAR = test_product.PRICE_AT_PAR


@pytest.mark.parametrize(
    ("registers", "category", "expected_score"),
    [
        pytest.param(test_product.REGISTERS, AT_PAR_YESTERDAY, GOOD_SCORE, id="at-par"),
        pytest.param(
            test_product.REGISTERS,
            AT_PAR_YESTERDAY | CHEAP_TODAY,  # today's sales are not in the d - 1 totals
            GOOD_SCORE,
            id="category-as-of-d-1",
        ),
        pytest.param(
            test_product.REGISTERS,
            {1: {"amount_fen": 2_500_000, "quantity": 400}},  # 6 250 a unit: index 0.8
            GOOD_SCORE + 15 * (100 - PRICE_AT_PAR) / 100,
            id="cheaper-than-its-category",
        ),
        pytest.param(
            {
                "listing_quality": {DAY - 30: (1, "e1", 90)},
                "brand_authorized": {DAY - 30: (1, "e1", 1)},
            },
            AT_PAR_YESTERDAY,
            GOOD_SCORE - 10 * (80 - 60) / 100 - 5 * (100 - 40) / 100,
            id="register-of-d-30-is-not-todays",
        ),
    ],
)
def test_product_reference(
    registers: dict[str, dict[int, tuple[int, str, int]]],
    category: Rows,
    expected_score: float,
) -> None:
    # The good product's orders on d - 1; its registers' entry of day d is today's value.
    windows = product(ago={1: GOOD_PRODUCT}, registers=registers)
    got = reference(PRODUCT, windows, _category(category))
    assert got is not None
    assert got.score == pytest.approx(expected_score)
    assert got.tier == ("EXCELLENT" if expected_score >= 90 else "GOOD")


def test_product_tier_against_the_category_of_d_1() -> None:
    # R GOOD at 89.10 (at par as of d - 1); today the category sells at 2 142.86 a unit,
    # index 2.33, price sub 0: 89.10 - 11.25 = 77.85 < 78 falls to STANDARD.
    windows = product(ago={1: GOOD_PRODUCT}, registers=test_product.REGISTERS)
    decision = decide(PRODUCT, windows, category=_category(AT_PAR_YESTERDAY | CHEAP_TODAY))
    assert decision.score.value == pytest.approx(GOOD_SCORE - 15 * PRICE_AT_PAR / 100)
    assert decision.reference is not None
    assert decision.reference.tier == "GOOD"
    assert decision.state.tier == "STANDARD"


def test_product_rated_yesterday_and_new_today() -> None:
    windows = product(ago={30: {"paid": 20, "quantity": 20, "amount_fen": 100_000}})
    decision = decide(PRODUCT, windows, category=_category(AT_PAR_YESTERDAY))
    assert decision.reference is not None
    assert decision.state.published == ("NEW", 1.0, 1.0)


def test_reference_needs_previous_totals() -> None:
    today_only = EntityWindows("shop", "s1", DAY, shop(**CLEAN).totals)
    with pytest.raises(ModelInputError):
        reference(SHOP, today_only)
    category_today_only = EntityWindows("category", "c1", DAY, {30: {}})
    with pytest.raises(ModelInputError):
        reference(PRODUCT, product(ago={1: GOOD_PRODUCT}), category_today_only)


def test_decide_without_previous_totals_is_refused() -> None:
    """No tier without its reference: windows that lack yesterday's totals are an input error."""
    clean = shop(penalty_points=8, **CLEAN)  # 89.79
    today_only = EntityWindows("shop", "s1", DAY, clean.totals)
    with pytest.raises(ModelInputError, match="no 30-day totals"):
        decide(SHOP, today_only)
    category_today_only = EntityWindows("category", "c1", DAY, _category(AT_PAR_YESTERDAY).totals)
    windows = product(ago={1: GOOD_PRODUCT}, registers=test_product.REGISTERS)
    with pytest.raises(ModelInputError):
        decide(PRODUCT, windows, category=category_today_only)


# --- R is remembered by its inputs (models.evaluate.score_value) --------------------------

_ROWS = st.dictionaries(
    st.integers(0, 95),
    st.fixed_dictionaries(
        {"paid": st.integers(0, 40), "deliveries": st.integers(0, 40)},
        optional={"quality_refunds": st.integers(0, 5), "penalty_points": st.integers(0, 20)},
    ),
    max_size=12,
)


@given(days=st.lists(_ROWS, min_size=1, max_size=6), today=st.integers(20_300, 20_302))
def test_a_remembered_reference_is_the_score_of_yesterday(
    days: list[dict[int, dict[str, int]]], today: int
) -> None:
    """Whatever was scored before (other entities, the same windows, other days),
    R is the score of yesterday's windows, computed afresh."""
    config = load_models()["shop"]
    for n, rows in enumerate(days * 2):  # each history twice: the second one remembered
        w = EntityWindows.from_days(
            "shop", f"s{n % 3}", today, {today - d: r for d, r in rows.items()}
        )
        fresh = score(config, w.yesterday()).value
        got = reference(config, w)
        assert (None if got is None else got.score) == fresh
        decide(config, w)  # remembers today's score: tomorrow's R for the same windows


_COUNT = st.one_of(st.integers(0, 40), st.integers(0, 10**7))
_ANY_ROW = st.dictionaries(st.sampled_from(sorted(set().union(*COUNTERS.values()))), _COUNT)


@given(
    entity_type=st.sampled_from(["shop", "product", "creator"]),
    rows=st.dictionaries(st.integers(0, 95), _ANY_ROW, max_size=15),
    category=st.dictionaries(st.integers(0, 95), _ANY_ROW, max_size=5),
    registers=st.fixed_dictionaries({}, optional={"listing_quality": st.integers(0, 100)}),
)
def test_a_score_value_is_the_score_s_value(
    entity_type: str,
    rows: dict[int, dict[str, int]],
    category: dict[int, dict[str, int]],
    registers: dict[str, int],
) -> None:
    """``score_value`` (R's path: no breakdown objects) gives the very float ``score`` does."""
    config, today = load_models()[entity_type], 20_300
    names = COUNTERS[entity_type]
    days = {today - d: {k: v for k, v in r.items() if k in names} for d, r in rows.items()}
    w = EntityWindows.from_days(entity_type, "e1", today, days)
    if entity_type == "product":
        w = replace(w, latest_values=registers)
    cat = None
    if entity_type == "product":
        cat_days = {
            today - d: {k: v for k, v in r.items() if k in COUNTERS["category"]}
            for d, r in category.items()
        }
        cat = EntityWindows.from_days("category", "c1", today, cat_days)
    evaluate._VALUES.clear()  # a miss: computed, not remembered
    assert score_value(config, w, category=cat) == score(config, w, category=cat).value
