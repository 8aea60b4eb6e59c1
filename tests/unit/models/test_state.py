"""The published state and the publish-on-change decision (SCORING.md §7-§9)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import (
    Decision,
    EntityState,
    EntityWindows,
    Reference,
    decide,
    decide_if_changed,
    entity_state,
    score,
    unseen,
)
from models.counting import COUNTERS
from models.tiers import tier_weight
from tests.unit.models.build import CREATOR, DAY, MODELS, PRODUCT, SHOP, creator, product, shop
from tests.unit.models.test_shop import CLEAN_SCORE

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


# CLEAN on day d - 1 scores 97.79 before penalties; penalty points by days ago.
# R is the band of 97.79 minus the points of d - 90 .. d - 1; today's score
# subtracts those of d - 89 .. d (at most 40 each).
@pytest.mark.parametrize(
    ("penalties", "reference", "tier"),
    [
        ({}, ("EXCELLENT", 0), "EXCELLENT"),
        ({0: 5}, ("EXCELLENT", 0), "EXCELLENT"),  # 92.79
        ({0: 9}, ("EXCELLENT", 0), "EXCELLENT"),  # 88.79: not below 88
        ({0: 10}, ("EXCELLENT", 0), "GOOD"),  # 87.79 < 88
        ({0: 20}, ("EXCELLENT", 0), "STANDARD"),  # 77.79: the plain band
        ({0: 48}, ("EXCELLENT", 0), "WATCH"),  # 57.79 (cap 40)
        ({1: 8}, ("GOOD", 8), "GOOD"),  # 89.79 both days
        ({90: 8}, ("GOOD", 8), "EXCELLENT"),  # R 89.79, today 97.79 >= 92
        ({90: 15, 0: 6}, ("GOOD", 15), "GOOD"),  # today 91.79 < 92
        ({90: 15, 0: 5}, ("GOOD", 15), "EXCELLENT"),  # today 92.79
        ({1: 19}, ("STANDARD", 19), "STANDARD"),  # 78.79 both days
        ({90: 19}, ("STANDARD", 19), "EXCELLENT"),  # two bands up
        ({90: 40, 0: 10}, ("WATCH", 40), "GOOD"),  # R 57.79; today 87.79 >= 82, < 92
        ({1: 10, 0: 40}, ("GOOD", 10), "WATCH"),  # R 87.79; today 57.79 (cap 40)
        ({1: 45, 0: 5}, ("WATCH", 40), "WATCH"),  # capped both days
    ],
)
def test_yesterdays_band_drives_hysteresis(
    penalties: dict[int, int], reference: tuple[str, int], tier: str
) -> None:
    ago: dict[int, dict[str, int]] = {b: {"penalty_points": p} for b, p in penalties.items()}
    ago[1] = {**CLEAN, **ago.get(1, {})}
    decision = decide(SHOP, shop(ago=ago))
    assert decision.reference is not None
    r_tier, r_points = reference
    assert decision.reference.tier == r_tier
    assert decision.reference.score == pytest.approx(CLEAN_SCORE - r_points)
    assert decision.state.tier == tier


PREVIOUS_STATES = [
    None,
    *(EntityState(t, 1.0, 1.0, 0.0, 0.0) for t in ("EXCELLENT", "GOOD", "STANDARD", "WATCH")),
    EntityState("POOR", 0.6, 1.0, 10.0, 3.2),
    EntityState("NEW", 1.15, 1.0),
]


@pytest.mark.parametrize(
    "windows",
    [
        pytest.param(shop(ago={1: CLEAN}, penalty_points=9), id="held-by-r"),
        pytest.param(shop(ago={1: {**CLEAN, "penalty_points": 8}}), id="in-band"),
        pytest.param(shop(ago={1: CLEAN, 90: {"penalty_points": 15}}), id="rising"),
        pytest.param(shop(penalty_points=9, **CLEAN), id="no-reference"),
        pytest.param(shop(ago={90: {"paid": 30}}), id="new-today"),
    ],
)
def test_the_previous_state_never_changes_the_tier(windows: EntityWindows) -> None:
    """v1 hysteresis depended on the published tier; v2 only on the events."""
    states = {decide(SHOP, windows, previous).state for previous in PREVIOUS_STATES}
    assert len(states) == 1


def test_a_decision_names_its_reference() -> None:
    decision = decide(SHOP, shop(ago={1: CLEAN}, penalty_points=10))
    assert decision.reference == Reference("EXCELLENT", pytest.approx(CLEAN_SCORE))
    assert decide(SHOP, shop(**CLEAN)).reference is None


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


_OTHERS = sorted(set().union(*COUNTERS.values()) - {"paid", "dist_gmv_fen"})
# every row has paid orders (mostly few: NEW entities, the new-shop boost), a few other
# counters, mostly small, and often the distribution GMV that river boosts read
_ROW = st.builds(
    lambda paid, gmv, rest: {"paid": paid, "dist_gmv_fen": gmv, **rest},
    st.one_of(st.integers(0, 3), st.integers(0, 60)),
    st.one_of(st.just(0), st.integers(0, 10**8)),
    st.dictionaries(
        st.sampled_from(_OTHERS), st.one_of(st.integers(0, 3), st.integers(0, 10**7)), max_size=6
    ),
)
_AGE = st.one_of(st.integers(0, 8), st.integers(0, 95))  # days ago, often recent
_TIERS = st.sampled_from(
    sorted({t for m in MODELS.values() for t in (m.tiers.unrated, *m.tiers.names)})
)
_STATES = st.one_of(
    st.none(),
    st.builds(
        EntityState,
        _TIERS,
        st.sampled_from([1.0, 1.15, 1.2, 0.8, 0.5]),
        st.sampled_from([1.0, 1.05, 1.1, 1.2]),
    ),
)


@settings(max_examples=300)
@given(
    entity_type=st.sampled_from(["shop", "product", "creator"]),
    rows=st.dictionaries(_AGE, _ROW, max_size=12),
    category_rows=st.dictionaries(_AGE, _ROW, max_size=4),
    registers=st.fixed_dictionaries({}, optional={"listing_quality": st.integers(0, 100)}),
    previous=_STATES,
    derive=st.sampled_from(["given", "same", "no-boost", "tier-weight"]),
)
def test_decide_if_changed_is_decide_when_it_changes_and_none_otherwise(
    entity_type: str,
    rows: dict[int, dict[str, int]],
    category_rows: dict[int, dict[str, int]],
    registers: dict[str, int],
    previous: EntityState | None,
    derive: str,
) -> None:
    """The cheap path (no breakdown unless something changes) decides as ``decide`` does."""
    config = MODELS[entity_type]
    names = COUNTERS[entity_type]
    days = {DAY - d: {k: v for k, v in r.items() if k in names} for d, r in rows.items()}
    w = EntityWindows.from_days(entity_type, "e1", DAY, days)
    category = None
    if entity_type == "product":
        w = replace(w, latest_values=registers)
        cat = {
            DAY - d: {k: v for k, v in r.items() if k in COUNTERS["category"]}
            for d, r in category_rows.items()
        }
        category = EntityWindows.from_days("category", "c1", DAY, cat)
    if derive != "given":  # this very decision's state (nothing changes), or one field off
        own = decide(config, w, category=category).state
        previous = {
            "same": own,
            "no-boost": replace(own, boost=1.0),
            "tier-weight": replace(own, weight=tier_weight(config.tiers, own.tier)),
        }[derive]
    full = decide(config, w, previous, category=category)
    assert decide_if_changed(config, w, previous, category=category) == (
        full if full.changed else None
    )
