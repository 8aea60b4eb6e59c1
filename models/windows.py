"""What a score is computed from: one entity's counter totals per window.

The window store keeps, per entity and per anchor day (SCORING.md §1), the
integer counters of ``models.counting``; when asked, it returns their totals
over each horizon the models use (``HORIZONS``) as of a day, and the latest
value of each register within ``REGISTER_WINDOW_DAYS``. ``EntityWindows`` is
that answer. ``EntityWindows.from_days`` computes the same from per-day rows
(the in-process path and the tests).

Rulebook v2 (§7) also needs the same totals as of the previous day, for the
reference tier: ``previous_totals``, and ``yesterday()`` to score them.

    w = EntityWindows.from_days("shop", "s1", 20400, {20399: {"paid": 3}, 20400: {"paid": 2}})
    w.total("paid", 30)               # 5
    w.yesterday().total("paid", 30)   # 3 (anchor days 20370 .. 20399)
"""

from __future__ import annotations

import functools
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from models.errors import ModelInputError

#: Every window length (days) the models read: the store keeps totals for these.
HORIZONS = (7, 30, 90)
#: Registers (a product's listing quality, brand) count within this window.
REGISTER_WINDOW_DAYS = 30
#: A counter's total saturates here, in a day and in a window: the largest integer a
#: double holds exactly (the window store sums in Lua, whose numbers are doubles).
SUM_CAP = 2**53 - 1

#: Register entry: (ts_ms, event_id, value) of an event that carried it.
Register = tuple[int, str, int]


@dataclass(frozen=True, slots=True)
class EntityWindows:
    """One entity's counter totals per horizon, as of a day (the day of stream time).

    ``previous_totals`` are the same totals one day earlier: per horizon h, over
    anchor days (as_of_day-1)-h+1 .. as_of_day-1, i.e. including as_of_day-h and
    excluding as_of_day. Empty means "not supplied" (a window store that does
    not return them yet); an entity with no data yesterday has every horizon
    present with no counters. ``latest_values`` has no previous counterpart:
    §7 scores yesterday with today's registers.
    """

    entity_type: str
    entity_id: str
    as_of_day: int
    #: horizon days -> counter -> total over anchor days as_of_day-horizon+1 .. as_of_day
    totals: Mapping[int, Mapping[str, int]] = field(default_factory=dict)
    #: register -> value of its latest entry (largest ts, then event_id) in the register window
    latest_values: Mapping[str, int] = field(default_factory=dict)
    #: horizon days -> counter -> total over anchor days as_of_day-horizon .. as_of_day-1
    previous_totals: Mapping[int, Mapping[str, int]] = field(default_factory=dict)
    #: Optional: a hashable equal for equal ``totals`` of this entity type (and only
    #: for them), and the same for ``previous_totals``: the window store gives its
    #: reply's counts, in counter order. The score memo keys on it instead of on the
    #: totals themselves (``models.evaluate``); None: it keys on the totals. Not compared.
    totals_key: Hashable | None = field(default=None, compare=False, repr=False)
    previous_key: Hashable | None = field(default=None, compare=False, repr=False)

    @property
    def knows_yesterday(self) -> bool:
        """True when ``previous_totals`` were supplied (``yesterday()`` can be scored)."""
        return bool(self.previous_totals)

    def yesterday(self) -> EntityWindows:
        """The windows as of ``as_of_day - 1``, with today's register values (§7).

        Its own ``previous_totals`` are unknown (empty): only one day back is kept.
        """
        return EntityWindows(
            self.entity_type,
            self.entity_id,
            self.as_of_day - 1,
            self.previous_totals,
            self.latest_values,
            totals_key=self.previous_key,
        )

    def total(self, counter: str, window_days: int) -> int:
        """Total of ``counter`` over the last ``window_days`` anchor days."""
        totals = self.totals
        if type(totals) is FlatTotals and window_days in totals.offsets:
            return totals.total(counter, window_days)  # the store's replies: no row views
        if window_days not in totals:
            raise ModelInputError(
                f"{self.entity_type} {self.entity_id}: no {window_days}-day totals "
                f"(kept: {sorted(self.totals)}); add the window to models.windows.HORIZONS"
            )
        return self.totals[window_days].get(counter, 0)

    def latest(self, register: str, window_days: int) -> int | None:
        """Value of the register's latest entry in the window, or None."""
        if window_days != REGISTER_WINDOW_DAYS:
            raise ModelInputError(
                f"registers are kept for {REGISTER_WINDOW_DAYS} days, not {window_days}"
            )
        return self.latest_values.get(register)

    @classmethod
    def from_days(
        cls,
        entity_type: str,
        entity_id: str,
        as_of_day: int,
        days: Mapping[int, Mapping[str, int]],
        registers: Mapping[str, Mapping[int, Register]] | None = None,
    ) -> EntityWindows:
        """Totals (today's and yesterday's) for every horizon from ``day -> counter -> value``."""
        totals = {h: _sum_window(days, as_of_day, h) for h in HORIZONS}
        previous = {h: _sum_window(days, as_of_day - 1, h) for h in HORIZONS}
        latest = {
            name: value
            for name, entries in (registers or {}).items()
            if (value := _latest(entries, as_of_day)) is not None
        }
        return cls(entity_type, entity_id, as_of_day, totals, latest, previous)


