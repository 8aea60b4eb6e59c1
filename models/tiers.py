"""Tiers, traffic weights and hysteresis against yesterday's band (SCORING.md §7, v2).

The tier is a function of today's score and a reference tier R, the plain band
of the entity's score as of the previous day (``models.state.reference``):

    tiers = load_models()["shop"].tiers
    tier_against(tiers, 91.0, "GOOD")        # 'GOOD'       (up needs 90 + 2)
    tier_against(tiers, 92.0, "GOOD")        # 'EXCELLENT'
    tier_against(tiers, 87.9, "EXCELLENT")   # 'GOOD'       (below 90 - 2: the plain band)
    tier_against(tiers, 49.9, "WATCH")       # 'POOR'       (below 50 is immediate)
    tier_against(tiers, 89.0, None)          # 'GOOD'       (no rating yesterday: the plain band)

Tiers compare the unrounded score: 91.999 shows as 92.00 and stays GOOD.
"""

from __future__ import annotations

from dataclasses import dataclass

from models._format import num
from models.config import ModelConfig, Tiers
from models.result import Score, round_half_even


@dataclass(frozen=True, slots=True)
class Reference:
    """R of §7: the plain band of the entity's score as of the previous day, and that score.

        r = Reference("GOOD", 89.4)          # yesterday's score 89.4: GOOD
        tier_against(tiers, 91.23, r.tier)   # 'GOOD'
        tier_sentence(tiers, 91.23, r)       # 'yesterday GOOD at 89.40; 91.23 is below 92, ...'

    ``score`` is the full value (round it for messages only). Where a
    ``Reference | None`` is expected, None means the entity was unrated as of
    the previous day.
    """

    tier: str
    score: float


def tier_of(config: ModelConfig, score: Score, reference: Reference | None) -> str:
    """The tier of ``score`` against yesterday's ``reference`` (NEW while unrated)."""
    value = score.value if score.rated else None
    return tier_against(config.tiers, value, None if reference is None else reference.tier)


def tier_against(tiers: Tiers, value: float | None, reference: str | None) -> str:
    """§7 on a bare value (None = unrated today) and R's tier (None, or unknown: no R)."""
    if value is None:
        return tiers.unrated
    band = plain_band(tiers, value)
    if reference not in tiers.names or value < tiers.immediate_below:
        return band
    if tiers.names.index(band) < tiers.names.index(reference):  # band(s) above R
        return _highest_reached(tiers, value, reference) or reference
    return band if value < _floor(tiers, reference) else reference  # below R, or R itself


def plain_band(tiers: Tiers, value: float) -> str:
    """The best tier whose threshold the value reaches, without hysteresis."""
    return next(band.name for band in tiers.bands if value >= band.min_score)


def _highest_reached(tiers: Tiers, value: float, reference: str) -> str | None:
    """The best tier above ``reference`` whose threshold + margin ``value`` reaches."""
    above = tiers.bands[: tiers.names.index(reference)]
    return next((b.name for b in above if value >= b.min_score + tiers.margin), None)


def _floor(tiers: Tiers, tier: str) -> float:
    """A score below this leaves ``tier`` downwards: its threshold - margin."""
    return tiers.bands[tiers.names.index(tier)].min_score - tiers.margin


def tier_weight(tiers: Tiers, tier: str) -> float:
    """The traffic weight of a tier (the unrated weight for NEW)."""
    for band in tiers.bands:
        if band.name == tier:
            return band.weight
    if tier == tiers.unrated:
        return tiers.unrated_weight
    raise KeyError(tier)


def at_least(tiers: Tiers, tier: str, floor: str) -> bool:
    """True when ``tier`` is a rated tier as good as ``floor`` or better (NEW never is)."""
    names = tiers.names
    return tier in names and names.index(tier) <= names.index(floor)


def tier_sentence(tiers: Tiers, value: float | None, reference: Reference | None) -> str:
    """The sentence that decides the tier, for ``vane explain`` and ``GET /scores``.

        tier_sentence(tiers, 91.23, Reference("GOOD", 89.4))
        # 'yesterday GOOD at 89.40; 91.23 is below 92, the EXCELLENT threshold + 2: stays GOOD'
        tier_sentence(tiers, 89.0, None)
        # 'no rating yesterday: the plain band, GOOD'

    Scores are shown with 2 decimals (half-even); the rule compares full values.
    """
    if reference is None:
        if value is None:
            return f"unrated today: {tiers.unrated}"
        return f"no rating yesterday: the plain band, {plain_band(tiers, value)}"
    head = f"yesterday {reference.tier} at {_score(reference.score)}; "
    if value is None:
        return f"{head}unrated today: {tiers.unrated}"
    if reference.tier not in tiers.names:
        return f"{head}not a tier of this model: the plain band, {plain_band(tiers, value)}"
    return head + _why(tiers, value, reference.tier)


def _why(tiers: Tiers, value: float, reference: str) -> str:
    s, band, names = _score(value), plain_band(tiers, value), tiers.names
    tier = tier_against(tiers, value, reference)
    if value < tiers.immediate_below:
        outcome = f"stays {tier}" if tier == reference else f"{tier} at once"
        return f"{s} is below {num(tiers.immediate_below)}: {outcome}"
    if names.index(band) < names.index(reference):
        return _why_up(tiers, value, reference, tier)
    if band == reference:
        return f"{s} is in the {reference} band: stays {reference}"
    line = f"{_num(_floor(tiers, reference))}, the {reference} threshold - {num(tiers.margin)}"
    if tier == reference:
        return f"{s} is not below {line}: stays {reference}"
    return f"{s} is below {line}: falls to {tier}"


def _why_up(tiers: Tiers, value: float, reference: str, tier: str) -> str:
    s, names = _score(value), tiers.names
    if tier == reference:
        return f"{s} is below {_bar(tiers, names[names.index(reference) - 1])}: stays {reference}"
    reached = f"{s} reaches {_bar(tiers, tier)}"
    if plain_band(tiers, value) != tier:
        reached += f", but is below {_bar(tiers, names[names.index(tier) - 1])}"
    return f"{reached}: rises to {tier}"


def _bar(tiers: Tiers, tier: str) -> str:
    """'92, the EXCELLENT threshold + 2': what a score must reach to rise to ``tier``."""
    threshold = tiers.bands[tiers.names.index(tier)].min_score
    return f"{_num(threshold + tiers.margin)}, the {tier} threshold + {num(tiers.margin)}"


def _score(value: float) -> str:
    return f"{round_half_even(value):.2f}"


def _num(value: float) -> str:
    return num(round_half_even(value, 6))
