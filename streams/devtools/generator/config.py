"""The generator's knobs: one frozen object, checked once.

>>> cfg = GeneratorConfig(days=7, shops=20, creators=5, orders_per_day=200, seed=1)
>>> cfg.end_ms - cfg.start_ms == 7 * DAY_MS
True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

DAY_MS: Final = 86_400_000
HOUR_MS: Final = 3_600_000
MINUTE_MS: Final = 60_000
UTC8: Final = timezone(timedelta(hours=8))
DEFAULT_START: Final = datetime(2026, 10, 1, tzinfo=UTC8)


def epoch_ms(moment: datetime) -> int:
    """Epoch milliseconds of an aware datetime (a naive one is taken as UTC+08:00)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC8)
    return (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class GeneratorConfig:
    """What to generate. Same config, same bytes.

    ``max_skew_ms`` bounds the out-of-orderness of the written stream: an event is
    never written after one whose ``ts`` exceeds its own by more than this.
    """

    days: int = 30
    shops: int = 100
    creators: int = 60
    orders_per_day: int = 1000
    seed: int = 1
    start_ms: int = epoch_ms(DEFAULT_START)
    max_skew_ms: int = 180_000

    def __post_init__(self) -> None:
        for name, low in (("days", 1), ("shops", 1), ("creators", 0), ("orders_per_day", 1)):
            if getattr(self, name) < low:
                raise ValueError(f"{name} must be >= {low}, got {getattr(self, name)}")
        if self.max_skew_ms < 0:
            raise ValueError(f"max_skew_ms must be >= 0, got {self.max_skew_ms}")

    @property
    def end_ms(self) -> int:
        """The horizon: events at or after it are not written."""
        return self.start_ms + self.days * DAY_MS
