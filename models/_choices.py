"""The prose of docs/scoring.md that is not a number: counter meanings, Vane's choices.

Numbers quoted here are read from the configs and ``models.counting``, so a
config change shows up in the generated docs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from models._format import in_unit, num
from models.config import ModelConfig, NewEntityBoost
from models.counting import NEGATIVE_RATING_MAX, PENALTY_POINTS, QUALITY_REASONS
from models.evaluate import normalise
from models.indicators import CategoryRatioIndicator, FlagIndicator, RegisterIndicator
from models.result import round_half_even

T = TypeVar("T")

_REASONS = ", ".join(sorted(QUALITY_REASONS))
_PENALTIES = ", ".join(f"{k} {v}" for k, v in PENALTY_POINTS.items())

COUNTER_MEANINGS: dict[str, str] = {
    "paid": "1 per `order.paid`",
    "free_shipping": "1 per `order.paid` with `freight_fen` = 0",
    "quality_refunds": f"1 per `refund.requested` with a quality reason ({_REASONS})",
    "misdescriptions": "1 per `refund.requested` with reason `not_as_described`",
    "negative_reviews": f"1 per `order.reviewed` with rating ≤ {NEGATIVE_RATING_MAX}",
    "pickups": "1 per `shipment.collected`",
    "pickups_on_time": "1 per `shipment.collected` with `ts` ≤ `ship_by`",
    "deliveries": "1 per `shipment.delivered`",
    "deliveries_on_time": "1 per `shipment.delivered` with `ts` ≤ `promised_by`",
    "merchant_exceptions": "1 per `shipment.exception` with `carrier_fault` = false",
    "merchant_resolutions": "1 per `refund.resolved` with `resolved_by` = merchant",
    "merchant_handling_ms": "`ts` - `requested_at` (ms) of each of those",
    "lost_disputes": "1 per `refund.resolved` by the platform with `merchant_liable`",
    "merchant_cancels": "1 per `order.cancelled` with `cancelled_by` ≠ buyer",
    "amount_fen": "`amount_fen` of each `order.paid`",
    "quantity": "`quantity` of each `order.paid`",
    "dist_gmv_fen": "`amount_fen` of each `order.paid` with a `creator_id`",
    "dist_refund_fen": "`amount_fen` of each approved `refund.resolved` with a `creator_id`",
    "reports": "1 per `live.report`",
    "viewer_minutes": "`viewer_minutes` of each `live.stats`",
    "penalty_points": f"per `live.violation` by severity: {_PENALTIES}",
    "listing_quality": "latest `listing_quality` carried by an `order.paid` (per day)",
    "brand_authorized": "latest `brand_authorized` carried by an `order.paid` (per day)",
}


def choices(models: Mapping[str, ModelConfig]) -> list[str]:
    """Vane's choices, one markdown paragraph each, numbers read from the configs."""
    shop, product = models["shop"], models["product"]
    return [
        *_time_choices(),
        *_product_choices(product),
        *_score_choices(),
        *_boost_choices(shop),
        *_tier_choices(product),
    ]


def _time_choices() -> list[str]:
    return [
        "On time means `ts <= deadline`: a pickup or delivery exactly at `ship_by` / "
        "`promised_by` is on time.",
        "After-sales handling time is summed in milliseconds (`merchant_handling_ms`) and "
        "shown in hours (ms ÷ 3 600 000); the shrunk mean is in hours.",
        "The fallback window is chosen on paid orders in the model's window; once chosen it "
        "applies to every indicator of the score window (the creator's report rate and "
        "viewer minutes too), and evidence counts paid orders in the window used. Indicators "
        "with their own window (heat, price index) keep it.",
        "An indicator with no data in the window (n = 0) is its shrunk baseline: a rate of p₀, "
        "a mean of h₀ (so a shop with no after-sales cases has 24 h, sub-score 80).",
        "Penalty points are summed over their own 90-day window whatever the score window, "
        "anchored at the violation's `ts`; they accrue while NEW but are subtracted only from "
        "a rated score, after weighing, and the result is clamped to 0-100.",
        "Distribution GMV counts every order with a `creator_id`, whatever the channel; its "
        "refunds are approved `refund.resolved` on such orders, whoever resolved them, "
        "anchored (like the GMV) at the order's `paid_at`.",
    ]


def _product_choices(product: ModelConfig) -> list[str]:
    price = _find(product, CategoryRatioIndicator)
    listing = _find(product, RegisterIndicator)
    brand = _find(product, FlagIndicator)
    return [
        f"`{listing.register}` and `{brand.register}` are the latest values (largest `ts`, "
        "then largest `event_id`) carried by an `order.paid` **within the product's "
        f"{product.window.days}-day window**, so that an event dropped as `too_late` can "
        f"never change a final score; otherwise {num(listing.default)} and not "
        f"authorised ({num(brand.otherwise)}).",
        "The price index needs the product's category, which is not among the product's "
        "counters: the caller (the streaming layer, which keeps each product's category) "
        "passes the category's windows. The category's average includes the product's own "
        "sales.",
        f"When the price index cannot be computed (no quantity for the product in "
        f"{price.window_days} days, no category windows, or a category average of 0) the "
        f"index is {num(price.missing)} (at par), which gives the sub-score "
        f"{num(round_half_even(_at_par(price)))}; the breakdown marks it `defaulted`. Only a "
        "product without paid orders in the window (so NEW) lacks its own average.",
        "Heat counts paid orders (`order.paid` events), not units.",
        f"The product score is displayed as the score itself, 0-100 with "
        f"{product.display.decimals} decimals.",
    ]


