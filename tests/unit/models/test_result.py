"""Rounding for display (half-even, 2 decimals) and the display formulas (§3, §4)."""

from __future__ import annotations

import dataclasses

import pytest

from models import IndicatorResult, round_half_even, score, shrinkage_note
from models.result import display_value
from tests.unit.models.build import CREATOR, PRODUCT, SHOP, creator, product, shop
from tests.unit.models.test_shop import TROUBLED


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2.675, 2.68),  # shortest decimal form, not the binary 2.67499...
        (0.125, 0.12),  # half to even
        (0.375, 0.38),
        (87.444, 87.44),
        (-0.005, -0.0),
        (99.995, 100.0),
    ],
)
def test_round_half_even(value: float, expected: float) -> None:
    assert round_half_even(value) == expected


@pytest.mark.parametrize(
    ("score", "offset", "span", "expected"),
    [
        (87.25, 3, 2, 4.74),  # 3 + 1.745: half to even (4)
        (87.75, 3, 2, 4.76),  # 3 + 1.755: half to even (6); float arithmetic would say 4.75
        (100.0, 3, 2, 5.0),
        (0.0, 3, 2, 3.0),
        (50.1, 0, 5, 2.5),  # 50.1/20 = 2.505
        (50.3, 0, 5, 2.52),  # 2.515
        (77.125, 0, 100, 77.12),
        (77.135, 0, 100, 77.14),
    ],
)
def test_display_formula(score: float, offset: float, span: float, expected: float) -> None:
    assert display_value(score, offset, span, 2) == expected


@pytest.mark.parametrize(
    ("result", "note"),
    [
        pytest.param(
            score(SHOP, shop(paid=40, quality_refunds=3)).indicator("quality_refund_rate"),
            "3 / 40 = 7.50 %, shrunk toward the 2.00 % baseline with m = 30 → 5.14 %",
            id="rate",  # (3 + 30·0.02)/(40 + 30) = 5.142857 %
        ),
        pytest.param(
            score(SHOP, shop(**TROUBLED)).indicator("aftersales_hours"),
            "360 / 10 = 36.00 h, shrunk toward the 24.00 h baseline with m = 30 → 27.00 h",
            id="mean",  # (360 + 30·24)/(10 + 30)
        ),
        pytest.param(
            score(SHOP, shop(paid=40)).indicator("aftersales_hours"),
            "no data (n = 0): the 24.00 h baseline",
            id="no-data",
        ),
        pytest.param(
            score(CREATOR, creator(paid=40, reports=3, viewer_minutes=20_000)).indicator(
                "report_rate"
            ),
            "3 / 20 = 0.15 per 1000 viewer-minutes, shrunk toward the 0.20 per 1000 "
            "viewer-minutes baseline with m = 20 → 0.18 per 1000 viewer-minutes",
            id="per-1000-viewer-minutes",  # (3 + 20·0.2)/(20 + 20) = 0.175, half-even
        ),
        pytest.param(
            score(SHOP, shop(paid=200, lost_disputes=1)).indicator("dispute_rate"),
            "1 / 200 = 0.50 %, shrunk toward the 0.20 % baseline with m = 30 → 0.46 %",
            id="small-rate",  # (1 + 0.06)/230 = 0.4609 %
        ),
    ],
)
def test_shrinkage_note(result: IndicatorResult, note: str) -> None:
    assert shrinkage_note(result) == note


def test_shrunk_results_carry_baseline_and_strength() -> None:
    quality = score(SHOP, shop(paid=40)).indicator("quality_refund_rate")
    assert (quality.p0, quality.m, quality.unit) == (0.02, 30, "%")


@pytest.mark.parametrize("name", ["heat", "price_index", "listing_quality", "brand"])
def test_unshrunk_indicators_have_no_shrinkage_note(name: str) -> None:
    result = score(PRODUCT, product(paid=30, quantity=30, amount_fen=1)).indicator(name)
    assert (result.p0, result.m, shrinkage_note(result)) == (None, None, None)


@pytest.mark.parametrize(
    ("lost", "kept"), [(0.004, False), (0.005, False), (0.0051, True), (0.2, True)]
)
def test_a_loss_that_rounds_to_nothing_is_no_reason(lost: float, kept: bool) -> None:
    """Seen in a soak run: a reason with points_lost 0.0 broke the message's schema."""
    s = score(SHOP, shop(**TROUBLED))
    first, *rest = (dataclasses.replace(r, points_lost=0.0) for r in s.breakdown)
    tiny = dataclasses.replace(s, breakdown=(dataclasses.replace(first, points_lost=lost), *rest))
    assert [r.name for r in tiny.reasons()] == ([first.name] if kept else [])
