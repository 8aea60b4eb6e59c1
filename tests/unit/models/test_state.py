"""The published state and the publish-on-change decision (SCORING.md §7-§9)."""

from __future__ import annotations

import pytest

from models import Decision, EntityState, decide, entity_state, score, unseen
from tests.unit.models.build import CREATOR, PRODUCT, SHOP, creator, product, shop

CLEAN = dict(
    paid=100,
    free_shipping=100,
    pickups=100,
    pickups_on_time=100,
    deliveries=100,
    deliveries_on_time=100,
)


def test_first_decision_compares_with_the_unseen_state() -> None:
    decision = decide(SHOP, shop(dist_gmv_fen=3_000_000, **CLEAN))
    assert decision.previous == unseen(SHOP) == EntityState("NEW", 1.0, 1.0)
    assert decision.state.published == ("EXCELLENT", 1.2, 1.1)
    assert decision.state.score == decision.score.value
    assert decision.state.display == decision.score.display == 4.96
    assert decision.changed


def test_a_new_entity_that_stays_plain_new_publishes_nothing() -> None:
    decision = decide(PRODUCT, product(paid=1))
    assert decision.state == EntityState("NEW", 1.0, 1.0, None, None)
    assert not decision.changed


def test_a_new_shop_publishes_its_boosted_weight() -> None:
    decision = decide(SHOP, shop(paid=5))
    assert decision.state.published == ("NEW", 1.15, 1.0)
    assert decision.changed


def test_only_tier_weight_and_boost_count_as_a_change() -> None:
    before = decide(SHOP, shop(**CLEAN)).state
    after = decide(SHOP, shop(negative_reviews=1, **CLEAN), before)
    assert after.state.score != before.score
    assert after.state.published == before.published
    assert not after.changed


@pytest.mark.parametrize(
    ("penalty", "previous_tier", "expected_tier"),
    [
        (5, None, "EXCELLENT"),  # 97.79 - 5 = 92.79
        (5, "GOOD", "EXCELLENT"),  # reaches 90 + 2
        (8, None, "GOOD"),  # 89.79
        (8, "GOOD", "GOOD"),  # below 92
        (8, "EXCELLENT", "EXCELLENT"),  # not below 88
        (12, "EXCELLENT", "GOOD"),  # 85.79 < 88
        (19, None, "STANDARD"),  # 78.79
        (19, "GOOD", "GOOD"),  # not below 78
        (20, "GOOD", "STANDARD"),  # 77.79 < 78
    ],
)
def test_previous_tier_drives_hysteresis(
    penalty: int, previous_tier: str | None, expected_tier: str
) -> None:
    previous = None if previous_tier is None else EntityState(previous_tier, 1.0, 1.0, 0.0, 0.0)
    decision = decide(SHOP, shop(penalty_points=penalty, **CLEAN), previous)
    assert decision.state.tier == expected_tier


def test_boost_follows_the_tier() -> None:
    watch = creator(penalty_points=20, dist_gmv_fen=3_000_000, paid=100, pickups=100)
    result = score(CREATOR, watch)
    state = entity_state(CREATOR, result, watch, None)
    assert state.tier in {"WATCH", "POOR"}
    assert state.boost == 1.0


def test_losing_evidence_returns_to_new() -> None:
    rated = EntityState("GOOD", 1.1, 1.05, 85.0, 4.7)
    decision = decide(SHOP, shop(ago={40: {"paid": 20}}), rated)
    assert isinstance(decision, Decision)
    assert decision.state.published == ("NEW", 1.0, 1.0)
    assert (decision.state.score, decision.state.display) == (None, None)
    assert decision.changed
