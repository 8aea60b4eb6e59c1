"""Tiers and hysteresis (SCORING.md §7): thresholds 90/80/65/50, margin 2."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import next_tier, plain_band, score
from models.tiers import at_least, tier_after, tier_weight
from tests.unit.models.build import MODELS, SHOP, shop

TIERS = SHOP.tiers
THRESHOLDS = {"EXCELLENT": 90.0, "GOOD": 80.0, "STANDARD": 65.0, "WATCH": 50.0, "POOR": 0.0}


@pytest.mark.parametrize(
    ("previous", "value", "expected"),
    [
        # first rating (or after NEW, or a tier this config does not know): plain band
        (None, 90.0, "EXCELLENT"),
        (None, 89.99, "GOOD"),
        (None, 80.0, "GOOD"),
        (None, 65.0, "STANDARD"),
        (None, 64.99, "WATCH"),
        (None, 50.0, "WATCH"),
        (None, 49.99, "POOR"),
        (None, 0.0, "POOR"),
        ("NEW", 91.0, "EXCELLENT"),
        ("NEW", 79.0, "STANDARD"),
        ("RETIRED", 70.0, "STANDARD"),
        # up needs the next threshold + 2
        ("GOOD", 91.99, "GOOD"),
        ("GOOD", 92.0, "EXCELLENT"),
        ("STANDARD", 81.99, "STANDARD"),
        ("STANDARD", 82.0, "GOOD"),
        ("WATCH", 66.99, "WATCH"),
        ("WATCH", 67.0, "STANDARD"),
        ("POOR", 51.99, "POOR"),
        ("POOR", 52.0, "WATCH"),
        # multi-tier jumps up: the highest tier whose threshold + 2 is reached
        ("POOR", 92.0, "EXCELLENT"),
        ("POOR", 91.99, "GOOD"),
        ("POOR", 67.0, "STANDARD"),
        ("WATCH", 100.0, "EXCELLENT"),
        ("STANDARD", 90.5, "GOOD"),
        # down only below the tier's threshold - 2
        ("EXCELLENT", 88.0, "EXCELLENT"),
        ("EXCELLENT", 87.99, "GOOD"),
        ("GOOD", 78.0, "GOOD"),
        ("GOOD", 77.99, "STANDARD"),
        ("STANDARD", 63.0, "STANDARD"),
        ("STANDARD", 62.99, "WATCH"),
        # multi-tier falls: to the plain band of the score
        ("EXCELLENT", 70.0, "STANDARD"),
        ("EXCELLENT", 64.0, "WATCH"),
        ("GOOD", 55.0, "WATCH"),
        # below 50 is immediate, whatever the margin
        ("WATCH", 50.0, "WATCH"),
        ("WATCH", 49.99, "POOR"),
        ("WATCH", 48.5, "POOR"),
        ("STANDARD", 49.99, "POOR"),
        ("EXCELLENT", 10.0, "POOR"),
        ("POOR", 0.0, "POOR"),
        # inside the band: stay
        ("GOOD", 89.0, "GOOD"),
        ("STANDARD", 79.99, "STANDARD"),
        ("EXCELLENT", 100.0, "EXCELLENT"),
        # unrated is NEW, whatever came before
        ("EXCELLENT", None, "NEW"),
        (None, None, "NEW"),
    ],
)
def test_hysteresis(previous: str | None, value: float | None, expected: str) -> None:
    assert tier_after(TIERS, value, previous) == expected


def test_next_tier_reads_the_score() -> None:
    rated = score(SHOP, shop(paid=100))
    assert next_tier(SHOP, rated, None) == plain_band(TIERS, rated.value or 0.0)
    assert next_tier(SHOP, score(SHOP, shop(paid=3)), "GOOD") == "NEW"
    # Tiers use the unrounded value: 91.999 shows as 92.00 but does not move up.
    nearly = dataclasses.replace(rated, value=91.999)
    assert next_tier(SHOP, nearly, "GOOD") == "GOOD"


@pytest.mark.parametrize(
    ("tier", "expected"),
    [("EXCELLENT", 1.20), ("GOOD", 1.10), ("STANDARD", 1.00), ("WATCH", 0.85), ("POOR", 0.60)],
)
def test_tier_weights(tier: str, expected: float) -> None:
    for config in MODELS.values():
        assert tier_weight(config.tiers, tier) == expected
    assert tier_weight(TIERS, "NEW") == 1.00


def test_standard_or_better() -> None:
    better = [t for t in (*TIERS.names, "NEW") if at_least(TIERS, t, "STANDARD")]
    assert better == ["EXCELLENT", "GOOD", "STANDARD"]


def _allowed(value: float | None) -> set[str]:
    """Every tier §7 can leave an entity in for a final ``value``, whatever the path."""
    if value is None:
        return {"NEW"}
    if value < 50:
        return {"POOR"}
    names = list(THRESHOLDS)
    allowed = set()
    for rank, name in enumerate(names):
        low = THRESHOLDS[name] - 2  # kept until it falls below threshold - 2 ...
        high = THRESHOLDS[names[rank - 1]] + 2 if rank else float("inf")  # ... or rises past
        if low <= value < high:
            allowed.add(name)
    return allowed


def _outside_every_band(value: float) -> bool:
    """Outside every [threshold - 2, threshold + 2): the band where the path matters."""
    return all(value < t - 2 or value >= t + 2 for t in THRESHOLDS.values() if t > 0)


SCORES = st.one_of(
    st.none(),
    st.floats(min_value=0, max_value=100, allow_nan=False),
    st.sampled_from([48.0, 49.99, 50.0, 52.0, 63.0, 67.0, 78.0, 82.0, 88.0, 92.0]),
)


@given(st.lists(SCORES, min_size=1, max_size=30))
def test_any_sequence_ends_in_a_tier_the_rule_allows(values: list[float | None]) -> None:
    tier: str | None = None
    for value in values:
        tier = tier_after(TIERS, value, tier)
    final = values[-1]
    assert tier in _allowed(final)
    if final is not None and _outside_every_band(final):
        assert tier == plain_band(TIERS, final)
