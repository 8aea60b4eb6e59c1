"""Weights beyond the tier table: the new-shop boost (§5) and the river boost (§8).

    boost(shop, windows, "GOOD")     # 1.10 for 30 000 yuan of net distribution GMV in 7 days
    weight(shop, s, windows, "NEW")  # 1.15 for a boosted new shop, else 1.00

The river boost is a separate multiplier (published as ``boost``); the new-shop
boost replaces the NEW tier's weight (published as ``weight``).
"""

from __future__ import annotations

import math
from decimal import Decimal

from models.config import ModelConfig, NewEntityBoost, RiverBoost
from models.result import Score
from models.tiers import at_least, tier_weight
from models.windows import EntityWindows

NO_BOOST = 1.0


def boost(config: ModelConfig, windows: EntityWindows, tier: str) -> float:
    """The river boost (shop) or distribution reward (creator); 1.00 below its tier."""
    river = config.boost
    if river is None or not at_least(config.tiers, tier, river.min_tier):
        return NO_BOOST
    return river_multiplier(river, net_distribution_yuan(river, windows))


def net_distribution_yuan(river: RiverBoost, windows: EntityWindows) -> float:
    """D (or G): distribution GMV minus its approved refunds, in yuan, at least 0."""
    net_fen = windows.total(river.gmv, river.window_days) - windows.total(
        river.refunds, river.window_days
    )
    return max(0.0, net_fen / river.fen_per_yuan)


def river_multiplier(river: RiverBoost, amount_yuan: float) -> float:
    """``1 + step·floor((1/step)·min(cap, coefficient·ln(1 + D/scale)) + epsilon)``."""
    level = min(river.cap, river.coefficient * math.log(1 + amount_yuan / river.scale_yuan))
    steps = math.floor(river.steps_per_unit * level + river.epsilon)
    return float(1 + Decimal(repr(river.step)) * steps)


def weight(config: ModelConfig, score: Score, windows: EntityWindows, tier: str) -> float:
    """The traffic weight: the tier's, or the new-shop weight for a boosted NEW shop."""
    rule = config.new_entity_boost
    boosted = tier == config.tiers.unrated and new_entity_boosted(config, score, windows)
    if rule is not None and boosted:
        return rule.weight
    return tier_weight(config.tiers, tier)


def new_entity_boosted(config: ModelConfig, score: Score, windows: EntityWindows) -> bool:
    """§5: NEW, every paid order of the lookback is recent, and the guard does not trip."""
    rule = config.new_entity_boost
    if rule is None or score.rated:
        return False
    paid = config.window.paid_counter
    in_lookback = windows.total(paid, rule.lookback_days)
    recent = windows.total(paid, rule.max_age_days)
    return in_lookback > 0 and recent == in_lookback and not guard_trips(rule, score)


def guard_trips(rule: NewEntityBoost, score: Score) -> bool:
    """Enough paid orders and any guarded (shrunk) rate strictly above its limit."""
    if score.paid < rule.guard_min_paid:
        return False
    return any(score.indicator(g.indicator).value > g.above for g in rule.guard)