class FlatTotals(Mapping[int, Mapping[str, int]]):
    """Totals per horizon as the window store returns them: one flat sequence of
    counts, the entity type's counters in order for each of ``HORIZONS`` in turn.

    A read-only mapping (horizon -> counter -> total, every counter present) that
    copies nothing: most re-scores are answered by the score memo, which keys on
    the counts themselves, and never read a total.

        t = FlatTotals((1, 2, 3, 4, 5, 6), ("paid", "refunds"), (7, 30, 90))
        t[30]["refunds"], t.total("paid", 90)   # 4, 5
    """

    __slots__ = ("_index", "counts", "names", "offsets")

    def __init__(
        self, counts: Sequence[int], names: tuple[str, ...], horizons: tuple[int, ...] = HORIZONS
    ) -> None:
        if len(counts) != len(names) * len(horizons):
            raise ValueError(f"{len(counts)} counts for {len(names)} counters x {horizons}")
        self.counts = counts
        self.names = names
        self.offsets = _offsets(len(names), horizons)
        self._index = _index(names)

    def total(self, counter: str, window_days: int) -> int:
        """``self[window_days].get(counter, 0)`` without the row; KeyError: no such horizon."""
        i = self._index.get(counter)
        return 0 if i is None else self.counts[self.offsets[window_days] + i]

    def __getitem__(self, window_days: int) -> Mapping[str, int]:
        start = self.offsets[window_days]
        return dict(zip(self.names, self.counts[start : start + len(self.names)], strict=True))

    def __contains__(self, window_days: object) -> bool:
        return window_days in self.offsets

    def __iter__(self) -> Iterator[int]:
        return iter(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


@functools.lru_cache(maxsize=64)
def _offsets(n: int, horizons: tuple[int, ...]) -> dict[int, int]:
    return {h: k * n for k, h in enumerate(horizons)}


@functools.lru_cache(maxsize=64)
def _index(names: tuple[str, ...]) -> dict[str, int]:
    return {name: i for i, name in enumerate(names)}


def in_window(day: int, as_of_day: int, window_days: int) -> bool:
    """Is anchor ``day`` within the ``window_days`` ending on ``as_of_day``?"""
    return as_of_day - window_days < day <= as_of_day


def _sum_window(days: Mapping[int, Mapping[str, int]], as_of_day: int, h: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for day, row in days.items():
        if in_window(day, as_of_day, h):
            for name, value in row.items():
                out[name] = min(out.get(name, 0) + value, SUM_CAP)
    return out


def _latest(entries: Mapping[int, Register], as_of_day: int) -> int | None:
    inside = [e for day, e in entries.items() if in_window(day, as_of_day, REGISTER_WINDOW_DAYS)]
    return max(inside)[2] if inside else None
