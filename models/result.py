"""What a model says about one entity: the score, its evidence and its breakdown.

    s = score(models["shop"], windows)
    s.rated, s.value, s.display      # True, 87.4321..., 4.75
    [r.name for r in s.reasons()]    # the up to 3 indicators that cost the most points

Values are full floats; ``round_half_even`` is for display and messages only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

MAX_REASONS = 3


def round_half_even(value: float, decimals: int = 2) -> float:
    """``value`` rounded half-even, on its shortest decimal form (2.675 -> 2.68)."""
    return float(_decimal(value, decimals))


def _decimal(value: float | Decimal, decimals: int) -> Decimal:
    exact = value if isinstance(value, Decimal) else Decimal(repr(value))
    return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)


def display_value(value: float, offset: float, span: float, decimals: int) -> float:
    """``offset + span·value/100`` in decimal arithmetic, rounded half-even."""
    exact = Decimal(repr(offset)) + Decimal(repr(span)) * Decimal(repr(value)) / 100
    return float(_decimal(exact, decimals))


@dataclass(frozen=True, slots=True)
class IndicatorResult:
    """One indicator of one score.

    ``x`` and ``n`` are the window's numerator and denominator (None where the
    kind has none), ``value`` the shrunk rate, shrunk mean, count, index or
    register value, ``sub`` its 0-100 sub-score, ``points_lost`` =
    weight·(100 - sub)/Σweight. ``defaulted`` says the value is the documented
    default because the window had no data for it.
    """

    name: str
    kind: str
    x: float | None
    n: float | None
    value: float
    sub: float
    weight: float
    points_lost: float
    window_days: int
    defaulted: bool = False


@dataclass(frozen=True, slots=True)
class Score:
    """One entity's score as of a day; ``value`` and ``display`` are None while NEW."""

    entity_type: str
    entity_id: str
    model: str
    model_version: str
    as_of_day: int
    rated: bool
    value: float | None
    display: float | None
    window_days: int
    paid: int
    before_penalty: float
    penalty: float
    breakdown: tuple[IndicatorResult, ...]

    def indicator(self, name: str) -> IndicatorResult:
        for result in self.breakdown:
            if result.name == name:
                return result
        raise KeyError(name)

    def reasons(self) -> tuple[IndicatorResult, ...]:
        """The up to 3 indicators that cost points, most first (ties: config order).

        Empty while NEW (no score is published) and for a perfect score.
        """
        if not self.rated:
            return ()
        costly = [result for result in self.breakdown if result.points_lost > 0]
        costly.sort(key=lambda result: -result.points_lost)
        return tuple(costly[:MAX_REASONS])
