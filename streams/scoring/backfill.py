"""The streaming semantics in one process, without Kafka or Redis: the backfill path.

``Backfill`` takes valid events in arrival order, in batches, and does what the
worker does, by the same rules (``streams.semantics``): reject events too late
for any window, drop upstream duplicates (same event_id within the dedupe
horizon), count the rest into per-day rows (``models.counting``),
re-score the entities a batch touched, run the day-close sweep when the as-of
day advances, and a final sweep at the end. ``vane score-file`` is built on it,
and so are the property tests of the scoring semantics.

    backfill = Backfill(load_models())
    backfill.feed(events, batch_size=500)
    backfill.finish()
    rows = backfill.snapshot()
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from models import Decision, EntityState, ModelConfig, Score, decide, round_half_even
from models.counting import contributions
from models.windows import EntityWindows, Register
from streams.events import EntityKey, Event, anchor_day
from streams.scoring import weights
from streams.scoring.category import category_key
from streams.semantics import Deduper, newer, too_late
from streams.settings import RedisSettings


@dataclass(slots=True)
class _Entity:
    days: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))
    registers: dict[str, tuple[int, str, int, int]] = field(default_factory=dict)
    labels: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    state: EntityState | None = None
    seq: int = 0


@dataclass(frozen=True, slots=True)
class Update:
    """One weight update the stream would have published."""

    key: EntityKey
    message: dict[str, Any]


class Backfill:
    """Events in, the final entity states (and the weight updates) out."""

    def __init__(self, models: Mapping[str, ModelConfig], deduper: Deduper | None = None) -> None:
        """``deduper``: the upstream-duplicate markers (default: the store's horizon)."""
        self._models = models
        self._entities: dict[EntityKey, _Entity] = defaultdict(_Entity)
        horizon_ms = int(RedisSettings().dedupe_horizon_s * 1000)
        self._deduper = deduper or Deduper(horizon_ms)
        self._arrivals = 0  # each event's position: the backfill has no redeliveries
        self.stream_time_ms: int | None = None
        self._swept_day: int | None = None
        self.updates: list[Update] = []
        self.too_late = 0
        self.duplicates = 0

    def feed(self, events: Iterable[Event], batch_size: int = 1000) -> None:
        """Process events in arrival order, ``batch_size`` at a time."""
        it = iter(events)
        while batch := list(islice(it, batch_size)):
            self.apply(batch)

    def apply(self, batch: Sequence[Event]) -> None:
        """One batch: count, re-score what it touched, sweep if the day advanced."""
        batch_max = max(e.ts_ms for e in batch)
        self.stream_time_ms = max(self.stream_time_ms or batch_max, batch_max)
        as_of = anchor_day(self.stream_time_ms)
        causes: dict[EntityKey, str] = {}
        for event in batch:
            causes.update(self._count(event, as_of))
        self._rescore(as_of, causes)
        if self._swept_day is None or as_of > self._swept_day:
            self.sweep()

    def finish(self) -> None:
        """The sweep the worker runs when asked after the last event (``vane sweep``)."""
        if self.stream_time_ms is not None:
            self.sweep()

    def sweep(self) -> None:
        """Re-score every entity as of the day of stream time (cause ``day-close``)."""
        assert self.stream_time_ms is not None
        as_of = anchor_day(self.stream_time_ms)
        self._rescore(as_of, dict.fromkeys(list(self._entities), weights.DAY_CLOSE))
        self._swept_day = as_of

    def _count(self, event: Event, as_of: int) -> dict[EntityKey, str]:
        day = anchor_day(event.anchor_ms)
        if too_late(day, as_of):
            self.too_late += 1
            return {}
        self._arrivals += 1
        if not self._deduper.admit(event.event_id, str(self._arrivals)):
            self.duplicates += 1
            return {}
        touched = {}
        for c in contributions(event.type, event.body):
            entity = self._entities[(c.entity_type, c.entity_id)]
            row = entity.days[day]
            for name, delta in c.counts.items():
                row[name] = row.get(name, 0) + delta
            entry = (event.ts_ms, event.event_id)
            for name, value in c.registers.items():
                if newer(entry, _entry(entity.registers.get(name))):
                    entity.registers[name] = (*entry, value, day)
            for name, text in c.labels.items():
                if newer(entry, _entry(entity.labels.get(name))):
                    entity.labels[name] = (*entry, text)
            touched[(c.entity_type, c.entity_id)] = event.event_id
        return touched

    def _rescore(self, as_of: int, causes: Mapping[EntityKey, str]) -> None:
        assert self.stream_time_ms is not None
        for key in sorted(causes):
            if key[0] in self._models:
                self._decide(key, as_of, causes[key])

    def _decide(self, key: EntityKey, as_of: int, cause: str) -> Decision:
        config, entity = self._models[key[0]], self._entities[key]
        decision = decide(
            config, self.windows(key, as_of), entity.state, category=self._category(key, as_of)
        )
        if decision.changed:
            entity.seq += 1
            stream_ms = self.stream_time_ms or 0
            message = weights.build(
                decision, config, seq=entity.seq, as_of_ms=stream_ms, cause=cause
            )
            self.updates.append(Update(key, message))
            entity.state = weights.stored_state(config, weights.state_fields(decision.state))
        return decision

    def windows(self, key: EntityKey, as_of: int) -> EntityWindows:
        entity = self._entities[key]
        registers: dict[str, dict[int, Register]] = {
            name: {day: (ts, eid, value)}
            for name, (ts, eid, value, day) in entity.registers.items()
        }
        return EntityWindows.from_days(key[0], key[1], as_of, entity.days, registers)

    def _category(self, key: EntityKey, as_of: int) -> EntityWindows | None:
        labels = {name: text for name, (_, _, text) in self._entities[key].labels.items()}
        category_of = category_key(key[0], labels)
        return None if category_of is None else self.windows(category_of, as_of)

    def snapshot(self) -> list[dict[str, Any]]:
        """Every scored entity's current state, sorted by (type, id): ``vane snapshot``'s rows."""
        assert self.stream_time_ms is not None
        as_of = anchor_day(self.stream_time_ms)
        return [self._row(key, as_of) for key in sorted(self._entities) if key[0] in self._models]

    def _row(self, key: EntityKey, as_of: int) -> dict[str, Any]:
        config = self._models[key[0]]
        entity = self._entities[key]
        windows = self.windows(key, as_of)
        fresh = decide(config, windows, entity.state, category=self._category(key, as_of))
        state = entity.state or fresh.previous
        return snapshot_row(config, fresh.score, state, entity.seq, self.stream_time_ms or 0)


def _entry(kept: tuple[Any, ...] | None) -> tuple[int, str] | None:
    """The (ts, event_id) of a kept register or label entry."""
    return None if kept is None else (kept[0], kept[1])


def snapshot_row(
    config: ModelConfig, score: Score, published: EntityState, seq: int, as_of_ms: int
) -> dict[str, Any]:
    """One line of ``vane snapshot`` / ``vane score-file``: an entity's current state.

    ``score``/``display`` are the score now; ``tier``/``weight``/``boost`` the state
    last published (after a sweep, the state the score leads to).
    """
    return {
        "entity_type": score.entity_type,
        "entity_id": score.entity_id,
        "score": None if score.value is None else round_half_even(score.value),
        "display": score.display,
        "score_exact": score.value,
        "tier": published.tier,
        "weight": round_half_even(published.weight),
        "boost": round_half_even(published.boost),
        "seq": seq,
        "model": {"name": config.name, "version": config.version},
        "as_of": weights.as_of_text(as_of_ms),
    }
