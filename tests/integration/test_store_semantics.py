"""The Lua store held to the one written definition of the streaming rules (streams.semantics).

``Rules`` below is ``streams.semantics`` and nothing else, plus the per-partition
watermark that skips redeliveries: per batch it says which events are too late and
how many are upstream duplicates, and per entity which label entry is the latest by
(ts, event_id). The window store, running the same deliveries in Redis (``dedupe.lua``'s
packed markers, ``apply.lua``), must agree batch by batch. The ids mix cases and
punctuation, the timestamps collide, the anchors span more than 90 days, and batches
are redelivered after simulated crashes; a short horizon shows markers expiring.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.counting import contributions
from streams import codec
from streams.events import EntityKey, SourcedEvent, Stream, anchor_day
from streams.intake.contract import parse
from streams.semantics import Deduper, newer, too_late
from streams.settings import RedisSettings, Secret
from streams.store import WindowStore
from streams.store.encoding import position
from tests.samples import sample

pytestmark = pytest.mark.integration

BASE_MS = 1_790_000_000_000  # 2026-09-21
DAY_MS = 86_400_000
IDS = ["a1", "B1", "b1", "A1", "a-1", "a.1", "a:1", "Z", "z"]  # case and punctuation order
CATEGORIES = ["g1", "G1", "g2"]
HORIZON_MS = 86_400_000


@dataclass
class Rules:
    """The streaming rules in memory: streams.semantics, and the watermark of each partition."""

    dedupe: Deduper
    stream_ms: int | None = None
    watermarks: dict[tuple[EntityKey, Stream, int], int] = field(default_factory=dict)
    labels: dict[EntityKey, dict[str, tuple[int, str, str]]] = field(default_factory=dict)

    def apply(self, batch: list[SourcedEvent]) -> tuple[list[int], int]:
        """The batch's too-late indexes and its number of upstream duplicates."""
        batch_max = max(s.event.ts_ms for s in batch)
        now_ms = batch_max if self.stream_ms is None else max(self.stream_ms, batch_max)
        as_of = anchor_day(now_ms)
        late = [i for i, s in enumerate(batch) if too_late(anchor_day(s.event.anchor_ms), as_of)]
        fresh = [s for i, s in enumerate(batch) if i not in late]
        unique = [s for s in fresh if self.dedupe.admit(s.event.event_id, position(s))]
        for s in sorted(unique, key=lambda s: (s.event.stream, s.partition, s.offset)):
            self._count(s)
        self.stream_ms = now_ms
        return late, len(fresh) - len(unique)

    def _count(self, s: SourcedEvent) -> None:
        entry = (s.event.ts_ms, s.event.event_id)
        for c in contributions(s.event.type, s.event.body):
            key = (c.entity_type, c.entity_id)
            mark = (key, s.event.stream, s.partition)
            if s.offset <= self.watermarks.get(mark, -1):
                continue  # applied before: a redelivery
            self.watermarks[mark] = s.offset
            kept = self.labels.setdefault(key, {})
            for name, text in c.labels.items():
                old = kept.get(name)
                if newer(entry, None if old is None else old[:2]):
                    kept[name] = (*entry, text)


@dataclass(frozen=True)
class Message:
    partition: int
    offset: int
    body: dict[str, Any]

    def sourced(self) -> SourcedEvent:
        event = parse(Stream.ORDERS, codec.dumps(self.body))
        return SourcedEvent(event, Stream.ORDERS.value, self.partition, self.offset)


@st.composite
def paid_orders(draw: st.DrawFn) -> dict[str, Any]:
    # Few distinct times, so that ties on ts are common; 95 days apart, so that some
    # events are too late once a later one has moved stream time on.
    day = draw(st.sampled_from([0, 1, 95, 96]))
    ts = BASE_MS + day * DAY_MS + draw(st.sampled_from([0, 7]))
    event_id = draw(st.sampled_from(IDS))
    return sample(
        "order.paid",
        event_id=event_id,
        order_id=f"o-{event_id}",
        ts=ts,
        paid_at=ts,
        shop_id="s1",
        product_id="p1",
        creator_id=None,
        category_id=draw(st.sampled_from(CATEGORIES)),
    )


def deliveries(log: list[list[Message]], rng: random.Random) -> Iterator[list[Message]]:
    """Batches as a consumer sees them; a crash rewinds every partition to its commit."""
    position_, committed = [0] * len(log), [0] * len(log)
    while committed != [len(p) for p in log]:
        batch: list[Message] = []
        for _ in range(rng.randint(1, 6)):
            open_parts = [i for i, p in enumerate(log) if position_[i] < len(p)]
            if not open_parts:
                break
            i = rng.choice(open_parts)
            batch.append(log[i][position_[i]])
            position_[i] += 1
        if batch:
            yield batch
        if rng.random() < 0.2:
            position_ = list(committed)
        else:
            committed = list(position_)


