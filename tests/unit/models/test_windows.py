"""Windows as of a day and as of the day before (SCORING.md §1, §7)."""

from __future__ import annotations

import pytest

from models import EntityWindows, ModelInputError
from models.windows import FlatTotals
from tests.unit.models.build import DAY

ROWS = {DAY: {"paid": 1}, DAY - 1: {"paid": 2}, DAY - 6: {"paid": 4}, DAY - 7: {"paid": 8}}
ROWS |= {DAY - 29: {"paid": 16}, DAY - 30: {"paid": 32}, DAY - 89: {"paid": 64}}
ROWS |= {DAY - 90: {"paid": 128}, DAY - 91: {"paid": 256}}


@pytest.mark.parametrize(
    ("horizon", "today", "yesterday"),
    [
        (7, 1 + 2 + 4, 2 + 4 + 8),  # d-6 .. d; d-7 .. d-1
        (30, 1 + 2 + 4 + 8 + 16, 2 + 4 + 8 + 16 + 32),
        (90, 255 - 128, 255 - 1),  # d-89 .. d; d-90 .. d-1
    ],
)
def test_from_days_fills_both_sets_of_totals(horizon: int, today: int, yesterday: int) -> None:
    windows = EntityWindows.from_days("shop", "s1", DAY, ROWS)
    assert windows.total("paid", horizon) == today
    assert windows.previous_totals[horizon]["paid"] == yesterday
    assert windows.yesterday().total("paid", horizon) == yesterday


def test_yesterday_is_as_of_the_day_before_with_todays_registers() -> None:
    registers = {"listing_quality": {DAY: (5, "e", 80)}}
    windows = EntityWindows.from_days("product", "p1", DAY, ROWS, registers)
    before = windows.yesterday()
    assert (before.entity_type, before.entity_id, before.as_of_day) == ("product", "p1", DAY - 1)
    assert before.totals == windows.previous_totals
    assert before.latest_values == windows.latest_values == {"listing_quality": 80}
    # an entry of day d is outside the window ending d - 1, yet it is today's value
    assert before.latest("listing_quality", 30) == 80
    assert not before.knows_yesterday


def test_yesterday_matches_windows_built_as_of_the_day_before() -> None:
    windows = EntityWindows.from_days("shop", "s1", DAY, ROWS)
    built = EntityWindows.from_days("shop", "s1", DAY - 1, ROWS)
    assert windows.yesterday().totals == built.totals


def test_an_entity_without_data_yesterday_still_knows_yesterday() -> None:
    windows = EntityWindows.from_days("shop", "s1", DAY, {DAY: {"paid": 3}})
    assert windows.knows_yesterday
    assert windows.yesterday().total("paid", 90) == 0


def test_windows_without_previous_totals_cannot_be_scored_as_of_yesterday() -> None:
    windows = EntityWindows("shop", "s1", DAY, {7: {}, 30: {}, 90: {}})
    assert not windows.knows_yesterday
    assert not windows.yesterday().knows_yesterday
    with pytest.raises(ModelInputError, match="no 30-day totals"):
        windows.yesterday().total("paid", 30)


# --- FlatTotals: the store's flat counts read as totals, without copying ---------------

_NAMES = ("paid", "refunds")


def test_flat_totals_read_as_the_nested_totals_they_hold() -> None:
    flat = FlatTotals((1, 2, 3, 4, 5, 6), _NAMES, (7, 30, 90))
    nested = {
        7: {"paid": 1, "refunds": 2},
        30: {"paid": 3, "refunds": 4},
        90: {"paid": 5, "refunds": 6},
    }
    assert flat == nested
    assert dict(flat.items()) == nested
    assert list(flat) == [7, 30, 90]
    assert len(flat) == 3
    assert 30 in flat
    assert 14 not in flat
    assert [flat.total(name, h) for h in (7, 30, 90) for name in _NAMES] == [1, 2, 3, 4, 5, 6]
    assert flat.total("unknown", 30) == 0  # a counter this type does not keep
    with pytest.raises(KeyError):
        flat.total("paid", 14)


def test_windows_over_flat_totals_answer_as_windows_over_dicts() -> None:
    flat = FlatTotals((1, 2, 3, 4, 5, 6), _NAMES, (7, 30, 90))
    a = EntityWindows("shop", "s1", DAY, flat, {}, flat)
    b = EntityWindows("shop", "s1", DAY, dict(flat.items()), {}, dict(flat.items()))
    assert a == b
    assert a.yesterday() == b.yesterday()
    for w in (a, b):
        assert w.total("refunds", 30) == 4
        assert w.total("paid", 90) == 5
        with pytest.raises(ModelInputError, match="no 14-day totals"):
            w.total("paid", 14)


def test_flat_totals_refuse_a_count_short() -> None:
    with pytest.raises(ValueError, match="5 counts for 2 counters"):
        FlatTotals((1, 2, 3, 4, 5), _NAMES, (7, 30, 90))
