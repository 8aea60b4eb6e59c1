"""The score memo keyed on the store's counts (``EntityWindows.totals_key``).

``encoding.snapshot`` hands the models the reply's counts as the memo's key, so a
re-score does not build a key out of every total. Two things must hold: a key is
equal only for equal totals (else a score would be taken for another entity's), and
yesterday's counts key ``reference`` the way today's keyed yesterday's score (so R
is remembered from the day before, as with keys made of the totals).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from models import evaluate, reference, score
from models.config import load_models
from models.counting import COUNTERS
from models.evaluate import score_value
from models.windows import HORIZONS
from streams.store.encoding import snapshot

TODAY = 20_300
_COUNTS = st.lists(st.one_of(st.integers(0, 30), st.integers(0, 10**6)), min_size=1)


def _reply(entity_type: str, today: list[int], yesterday: list[int]) -> list[object]:
    """An ``apply.lua`` reply: applied, the counts, registers, labels, state, skipped."""
    n = len(COUNTERS[entity_type]) * len(HORIZONS)
    flat = (today * n)[:n] + (yesterday * n)[:n]
    return [0, flat, [], [], [None, None, None, None], [], 1]


@given(
    entity_type=st.sampled_from(["shop", "creator"]),
    a=_COUNTS,
    b=_COUNTS,
    c=_COUNTS,
)
def test_keys_from_counts_never_confuse_totals(
    entity_type: str, a: list[int], b: list[int], c: list[int]
) -> None:
    config = load_models()[entity_type]
    evaluate._VALUES.clear()
    first = snapshot((entity_type, "e1"), TODAY, _reply(entity_type, a, b)).windows
    second = snapshot((entity_type, "e2"), TODAY, _reply(entity_type, c, b)).windows
    for w in (first, second, first.yesterday(), second.yesterday()):
        assert score_value(config, w) == score(config, w).value  # memo hits and misses
    assert (first.totals_key == second.totals_key) == (first.totals == second.totals)


@given(entity_type=st.sampled_from(["shop", "creator"]), a=_COUNTS, b=_COUNTS)
def test_yesterday_s_score_is_today_s_reference(
    entity_type: str, a: list[int], b: list[int]
) -> None:
    config = load_models()[entity_type]
    evaluate._VALUES.clear()
    day_before = snapshot((entity_type, "e1"), TODAY - 1, _reply(entity_type, b, a)).windows
    value = score_value(config, day_before)  # remembered under its counts
    today = snapshot((entity_type, "e1"), TODAY, _reply(entity_type, a, b)).windows
    assert today.yesterday().totals_key == day_before.totals_key
    remembered = len(evaluate._VALUES)
    got = reference(config, today)
    assert len(evaluate._VALUES) == remembered  # a hit: nothing new was remembered
    assert (None if got is None else got.score) == value