async def _run(url: str, batches: list[list[Message]], horizon_s: float) -> list[Any]:
    """Per batch (too_late, duplicates), then every entity's labels, from the store."""
    prefix = f"t{uuid.uuid4().hex[:12]}"
    store = await WindowStore.connect(
        RedisSettings(url=Secret(url), key_prefix=prefix, dedupe_horizon_s=horizon_s)
    )
    try:
        out: list[Any] = []
        for batch in batches:
            result = await store.apply([m.sourced() for m in batch])
            out.append((result.too_late, result.duplicates))
        day = anchor_day(await store.stream_time_ms() or 0)
        labels = {key: (await store.read(*key, day)).labels async for key in store.entities()}
        out.append({k: v for k, v in labels.items() if v})
        return out
    finally:
        await store.close()
        await _forget(url, prefix)


async def _forget(url: str, prefix: str) -> None:
    client: Any = aioredis.Redis.from_url(url)
    async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        await client.delete(key)
    await client.aclose()


def _expected(batches: list[list[Message]], dedupe: Deduper) -> list[Any]:
    rules = Rules(dedupe)
    out: list[Any] = [rules.apply([m.sourced() for m in batch]) for batch in batches]
    labels = {key: {n: e[2] for n, e in kept.items()} for key, kept in rules.labels.items()}
    out.append({k: v for k, v in labels.items() if v})
    return out


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bodies=st.lists(paid_orders(), min_size=1, max_size=30),
    seed=st.integers(0, 2**32),
)
def test_the_store_keeps_the_written_rules(
    store_redis: str, bodies: list[dict[str, Any]], seed: int
) -> None:
    rng = random.Random(seed)
    log: list[list[Message]] = [[], []]
    for body in bodies:  # an event_id may come again at another offset: a duplicate
        part = log[rng.randrange(2)]
        part.append(Message(log.index(part), len(part), body))
    batches = list(deliveries(log, rng))
    want = _expected(batches, Deduper(HORIZON_MS))
    got = asyncio.run(_run(store_redis, batches, HORIZON_MS / 1000))
    assert got == want


def test_markers_expire_after_the_horizon_in_both(store_redis: str) -> None:
    """A duplicate inside the horizon is dropped; after it, the same id counts again."""
    body = sample("order.paid", event_id="e1", order_id="o1")
    first, again, later = (Message(0, offset, body) for offset in (0, 1, 2))
    horizon_s = 0.4
    dedupe = Deduper(int(horizon_s * 1000))  # the wall clock, as Redis's PX

    async def run() -> tuple[list[int], list[int]]:
        prefix = f"t{uuid.uuid4().hex[:12]}"
        settings_ = RedisSettings(
            url=Secret(store_redis), key_prefix=prefix, dedupe_horizon_s=horizon_s
        )
        store = await WindowStore.connect(settings_)
        got: list[int] = []
        want: list[int] = []
        try:
            for message, pause_s in ((first, 0.0), (again, horizon_s + 0.3), (later, 0.0)):
                got.append((await store.apply([message.sourced()])).duplicates)
                want.append(0 if dedupe.admit("e1", position(message.sourced())) else 1)
                await asyncio.sleep(pause_s)
            return got, want
        finally:
            await store.close()
            await _forget(store_redis, prefix)

    got, want = asyncio.run(run())
    assert got == want == [0, 1, 0]


@pytest.mark.parametrize(
    "ids",
    [["A1", "a1"], ["a1", "A1"], ["a.1", "a-1", "a:1"], ["Z", "z", "B1"], ["b1", "a1"]],
    ids=lambda ids: ",".join(ids),
)
def test_a_tie_on_ts_goes_to_the_larger_event_id(store_redis: str, ids: list[str]) -> None:
    """Same ts, one product: the label of the largest event_id (by code point) is kept."""
    ts = BASE_MS + DAY_MS
    bodies = [
        sample("order.paid", event_id=i, order_id=f"o-{n}", ts=ts, paid_at=ts,
               product_id="p1", category_id=f"g{n}")
        for n, i in enumerate(ids)
    ]  # fmt: skip
    batches = [[Message(0, n, body)] for n, body in enumerate(bodies)]
    got = asyncio.run(_run(store_redis, batches, HORIZON_MS / 1000))
    want = _expected(batches, Deduper(HORIZON_MS))
    assert got == want
    assert got[-1][("product", "p1")]["category"] == f"g{ids.index(max(ids))}"
