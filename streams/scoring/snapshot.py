"""Every entity's current state, read from the store: ``vane snapshot``.

The rows have the same shape as ``vane score-file`` (``streams.scoring.backfill``), so
that a replay through the stream and the in-process path can be compared line
by line.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from models import ModelConfig
from models.windows import EntityWindows
from streams.events import EntityKey
from streams.scoring import weights
from streams.scoring.backfill import snapshot_row
from streams.scoring.category import category_key
from streams.store import Snapshot, WindowStore, day_of

CHUNK = 500


async def current_states(
    store: WindowStore, models: Mapping[str, ModelConfig]
) -> list[dict[str, Any]]:
    """Rows for every scored entity as of stream time, sorted by (type, id)."""
    stream_ms = await store.stream_time_ms()
    if stream_ms is None:
        return []
    as_of = day_of(stream_ms)
    keys = sorted([key async for key in store.entities() if key[0] in models])
    rows: list[dict[str, Any]] = []
    async for chunk in _chunks(store, keys, as_of):
        categories = await _categories(store, chunk, as_of)
        for key, snap in chunk.items():
            rows.append(_row(models[key[0]], snap, categories, stream_ms))
    return rows


async def _chunks(
    store: WindowStore, keys: list[EntityKey], as_of: int
) -> AsyncIterator[dict[EntityKey, Snapshot]]:
    for start in range(0, len(keys), CHUNK):
        yield await store.snapshots(keys[start : start + CHUNK], as_of)


async def _categories(
    store: WindowStore, chunk: Mapping[EntityKey, Snapshot], as_of: int
) -> dict[EntityKey, EntityWindows]:
    keys = {c for k, s in chunk.items() if (c := category_key(k[0], s.labels)) is not None}
    found = await store.snapshots(sorted(keys), as_of)
    return {key: snap.windows for key, snap in found.items()}


def _row(
    config: ModelConfig,
    snap: Snapshot,
    categories: Mapping[EntityKey, EntityWindows],
    stream_ms: int,
) -> dict[str, Any]:
    category_of = category_key(config.entity_type, snap.labels)
    category = None if category_of is None else categories.get(category_of)
    decision = weights.redecide(config, snap.windows, snap.published.state, category)
    published = weights.stored_state(config, snap.published.state)
    return snapshot_row(config, decision.score, published, snap.published.seq, stream_ms)
