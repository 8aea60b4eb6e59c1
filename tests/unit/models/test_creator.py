"""Creator reputation score (SCORING.md §4.3, §6), hand-computed.

Shrinkage m = 20. Weights: misdescription 15, reports 15, quality 25, negative
reviews 15, disputes 15, pickup 15 (Σ = 100).
"""

from __future__ import annotations

import pytest

from models import EntityWindows, score, tier_of
from tests.unit.models.build import CREATOR, creator

# 100 paid orders, 1 misdescription, 3 reports over 20 000 viewer-minutes,
# 2 quality refunds, 1 bad review, no lost dispute, 97/100 pickups on time.
SOLID = dict(
    paid=100,
    misdescriptions=1,
    reports=3,
    viewer_minutes=20_000,
    quality_refunds=2,
    negative_reviews=1,
    pickups=100,
    pickups_on_time=97,
)
SOLID_SCORE = (
    15 * 100 * (0.03 - (1 + 20 * 0.008) / 120) / (0.03 - 0.003)
    + 15 * 100 * (1.0 - (3 + 20 * 0.2) / (20 + 20)) / (1.0 - 0.05)  # per 1000 viewer-minutes
    + 25 * 100 * (0.05 - (2 + 20 * 0.02) / 120) / (0.05 - 0.005)
    + 15 * 100 * (0.03 - (1 + 20 * 0.01) / 120) / (0.03 - 0.003)
    + 15 * 100  # disputes (0 + 20*0.002)/120 = 0.033% < 0.05%
    + 15 * 100 * (0.90 - (97 + 20 * 0.95) / 120) / (0.90 - 0.99)
) / 100

# 20 paid today, 20 more 60 days ago (with the reports and viewer minutes):
# 20 < 30 in 30 days, so the 90-day window holds 40 paid orders.
FALLBACK = creator(
    ago={60: dict(paid=20, reports=2, viewer_minutes=10_000, pickups=20, pickups_on_time=20)},
    paid=20,
    pickups=20,
    pickups_on_time=20,
)
FALLBACK_SCORE = (
    15 * 100  # misdescriptions (0 + 20*0.008)/60 = 0.27% < 0.3%
    + 15 * 100 * (1.0 - (2 + 4) / (10 + 20)) / (1.0 - 0.05)
    + 25 * 100 * (0.05 - (0 + 0.4) / 60) / (0.05 - 0.005)
    + 15 * 100 * (0.03 - (0 + 0.2) / 60) / (0.03 - 0.003)
    + 15 * 100 * (0.005 - (0 + 0.04) / 60) / (0.005 - 0.0005)
    + 15 * 100 * (0.90 - (40 + 19) / 60) / (0.90 - 0.99)
) / 100


@pytest.mark.parametrize(
    ("windows", "expected_score", "expected_tier"),
    [
        pytest.param(creator(**SOLID), SOLID_SCORE, "STANDARD", id="solid"),
        pytest.param(FALLBACK, FALLBACK_SCORE, "EXCELLENT", id="90-day-fallback"),
        pytest.param(creator(ago={60: {"paid": 9}}, paid=20), None, "NEW", id="29-in-90-days"),
        pytest.param(creator(penalty_points=20, **SOLID), SOLID_SCORE - 20, "WATCH", id="penalty"),
        pytest.param(
            creator(penalty_points=45, **SOLID), SOLID_SCORE - 40, "POOR", id="penalty-cap"
        ),
        pytest.param(creator(penalty_points=45, paid=3), None, "NEW", id="penalty-while-new"),
    ],
)
def test_creator_score(
    windows: EntityWindows, expected_score: float | None, expected_tier: str
) -> None:
    result = score(CREATOR, windows)
    assert result.value == (None if expected_score is None else pytest.approx(expected_score))
    assert tier_of(CREATOR, result, None) == expected_tier


def test_report_rate_is_per_thousand_viewer_minutes() -> None:
    report = score(CREATOR, creator(**SOLID)).indicator("report_rate")
    assert (report.x, report.n) == (3, 20.0)
    assert report.value == pytest.approx((3 + 20 * 0.2) / (20_000 / 1000 + 20))


def test_no_viewer_minutes_is_the_baseline() -> None:
    report = score(CREATOR, creator(paid=40)).indicator("report_rate")
    assert report.value == pytest.approx(0.2)


def test_fallback_window_and_evidence() -> None:
    result = score(CREATOR, FALLBACK)
    assert (result.window_days, result.paid, result.rated) == (90, 40, True)


@pytest.mark.parametrize(
    ("windows", "expected_display"),
    [
        (creator(**SOLID), 3.91),  # 78.21.../20 = 3.9105
        (creator(penalty_points=45, **SOLID), 1.91),  # 38.21.../20
    ],
)
def test_display_is_score_over_20(windows: EntityWindows, expected_display: float) -> None:
    assert score(CREATOR, windows).display == expected_display
