"""docs/scoring.md, rendered from the model configs so that docs and code cannot drift.

    python -m models.docs > docs/scoring.md

A unit test compares the committed file with ``render_scoring_md(load_models())``.
The prose of Vane's choices lives in ``models._choices``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping

from models._choices import COUNTER_MEANINGS, choices
from models._format import in_unit, num
from models.config import ModelConfig, NewEntityBoost, RiverBoost, load_models
from models.counting import COUNTERS, REGISTERS
from models.indicators import (
    CategoryRatioIndicator,
    FlagIndicator,
    Indicator,
    LogCountIndicator,
    RegisterIndicator,
    ShrunkIndicator,
)

HEADER = """\
# Vane scoring, as configured

<!-- Generated from models/*.toml by `python -m models.docs > docs/scoring.md`.
Do not edit by hand: tests/unit/models/test_docs.py fails when this file and
the configs disagree. -->

This is the rulebook (SCORING.md, version 2) as Vane runs it: every number comes
from the model configs `models/<name>.toml`, every formula from the evaluator in
`models/`. Where the rulebook leaves room, the choice Vane made is marked
**Vane's choice** and listed in the last section.
"""

FORMULAS = """\
## Formulas (all models)

- **Window.** A window of N days as of day d covers anchor days d-N+1 … d.
  The score window is the model's window, or its fallback window while the
  entity has too few paid orders in the model's window (shop, creator).
- **Evidence.** An entity is unrated (tier NEW) while its paid orders in the
  window used are below the model's minimum. No score is published for it.
- **Shrunk rate.** `r = (x + m·p₀) / (n + m)`.
- **Shrunk mean.** `h = (Σhours + m·h₀) / (k + m)` (`p₀` column = h₀).
- **Sub-score.** `sub = 100 · clamp((bad - v) / (bad - good), 0, 1)`, in both
  directions (good > bad when higher is better).
- **Heat (log count).** `sub = 100 · min(1, ln(1 + x) / ln(1 + saturation))`.
- **Category ratio (price index).** `v = (Σx/Σn of the product) / (Σx/Σn of its
  category)`, not shrunk; then the sub-score formula.
- **Register.** `v` = the latest value in the window, or the default; then the
  sub-score formula. **Flag**: `sub` = the "true" value if the latest value is
  true, else the "otherwise" value.
- **Score.** `S = clamp(Σ w·sub / Σ w - P, 0, 100)` for a rated entity, where
  `P = min(cap, Σ penalty points in the penalty window)`.
- **Points lost** by an indicator: `w · (100 - sub) / Σ w`; so
  `Σ w·sub / Σ w = 100 - Σ points lost`.
- **Display.** `offset + span · S / 100`, rounded half-even.
- **Rounding** (half-even, 2 decimals) is for display and messages only; every
  comparison (evidence, tiers, boosts) uses the full value.
"""


def render_scoring_md(models: Mapping[str, ModelConfig]) -> str:
    """The whole of docs/scoring.md for these models."""
    parts = [HEADER, FORMULAS]
    parts += [_model(config) for config in models.values()]
    parts += [_counters(), _choices(models)]
    return "\n".join(parts)


def _model(config: ModelConfig) -> str:
    lines = [
        f"## Model `{config.name}`: {config.title}, version {config.version}",
        "",
        f"Config `models/{config.source}`; scores entities of type `{config.entity_type}`.",
        "",
        *_basics(config),
        "",
        "| indicator | kind | x | n | p₀ / h₀ | good | bad | weight | window | notes |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *(_indicator_row(config, indicator) for indicator in config.indicators),
        f"| **total** | | | | | | | {num(config.total_weight)} | | |",
        "",
        *_tier_lines(config),
    ]
    if config.new_entity_boost is not None:
        lines += ["", *_new_entity_lines(config, config.new_entity_boost)]
    if config.boost is not None:
        lines += ["", *_river_lines(config.boost)]
    return "\n".join(lines) + "\n"


def _basics(config: ModelConfig) -> Iterator[str]:
    window = config.window
    yield f"- Window: {window.days} days."
    if window.fallback_days is not None:
        yield (
            f"  Fallback: {window.fallback_days} days while `{window.paid_counter}` over "
            f"{window.days} days is below {window.fallback_below_paid}."
        )
    paid, minimum = window.paid_counter, config.min_paid
    yield f"- Evidence: NEW while `{paid}` in the window used is below {minimum}."
    yield f"- Shrinkage strength m = {num(config.m)}."
    penalty = config.penalty
    if penalty is None:
        yield "- Penalty: none."
    else:
        yield (
            f"- Penalty: `{penalty.counter}` over {penalty.window_days} days, at most "
            f"{num(penalty.cap)} points, subtracted from rated scores only."
        )
    shape = config.display
    formula = f"{num(shape.span)}·S/100"
    if shape.offset:
        formula = f"{num(shape.offset)} + {formula}"
    yield f"- Display: `{formula}`, {shape.decimals} decimals (half-even)."


def _indicator_row(config: ModelConfig, indicator: Indicator) -> str:
    window = f"{indicator.window_days} days" if indicator.window_days else "score window"
    head = f"| {indicator.name} | {indicator.kind} |"
    tail = f"{num(indicator.weight)} | {window} | {_notes(indicator)} |"
    if isinstance(indicator, ShrunkIndicator):
        unit = indicator.unit
        values = (indicator.p0, indicator.good, indicator.bad)
        body = " | ".join(in_unit(value, unit) for value in values)
        return f"{head} `{indicator.x}` | `{indicator.n}` | {body} | {tail}"
    if isinstance(indicator, LogCountIndicator):
        return f"{head} `{indicator.x}` | — | — | — | — | {tail}"
    if isinstance(indicator, CategoryRatioIndicator):
        x, n = f"`{indicator.x}`", f"`{indicator.n}`"
        return f"{head} {x} | {n} | — | {num(indicator.good)} | {num(indicator.bad)} | {tail}"
    if isinstance(indicator, RegisterIndicator):
        good, bad = num(indicator.good), num(indicator.bad)
        return f"{head} `{indicator.register}` | — | — | {good} | {bad} | {tail}"
    return f"{head} `{indicator.register}` | — | — | — | — | {tail}"


def _notes(indicator: Indicator) -> str:
    if isinstance(indicator, ShrunkIndicator):
        notes = [f"{indicator.kind}, shrunk"]
        if indicator.x_divisor != 1:
            notes.append(f"x ÷ {num(indicator.x_divisor)}")
        if indicator.n_divisor != 1:
            notes.append(f"n ÷ {num(indicator.n_divisor)}")
        return "; ".join(notes)
    if isinstance(indicator, LogCountIndicator):
        return f"saturation {indicator.saturation}"
    if isinstance(indicator, CategoryRatioIndicator):
        return f"not shrunk; {num(indicator.missing)} when unknown (Vane's choice)"
    if isinstance(indicator, RegisterIndicator):
        return f"default {num(indicator.default)}"
    return _flag_note(indicator)


def _flag_note(indicator: FlagIndicator) -> str:
    return f"sub {num(indicator.if_true)} if true, else {num(indicator.otherwise)}"


def _tier_lines(config: ModelConfig) -> list[str]:
    tiers = config.tiers
    rows = [
        f"| {band.name} | ≥ {num(band.min_score)} | {band.weight:.2f} |" for band in tiers.bands
    ]
    new_weight = f"{tiers.unrated_weight:.2f}"
    if config.new_entity_boost is not None:
        new_weight += f" ({config.new_entity_boost.weight:.2f} with the new-shop boost)"
    return [
        "| tier | score | traffic weight |",
        "|---|---|---|",
        *rows,
        f"| {tiers.unrated} | unrated | {new_weight} |",
        "",
        *_hysteresis_lines(config),
    ]


def _hysteresis_lines(config: ModelConfig) -> list[str]:
    tiers = config.tiers
    margin = num(tiers.margin)
    return [
        f"Hysteresis, margin {margin} points, against the reference tier R: the plain band of "
        f"the score as of the previous day d - 1, that is this model with {_yesterday(config)}; "
        f"R is none when the {config.entity_type} was unrated as of d - 1. With today's "
        "score s (rated):",
        "",
        f"- R none, or s below {num(tiers.immediate_below)}: the plain band of s;",
        f"- band(s) above R: the highest tier above R whose threshold + {margin} s reaches, "
        "else R;",
        f"- band(s) below R: band(s) if s is below R's threshold - {margin}, else R;",
        "- band(s) = R: R;",
        f"- unrated today: {tiers.unrated}, whatever R.",
    ]


def _yesterday(config: ModelConfig) -> str:
    """What 'as of the previous day' reads for this model, from its config."""
    parts = ["every window ending on day d - 1"]
    if config.window.fallback_days is not None:
        parts.append("the fallback and the evidence judged on those windows")
    else:
        parts.append("the evidence judged on those windows")
    if config.penalty is not None:
        parts.append(f"penalties over the {config.penalty.window_days} days ending d - 1")
    if any(isinstance(i, CategoryRatioIndicator) for i in config.indicators):
        parts.append("its category's totals as of d - 1")
    if any(isinstance(i, RegisterIndicator | FlagIndicator) for i in config.indicators):
        parts.append("today's register values")
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _new_entity_lines(config: ModelConfig, rule: NewEntityBoost) -> list[str]:
    paid = config.window.paid_counter
    guard = " or ".join(f"shrunk `{g.indicator}` > {in_unit(g.above, '%')}" for g in rule.guard)
    return [
        f"New-shop boost (§5): a {config.tiers.unrated} {config.entity_type} gets weight "
        f"{rule.weight:.2f}",
        "",
        f"- when it has `{paid}` in its {rule.lookback_days}-day window, all of it on anchor "
        f"days of the last {rule.max_age_days} days (Vane's choice: day granularity),",
        f"- unless it has ≥ {rule.guard_min_paid} paid orders in the window used and {guard} "
        "(the guard).",
    ]


def _river_lines(river: RiverBoost) -> list[str]:
    fen, eps = num(river.fen_per_yuan), num(river.epsilon)
    level = f"min({num(river.cap)}, {num(river.coefficient)}·ln(1 + D/{num(river.scale_yuan)}))"
    return [
        f"{river.title} (§8, published as `boost`):",
        "",
        f"- D = (`{river.gmv}` - `{river.refunds}`) over {river.window_days} days / {fen}, "
        "in yuan, at least 0;",
        f"- `{num(1)} + {num(river.step)}·floor({river.steps_per_unit}·{level} + {eps})`;",
        f"- only while the tier is {river.min_tier} or better, else 1.00 (NEW is not).",
    ]


def _counters() -> str:
    lines = [
        "## Counters (models/counting.py)",
        "",
        "Each event adds to counters of its entities on its anchor day (order events:",
        "the day of `paid_at`; livestream events: the day of `ts`).",
        "",
        "| counter | kept for | what adds to it |",
        "|---|---|---|",
    ]
    for counter, meaning in COUNTER_MEANINGS.items():
        kept = ", ".join(kind for kind, names in COUNTERS.items() if counter in names)
        if not kept:
            kept = ", ".join(kind for kind, names in REGISTERS.items() if counter in names)
            kept += " (register)"
        lines.append(f"| `{counter}` | {kept} | {meaning} |")
    return "\n".join(lines) + "\n"


def _choices(models: Mapping[str, ModelConfig]) -> str:
    lines = ["## Vane's choices (where SCORING.md leaves room)", ""]
    lines += [f"{i}. **Vane's choice.** {text}" for i, text in enumerate(choices(models), 1)]
    return "\n".join(lines) + "\n"


def main() -> None:
    sys.stdout.write(render_scoring_md(load_models()))


if __name__ == "__main__":
    main()
