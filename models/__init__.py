"""Vane's scoring models: pure functions from per-day counters to scores and weights.

    models = load_models()                        # {"shop", "product", "creator"}
    s = score(models["shop"], windows)            # Score: value, display, breakdown
    d = decide(models["shop"], windows, previous) # tier, weight, boost; d.changed
    d.reference                                   # Reference(tier, score) as of yesterday

The numbers live in ``models/<name>.toml`` (SCORING.md §3-§8); docs/scoring.md
is generated from them by ``models.docs.render_scoring_md``. Nothing here does
I/O beyond reading those packaged files.
"""

from __future__ import annotations

from models.boosts import boost, new_entity_boosted, weight
from models.config import ModelConfig, load_model, load_models, parse_model
from models.errors import ModelConfigError, ModelError, ModelInputError
from models.evaluate import score
from models.result import IndicatorResult, Score, round_half_even, shrinkage_note
from models.state import (
    Decision,
    EntityState,
    decide,
    decide_if_changed,
    entity_state,
    reference,
    unseen,
)
from models.tiers import Reference, plain_band, tier_against, tier_of, tier_sentence
from models.windows import EntityWindows

__all__ = [
    "Decision",
    "EntityState",
    "EntityWindows",
    "IndicatorResult",
    "ModelConfig",
    "ModelConfigError",
    "ModelError",
    "ModelInputError",
    "Reference",
    "Score",
    "boost",
    "decide",
    "decide_if_changed",
    "entity_state",
    "load_model",
    "load_models",
    "new_entity_boosted",
    "parse_model",
    "plain_band",
    "reference",
    "round_half_even",
    "score",
    "shrinkage_note",
    "tier_against",
    "tier_of",
    "tier_sentence",
    "unseen",
    "weight",
]
