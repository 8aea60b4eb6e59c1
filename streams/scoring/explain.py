"""Why a score is what it is: every number a merchant needs to redo the arithmetic.

``explain`` reads one entity as of the current stream time and returns the score,
display value, tier, weight and boost, the reference R of rulebook v2 with the
sentence that decides the tier, and per indicator x, n, the shrunk value (with
how shrinkage toward the platform baseline moved it from x / n), the sub-score,
the weight and the points lost. ``vane explain`` prints it as a
table; the worker serves it as JSON at ``GET /scores/<type>/<id>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models import ModelConfig, round_half_even, shrinkage_note, tier_sentence
from streams.scoring import weights
from streams.scoring.category import category_key
from streams.store import Snapshot, WindowStore, day_of


class UnknownEntity(LookupError):
    """No data and no published state for this entity."""


async def explain(
    store: WindowStore, models: Mapping[str, ModelConfig], entity_type: str, entity_id: str
) -> dict[str, Any]:
    """The explanation of one entity as of stream time (raises UnknownEntity)."""
    if entity_type not in models:
        raise UnknownEntity(f"unknown entity type {entity_type!r} (one of {', '.join(models)})")
    stream_ms = await store.stream_time_ms()
    if stream_ms is None:
        raise UnknownEntity("no event processed yet")
    snap = await store.read(entity_type, entity_id, day_of(stream_ms))
    if snap.published.state is None and not any(snap.windows.totals[90].values()):
        raise UnknownEntity(f"no data for {entity_type} {entity_id}")
    category = await _category(store, snap)
    return _render(models[entity_type], snap, category, stream_ms)


async def _category(store: WindowStore, snap: Snapshot) -> Snapshot | None:
    category_of = category_key(snap.windows.entity_type, snap.labels)
    if category_of is None:
        return None
    return await store.read(*category_of, snap.windows.as_of_day)


def _render(
    config: ModelConfig, snap: Snapshot, category: Snapshot | None, stream_ms: int
) -> dict[str, Any]:
    stored = snap.published.state
    decision = weights.redecide(
        config, snap.windows, stored, None if category is None else category.windows
    )
    s = decision.score
    return {
        "entity_type": s.entity_type,
        "entity_id": s.entity_id,
        "model": {"name": config.name, "version": config.version},
        "as_of": weights.as_of_text(stream_ms),
        "as_of_ms": stream_ms,
        "rated": s.rated,
        **weights.state_fields(decision.state),
        "score_exact": s.value,
        "window_days": s.window_days,
        "paid_orders": s.paid,
        "score_before_penalty": round_half_even(s.before_penalty),
        "penalty": s.penalty,
        "category": snap.labels.get("category"),
        "reference": weights.reference_fields(decision.reference),
        "tier_rule": tier_sentence(config.tiers, s.value, decision.reference),
        "published": {
            "seq": snap.published.seq,
            **(stored or weights.state_fields(decision.previous)),
        },
        "indicators": [
            {
                "name": r.name,
                "kind": r.kind,
                "x": r.x,
                "n": r.n,
                "value": r.value,
                "sub": r.sub,
                "weight": r.weight,
                "points_lost": r.points_lost,
                "window_days": r.window_days,
                "defaulted": r.defaulted,
                "baseline": r.p0,
                "shrinkage": shrinkage_note(r),
            }
            for r in s.breakdown
        ],
    }


def render_text(explained: Mapping[str, Any]) -> str:
    """The explanation as a table for a terminal."""
    e = explained
    head = [
        f"{e['entity_type']} {e['entity_id']}  (model {e['model']['name']} "
        f"v{e['model']['version']}, as of {e['as_of']})",
        f"score {_num(e['score'])}  display {_num(e['display'])}  tier {e['tier']}  "
        f"weight {e['weight']:.2f}  boost {e['boost']:.2f}",
        f"window {e['window_days']} days, {e['paid_orders']} paid orders"
        + ("" if e["rated"] else " (too few: NEW, no score published)")
        + f"; penalty {e['penalty']:g} points; before penalty {_num(e['score_before_penalty'])}",
        f"tier: {e['tier_rule']}",
        "",
        f"{'indicator':<26}{'x':>12}{'n':>12}{'value':>12}{'sub':>9}{'weight':>8}{'lost':>8}",
    ]
    rows = [
        f"{r['name']:<26}{_num(r['x']):>12}{_num(r['n']):>12}{r['value']:>12.6g}"
        f"{r['sub']:>9.2f}{r['weight']:>8g}{r['points_lost']:>8.2f}"
        + ("  (default)" if r["defaulted"] else "")
        for r in e["indicators"]
    ]
    notes = [f"  {r['name']}: {r['shrinkage']}" for r in e["indicators"] if r["shrinkage"]]
    if notes:
        notes.insert(
            0, "\nrates and means are shrunk toward the platform baseline (SCORING.md §3):"
        )
    return "\n".join(head + rows + notes)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"
