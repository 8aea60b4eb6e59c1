"""Tiers and hysteresis against yesterday's band (SCORING.md §7, v2): 90/80/65/50, margin 2."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import Reference, plain_band, score, tier_against, tier_of, tier_sentence
from models.tiers import at_least, tier_weight
from tests.unit.models.build import MODELS, SHOP, shop

TIERS = SHOP.tiers
RANK = {name: rank for rank, name in enumerate(TIERS.names)}  # 0 = EXCELLENT

# SCORING.md §7's own examples (R -> score -> tier), word for word.
RULEBOOK_EXAMPLES = [
    ("GOOD", 91.0, "GOOD"),
    ("GOOD", 92.0, "EXCELLENT"),
    ("EXCELLENT", 88.5, "EXCELLENT"),
    ("EXCELLENT", 87.9, "GOOD"),
    ("STANDARD", 91.0, "GOOD"),
    ("WATCH", 49.9, "POOR"),
    ("POOR", 51.0, "POOR"),
    (None, 89.0, "GOOD"),
]

EDGES = [
    # no reference (unrated yesterday, or a tier this config does not know): plain band
    (None, 90.0, "EXCELLENT"),
    (None, 89.99, "GOOD"),
    (None, 80.0, "GOOD"),
    (None, 65.0, "STANDARD"),
    (None, 64.99, "WATCH"),
    (None, 50.0, "WATCH"),
    (None, 49.99, "POOR"),
    (None, 10.0, "POOR"),
    (None, 0.0, "POOR"),
    ("NEW", 91.0, "EXCELLENT"),
    ("RETIRED", 70.0, "STANDARD"),
    # exact thresholds inside R's own band: R
    ("EXCELLENT", 90.0, "EXCELLENT"),
    ("GOOD", 80.0, "GOOD"),
    ("STANDARD", 65.0, "STANDARD"),
    ("WATCH", 50.0, "WATCH"),
    ("POOR", 0.0, "POOR"),
    # a threshold reached without the margin: R
    ("GOOD", 90.0, "GOOD"),
    ("STANDARD", 80.0, "STANDARD"),
    ("WATCH", 65.0, "WATCH"),
    ("POOR", 50.0, "POOR"),
    # up at threshold + 2 exactly, not a hair below
    ("GOOD", 91.99, "GOOD"),
    ("GOOD", 92.0, "EXCELLENT"),
    ("STANDARD", 81.99, "STANDARD"),
    ("STANDARD", 82.0, "GOOD"),
    ("WATCH", 66.99, "WATCH"),
    ("WATCH", 67.0, "STANDARD"),
    ("POOR", 51.99, "POOR"),
    ("POOR", 52.0, "WATCH"),
    # two or more bands above R: the highest tier whose threshold + 2 is reached
    ("POOR", 92.0, "EXCELLENT"),
    ("POOR", 91.99, "GOOD"),
    ("POOR", 66.0, "WATCH"),
    ("POOR", 67.0, "STANDARD"),
    ("WATCH", 100.0, "EXCELLENT"),
    ("WATCH", 81.0, "STANDARD"),
    ("STANDARD", 90.5, "GOOD"),
    ("STANDARD", 100.0, "EXCELLENT"),
    # down at threshold - 2 exactly: not below, so R
    ("EXCELLENT", 88.0, "EXCELLENT"),
    ("EXCELLENT", 87.99, "GOOD"),
    ("GOOD", 78.0, "GOOD"),
    ("GOOD", 77.99, "STANDARD"),
    ("STANDARD", 63.0, "STANDARD"),
    ("STANDARD", 62.99, "WATCH"),
    # two or more bands below R: the plain band of the score
    ("EXCELLENT", 70.0, "STANDARD"),
    ("EXCELLENT", 64.0, "WATCH"),
    ("EXCELLENT", 50.0, "WATCH"),
    ("GOOD", 55.0, "WATCH"),
    # below 50 is immediate, whatever R and the margin
    ("WATCH", 49.99, "POOR"),
    ("WATCH", 48.5, "POOR"),
    ("STANDARD", 49.99, "POOR"),
    ("EXCELLENT", 49.99, "POOR"),
    ("EXCELLENT", 10.0, "POOR"),
    ("POOR", 30.0, "POOR"),
    # inside R's band: stay
    ("GOOD", 89.0, "GOOD"),
    ("STANDARD", 79.99, "STANDARD"),
    ("EXCELLENT", 100.0, "EXCELLENT"),
    # unrated today is NEW, whatever R
    ("EXCELLENT", None, "NEW"),
    ("POOR", None, "NEW"),
    (None, None, "NEW"),
]


@pytest.mark.parametrize(("reference", "score", "tier"), RULEBOOK_EXAMPLES)
def test_rulebook_examples(reference: str | None, score: float, tier: str) -> None:
    assert tier_against(TIERS, score, reference) == tier


@pytest.mark.parametrize(("reference", "score", "tier"), EDGES)
def test_hysteresis_edges(reference: str | None, score: float | None, tier: str) -> None:
    assert tier_against(TIERS, score, reference) == tier


def test_tier_of_reads_the_score() -> None:
    rated = score(SHOP, shop(paid=100))
    assert tier_of(SHOP, rated, None) == plain_band(TIERS, rated.value or 0.0)
    assert tier_of(SHOP, score(SHOP, shop(paid=3)), Reference("GOOD", 85.0)) == "NEW"
    # Tiers use the unrounded value: 91.999 shows as 92.00 but does not move up.
    nearly = dataclasses.replace(rated, value=91.999)
    assert tier_of(SHOP, nearly, Reference("GOOD", 89.0)) == "GOOD"
    assert tier_of(SHOP, nearly, None) == "EXCELLENT"


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


REFERENCES = st.one_of(st.none(), st.sampled_from(TIERS.names))
VALUES = st.one_of(
    st.floats(min_value=0, max_value=100, allow_nan=False),
    st.sampled_from([48.0, 49.99, 50.0, 52.0, 63.0, 67.0, 78.0, 82.0, 88.0, 92.0]),
)


def _outside_every_margin(value: float) -> bool:
    """Outside every [threshold - 2, threshold + 2): where R cannot matter."""
    return all(value < b.min_score - 2 or value >= b.min_score + 2 for b in TIERS.bands[:-1])


@given(REFERENCES, VALUES)
def test_the_tier_lies_between_r_and_the_plain_band(reference: str | None, value: float) -> None:
    tier, band = tier_against(TIERS, value, reference), plain_band(TIERS, value)
    if reference is None or value < 50 or _outside_every_margin(value):
        assert tier == band
    else:
        low, high = sorted((RANK[reference], RANK[band]))
        assert low <= RANK[tier] <= high


@given(REFERENCES, VALUES, VALUES)
def test_a_higher_score_never_gives_a_lower_tier(
    reference: str | None, a: float, b: float
) -> None:
    low, high = sorted((a, b))
    assert RANK[tier_against(TIERS, high, reference)] <= RANK[tier_against(TIERS, low, reference)]


@pytest.mark.parametrize(
    ("reference", "value", "sentence"),
    [
        pytest.param(
            Reference("GOOD", 89.4),
            91.23,
            "yesterday GOOD at 89.40; 91.23 is below 92, the EXCELLENT threshold + 2: stays GOOD",
            id="up-not-reached",
        ),
        pytest.param(
            Reference("GOOD", 89.4),
            92.0,
            "yesterday GOOD at 89.40; 92.00 reaches 92, the EXCELLENT threshold + 2: "
            "rises to EXCELLENT",
            id="up",
        ),
        pytest.param(
            Reference("STANDARD", 70.125),
            91.0,
            "yesterday STANDARD at 70.12; 91.00 reaches 82, the GOOD threshold + 2, but is "
            "below 92, the EXCELLENT threshold + 2: rises to GOOD",
            id="up-short-of-the-band",
        ),
        pytest.param(
            Reference("POOR", 45.0),
            51.0,
            "yesterday POOR at 45.00; 51.00 is below 52, the WATCH threshold + 2: stays POOR",
            id="poor-up-not-reached",
        ),
        pytest.param(
            Reference("EXCELLENT", 93.1),
            87.9,
            "yesterday EXCELLENT at 93.10; 87.90 is below 88, the EXCELLENT threshold - 2: "
            "falls to GOOD",
            id="down",
        ),
        pytest.param(
            Reference("EXCELLENT", 93.1),
            88.5,
            "yesterday EXCELLENT at 93.10; 88.50 is not below 88, the EXCELLENT threshold - 2: "
            "stays EXCELLENT",
            id="down-not-reached",
        ),
        pytest.param(
            Reference("GOOD", 84.0),
            85.555,
            "yesterday GOOD at 84.00; 85.56 is in the GOOD band: stays GOOD",
            id="same-band",
        ),
        pytest.param(
            Reference("WATCH", 55.0),
            49.9,
            "yesterday WATCH at 55.00; 49.90 is below 50: POOR at once",
            id="below-50",
        ),
        pytest.param(
            Reference("POOR", 40.0),
            30.0,
            "yesterday POOR at 40.00; 30.00 is below 50: stays POOR",
            id="below-50-from-poor",
        ),
        pytest.param(None, 89.0, "no rating yesterday: the plain band, GOOD", id="no-reference"),
        pytest.param(
            None, 49.9, "no rating yesterday: the plain band, POOR", id="no-reference-below-50"
        ),
        pytest.param(
            Reference("RETIRED", 70.0),
            70.0,
            "yesterday RETIRED at 70.00; not a tier of this model: the plain band, STANDARD",
            id="unknown-reference",
        ),
        pytest.param(
            Reference("GOOD", 85.0), None, "yesterday GOOD at 85.00; unrated today: NEW", id="new"
        ),
        pytest.param(None, None, "unrated today: NEW", id="new-no-reference"),
    ],
)
def test_tier_sentence(reference: Reference | None, value: float | None, sentence: str) -> None:
    assert tier_sentence(TIERS, value, reference) == sentence


@pytest.mark.parametrize(("reference", "score", "tier"), RULEBOOK_EXAMPLES + EDGES)
def test_every_sentence_names_the_tier(
    reference: str | None, score: float | None, tier: str
) -> None:
    """The outcome, after the last colon, names the tier the rule gives."""
    ref = None if reference is None else Reference(reference, 70.0)
    outcome = tier_sentence(TIERS, score, ref).rsplit(": ", 1)[1]
    assert tier in outcome.split()
