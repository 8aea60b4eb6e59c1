"""What a score is computed from: one entity's per-day counters.

The window store keeps, per entity and per anchor day (SCORING.md §1), a fixed
set of integer counters (see ``models.counting``), plus the latest-value
registers of products. ``EntityWindows`` is that data as read back, and answers
the one question the models ask: the total of a counter over the last N days.

    w = EntityWindows("shop", "s1", as_of_day=20400, days={20399: {"paid": 3}})
    w.total("paid", 30)   # 3
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: Register value: (ts_ms, event_id, value) of the latest event that carried it.
Register = tuple[int, str, int]


@dataclass(frozen=True, slots=True)
class EntityWindows:
    """One entity's counters by anchor day, as of a day (the day of stream time)."""

    entity_type: str
    entity_id: str
    as_of_day: int
    days: Mapping[int, Mapping[str, int]] = field(default_factory=dict)
    #: register name -> anchor day -> the latest (ts_ms, event_id, value) of that day
    registers: Mapping[str, Mapping[int, Register]] = field(default_factory=dict)

    def total(self, counter: str, window_days: int) -> int:
        """Sum of ``counter`` over anchor days as_of_day-window_days+1 .. as_of_day."""
        first = self.as_of_day - window_days + 1
        return sum(
            row.get(counter, 0) for day, row in self.days.items() if first <= day <= self.as_of_day
        )

    def latest(self, register: str, window_days: int) -> int | None:
        """Value of the latest register entry (largest ts, then event_id) in the window."""
        first = self.as_of_day - window_days + 1
        entries = self.registers.get(register, {})
        in_window = [entry for day, entry in entries.items() if first <= day <= self.as_of_day]
        return max(in_window)[2] if in_window else None

    def is_empty(self, window_days: int) -> bool:
        """True when no counter has any data in the window."""
        first = self.as_of_day - window_days + 1
        return not any(
            any(row.values()) for day, row in self.days.items() if first <= day <= self.as_of_day
        )
