"""The weight topic's message (SCORING.md §9), schema version 1.

Key ``<entity_type>:<entity_id>``; value one JSON object, validated in the tests
against ``streams/schemas/weight-update-v1.schema.json`` (docs/weight-topic.md
is the recommender team's guide):

    {"schema": 1, "entity_type": "shop", "entity_id": "s1", "tier": "GOOD",
     "weight": 1.1, "boost": 1.0, "score": 84.12, "display": 4.68,
     "previous": {"tier": "STANDARD", ...}, "reference": {"tier": "GOOD", "score": 83.9},
     "reasons": [...], "model": {"name": "shop", "version": "2"},
     "as_of": "2026-11-22T10:00:00.000+08:00", "as_of_ms": 1795312800000,
     "cause": "ev-123", "seq": 7}

Scores and displays are rounded half-even to 2 decimals here, and only here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from models import (
    Decision,
    EntityState,
    IndicatorResult,
    ModelConfig,
    Reference,
    decide,
    decide_if_changed,
    round_half_even,
)
from models.state import unseen
from models.windows import EntityWindows

SCHEMA_VERSION = 1
DAY_CLOSE = "day-close"
PLATFORM_ZONE = timezone(timedelta(hours=8))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def message_key(entity_type: str, entity_id: str) -> bytes:
    return f"{entity_type}:{entity_id}".encode()


def state_fields(state: EntityState) -> dict[str, Any]:
    """tier, weight, boost, score, display as published (rounded)."""
    return {
        "tier": state.tier,
        "weight": round_half_even(state.weight),
        "boost": round_half_even(state.boost),
        "score": None if state.score is None else round_half_even(state.score),
        "display": state.display,
    }


def reference_fields(reference: Reference | None) -> dict[str, Any] | None:
    """R of rulebook v2 §7: yesterday's plain band and score (None: unrated yesterday)."""
    if reference is None:
        return None
    return {"tier": reference.tier, "score": round_half_even(reference.score)}


def stored_state(config: ModelConfig, fields: dict[str, Any] | None) -> EntityState:
    """The published state kept in the store (None: never published, i.e. unseen)."""
    if fields is None:
        return unseen(config)
    return EntityState(
        fields["tier"], fields["weight"], fields["boost"], fields["score"], fields["display"]
    )


def redecide(
    config: ModelConfig,
    windows: EntityWindows,
    stored: dict[str, Any] | None,
    category: EntityWindows | None,
) -> Decision:
    """Score an entity again against its stored published state (None: never published)."""
    previous = None if stored is None else stored_state(config, stored)
    return decide(config, windows, previous, category=category)


def redecide_if_changed(
    config: ModelConfig,
    windows: EntityWindows,
    stored: dict[str, Any] | None,
    category: EntityWindows | None,
) -> Decision | None:
    """``redecide`` when it changes tier, weight or boost, else None (``decide_if_changed``)."""
    previous = None if stored is None else stored_state(config, stored)
    return decide_if_changed(config, windows, previous, category=category)


def build(
    decision: Decision, config: ModelConfig, *, seq: int, as_of_ms: int, cause: str
) -> dict[str, Any]:
    """The message announcing ``decision.state`` (with ``decision.previous``)."""
    score = decision.score
    return {
        "schema": SCHEMA_VERSION,
        "entity_type": score.entity_type,
        "entity_id": score.entity_id,
        **state_fields(decision.state),
        "previous": state_fields(decision.previous),
        "reference": reference_fields(decision.reference),
        "reasons": [_reason(r) for r in score.reasons()],
        "model": {"name": config.name, "version": config.version},
        "as_of": as_of_text(as_of_ms),
        "as_of_ms": as_of_ms,
        "cause": cause,
        "seq": seq,
    }


def _reason(result: IndicatorResult) -> dict[str, Any]:
    return {
        "indicator": result.name,
        "value": round(result.value, 6),
        "sub": round_half_even(result.sub),
        "points_lost": round_half_even(result.points_lost),
    }


def as_of_text(ms: int) -> str:
    """RFC 3339 at the platform's UTC+08:00, to the millisecond."""
    moment = _EPOCH + timedelta(milliseconds=ms)
    return moment.astimezone(PLATFORM_ZONE).isoformat(timespec="milliseconds")
