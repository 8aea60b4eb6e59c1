"""Tiers, traffic weights and hysteresis (SCORING.md §7).

    tiers = load_models()["shop"].tiers
    tier_after(tiers, 91.0, "GOOD")       # 'GOOD'       (up needs 90 + 2)
    tier_after(tiers, 92.0, "GOOD")       # 'EXCELLENT'
    tier_after(tiers, 77.9, "GOOD")       # 'STANDARD'   (below 80 - 2: the plain band)
    tier_after(tiers, 49.9, "STANDARD")   # 'POOR'       (below 50 is immediate)
    tier_after(tiers, 70.0, None)         # 'STANDARD'   (first rating: the plain band)

Tiers compare the unrounded score: 91.999 shows as 92.00 and stays GOOD.
"""

from __future__ import annotations

from models.config import ModelConfig, Tiers
from models.result import Score


def next_tier(config: ModelConfig, score: Score, previous_tier: str | None) -> str:
    """The tier after ``score``, given the tier before (None: never rated)."""
    return tier_after(config.tiers, score.value if score.rated else None, previous_tier)


def tier_after(tiers: Tiers, value: float | None, previous: str | None) -> str:
    """§7 on a bare value (None = unrated); an unknown or unrated ``previous`` starts afresh."""
    if value is None:
        return tiers.unrated
    if previous not in tiers.names or value < tiers.immediate_below:
        return plain_band(tiers, value)
    index = tiers.names.index(previous)
    if index > 0 and value >= tiers.bands[index - 1].min_score + tiers.margin:
        return _highest_reached(tiers, value)
    if value < tiers.bands[index].min_score - tiers.margin:
        return plain_band(tiers, value)
    return tiers.bands[index].name


def plain_band(tiers: Tiers, value: float) -> str:
    """The best tier whose threshold the value reaches, without hysteresis."""
    return next(band.name for band in tiers.bands if value >= band.min_score)


def _highest_reached(tiers: Tiers, value: float) -> str:
    return next(band.name for band in tiers.bands if value >= band.min_score + tiers.margin)


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
