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
    default because the window had no data for it. A shrunk rate or mean also
    carries its baseline ``p0``, the strength ``m`` and its ``unit`` (None, None
    and "" for the other kinds), so that ``shrinkage_note`` can say why
    ``value`` differs from x / n.
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
    p0: float | None = None
    m: float | None = None
    unit: str = ""


def shrinkage_note(result: IndicatorResult) -> str | None:
    """How a shrunk value relates to x / n (None for an indicator that is not shrunk).

    For a shop with 3 quality refunds on 40 paid orders:

        shrinkage_note(s.indicator("quality_refund_rate"))
        # '3 / 40 = 7.50 %, shrunk toward the 2.00 % baseline with m = 30 → 5.14 %'
    """
    if result.p0 is None or result.m is None or result.x is None or result.n is None:
        return None
    baseline = f"the {_in_unit(result.p0, result.unit)} baseline"
    if result.n == 0:
        return f"no data (n = 0): {baseline}"
    raw = f"{_count(result.x)} / {_count(result.n)} = {_in_unit(result.x / result.n, result.unit)}"
    m = format(Decimal(repr(result.m)).normalize(), "f")
    return f"{raw}, shrunk toward {baseline} with m = {m} → {_in_unit(result.value, result.unit)}"


def _in_unit(value: float, unit: str) -> str:
    if unit == "%":
        return f"{_decimal(Decimal(repr(value)) * 100, 2)} %"
    shown = str(_decimal(value, 2))
    return f"{shown} {unit}" if unit else shown


def _count(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(_decimal(value, 2))


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

        "Cost points" as published: a loss that rounds (half-even, 2 decimals) to 0.00
        is no reason to give a merchant. Empty while NEW (no score is published) and
        for a perfect score.
        """
        if not self.rated:
            return ()
        costly = [r for r in self.breakdown if round_half_even(r.points_lost) > 0]
        costly.sort(key=lambda result: -result.points_lost)
        return tuple(costly[:MAX_REASONS])