def _score_choices() -> list[str]:
    return [
        "Rounding is half-even on the float's shortest decimal form (Python `repr`), so "
        "2.675 rounds to 2.68; the display is computed in decimal arithmetic from the "
        "unrounded score. Tiers, weights and boosts use the unrounded score.",
        "Reasons are the indicators that lost points as published (points lost above 0 "
        "after rounding half-even to 2 decimals), most first, ties in config order, at "
        "most 3; the penalty is not an indicator (it is its own field); "
        "a NEW entity has no reasons. A NEW entity still gets its breakdown (for the explain "
        "query), never a score.",
    ]


def _boost_choices(shop: ModelConfig) -> list[str]:
    rule = shop.new_entity_boost
    new_shop = [] if rule is None else _new_shop_choices(shop, rule)
    return [*new_shop, *_river_choices()]


def _new_shop_choices(shop: ModelConfig, rule: NewEntityBoost) -> list[str]:
    guard = " OR ".join(f"shrunk `{g.indicator}` > {in_unit(g.above, '%')}" for g in rule.guard)
    return [
        f'New-shop boost at day granularity: "earliest paid order within the last '
        f'{rule.lookback_days} days is less than {rule.max_age_days} days old" holds when '
        f"the shop has paid orders in its {rule.lookback_days}-day window and none on anchor "
        f"days older than as-of day - {rule.max_age_days - 1}.",
        f"The new-shop guard reads the shop's window used ({shop.window.fallback_days} days "
        f"for a NEW shop, by the fallback): ≥ {rule.guard_min_paid} paid orders there AND "
        f"({guard}), each rate shrunk with the shop's m = {num(shop.m)} and its p₀; "
        '"above" is strict.',
        f"The new-shop boost is a weight ({rule.weight:.2f} instead of "
        f"{shop.tiers.unrated_weight:.2f}); its `boost` stays 1.00, since NEW is not "
        "STANDARD or better.",
    ]


def _river_choices() -> list[str]:
    return [
        'River boost and creator reward: NEW is not "STANDARD or better", so 1.00. '
        "`ln` is the natural logarithm of `1 + D/10 000` as written; a step of 0.05 gives "
        "exactly 1.05, 1.10, … (decimal arithmetic, no float noise in messages).",
    ]


def _tier_choices(product: ModelConfig) -> list[str]:
    listing = _find(product, RegisterIndicator)
    brand = _find(product, FlagIndicator)
    days = product.window.days
    return [
        "Hysteresis compares unrounded scores, today's and the previous day's: \"reaches\" is "
        '≥, "below" is <. A reference tier this config does not know (none can arise, since '
        "R is computed with the same config) counts as no reference.",
        '"As of the previous day" means windows ending on day d - 1 over every event '
        "processed, not the score known at the end of d - 1: an event anchored on d - 1 or "
        "earlier that arrives today moves R as it moves any score, so R depends on the "
        "events alone. d is the as-of day (the day of stream time); R's windows cover anchor "
        "days (d - 1) - N + 1 … d - 1, so its 90-day windows reach day d - 90, which the "
        "`too_late` rule still accepts, and events anchored on day d count for today only.",
        f"\"Today's listing-quality and brand values\" are exactly the values today's score "
        f"uses: the latest `{listing.register}` / `{brand.register}` within today's "
        f"{days}-day register window (d - {days - 1} … d), else the default "
        f"({num(listing.default)}, not authorised). An entry of day d counts for R; an entry "
        f"of day d - {days} only, inside d - 1's register window but not today's, does not.",
        "A product's category as of d - 1 is its category today (its latest label, as "
        "today's score uses), with that category's totals as of d - 1 (its windows ending "
        "on d - 1, the product's own sales of d - 1 and before included).",
        "An entity rated as of d - 1 and unrated today is NEW (weight 1.00, or the new-shop "
        "weight), whatever R; R is still computed and shown by the explain query. An entity "
        "whose first rating is today, or rated again after a day unrated, has no R: the "
        "plain band.",
        "The new-shop boost plays no role in R: R is a band of the previous day's score, not "
        "a weight or a published state. Weights and boosts follow today's tier. The state "
        "published before (`previous`) plays no role in the tier either; it only decides "
        "whether a message is due.",
        "An entity never published counts as NEW with weight 1.00 and boost 1.00: nothing "
        "is published while that holds, and the first message carries that as `previous`.",
    ]


def _find(config: ModelConfig, kind: type[T]) -> T:
    return next(i for i in config.indicators if isinstance(i, kind))


def _at_par(price: CategoryRatioIndicator) -> float:
    return normalise(price.missing, price.good, price.bad)
