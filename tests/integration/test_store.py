"""The window store against real servers (standalone and a 3-node cluster).

The property: whatever the arrival order across partitions, the batch sizes,
upstream duplicates and crashes that re-deliver uncommitted batches, the
aggregates read back equal a plain-Python reference computed from the events.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams import codec
from streams.devtools.cluster import EmbeddedValkeyCluster
from streams.events import SourcedEvent, Stream
from streams.intake.contract import parse
from streams.settings import RedisSettings, Secret
from streams.store import WindowStore, day_of
from tests.reference import read_all, reference
from tests.samples import STREAM_OF_TYPE, TYPES, sample

pytestmark = pytest.mark.integration

BASE_MS = 1_790_000_000_000  # 2026-09-21
DAY_MS = 86_400_000
PARTITIONS = 3


@pytest.fixture(scope="session")
def valkey_cluster() -> Iterator[str]:
    with EmbeddedValkeyCluster() as cluster:
        yield cluster.url


@pytest.fixture(params=["standalone", "cluster"])
def redis_url(request: pytest.FixtureRequest, store_redis: str) -> str:
    if request.param == "cluster":
        return str(request.getfixturevalue("valkey_cluster"))
    return store_redis


# --- events and the Kafka log ---------------------------------------------------------


@st.composite
def event_bodies(draw: st.DrawFn) -> dict[str, Any]:
    event_type = draw(st.sampled_from(TYPES))
    paid = BASE_MS + draw(st.integers(0, 50 * DAY_MS))
    ts = paid if event_type == "order.paid" else paid + draw(st.integers(0, 5 * DAY_MS))
    overrides: dict[str, Any] = {"ts": ts}
    if STREAM_OF_TYPE[event_type] is not Stream.LIVESTREAM:
        overrides |= {
            "paid_at": paid,
            "shop_id": draw(st.sampled_from(["s1", "s2"])),
            "product_id": draw(st.sampled_from(["p1", "p2", "p3"])),
            "creator_id": draw(st.sampled_from(["c1", None])),
        }
    else:
        overrides |= {"creator_id": draw(st.sampled_from(["c1", "c2"]))}
    if event_type == "order.paid":
        overrides |= {
            "listing_quality": draw(st.integers(0, 100)),
            "freight_fen": draw(st.sampled_from([0, 500])),
        }
        overrides |= {"category_id": draw(st.sampled_from(["g1", "g2"]))}
    if event_type == "order.reviewed":
        overrides["rating"] = draw(st.integers(1, 5))
    if event_type == "refund.resolved":
        overrides["requested_at"] = draw(st.integers(paid, ts))
    if event_type in ("shipment.collected", "shipment.delivered"):
        deadline = paid + draw(st.integers(0, 5 * DAY_MS))
        overrides |= {"ship_by": deadline, "promised_by": deadline}
    return sample(event_type, **overrides)


@dataclass(frozen=True)
class Message:
    stream: Stream
    partition: int
    offset: int
    body: dict[str, Any]


def kafka_log(
    bodies: list[dict[str, Any]], duplicated: list[bool], rng: random.Random
) -> list[list[Message]]:
    """Partitions of messages; a duplicated event appears again at a later offset."""
    partitions: list[list[Message]] = [[] for _ in range(PARTITIONS)]
    entries = [b for b in bodies] + [b for b, dup in zip(bodies, duplicated, strict=True) if dup]
    for body in entries:
        p = rng.randrange(PARTITIONS)
        partitions[p].append(Message(STREAM_OF_TYPE[body["type"]], p, len(partitions[p]), body))
    return partitions


def deliveries(log: list[list[Message]], rng: random.Random) -> Iterator[list[Message]]:
    """Batches as a consumer sees them: interleaved partitions, random sizes, crashes
    that rewind every partition to its last commit (at-least-once)."""
    position = [0] * len(log)
    committed = [0] * len(log)
    while committed != [len(p) for p in log]:
        batch: list[Message] = []
        for _ in range(rng.randint(1, 12)):
            open_parts = [i for i, p in enumerate(log) if position[i] < len(p)]
            if not open_parts:
                break
            i = rng.choice(open_parts)
            batch.append(log[i][position[i]])
            position[i] += 1
        if batch:
            yield batch
        roll = rng.random()
        if roll < 0.15:
            position = list(committed)  # crash: redeliver since the last commit
        elif roll < 0.6 or not batch:
            committed = list(position)


def sourced(message: Message) -> SourcedEvent:
    event = parse(message.stream, codec.dumps(message.body))
    return SourcedEvent(event, message.stream.value, message.partition, message.offset)


# --- running it -------------------------------------------------------------------------


async def _open(url: str, prefix: str) -> WindowStore:
    return await WindowStore.connect(RedisSettings(url=Secret(url), key_prefix=prefix))


async def _cleanup(url: str, prefix: str) -> None:
    client: Any = aioredis.Redis.from_url(url)
    info = await client.info("cluster")
    if info.get("cluster_enabled"):
        await client.aclose()
        client = aioredis.RedisCluster.from_url(url)
    keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
    for key in keys:
        await client.delete(key)
    await client.aclose()


async def replay(
    url: str, batches: list[list[Message]], as_of: int
) -> tuple[dict[tuple[str, str], Any], int]:
    prefix = f"t{uuid.uuid4().hex[:12]}"
    store = await _open(url, prefix)
    try:
        round_trips = 0
        for batch in batches:
            result = await store.apply([sourced(m) for m in batch])
            assert result.too_late == []
            round_trips += result.round_trips
        return await read_all(store, as_of), round_trips
    finally:
        await store.close()
        await _cleanup(url, prefix)


# The Redis URL fixture is per test on purpose: every example cleans its own prefix.
@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bodies=st.lists(event_bodies(), min_size=1, max_size=40, unique_by=lambda b: id(b)),
    data=st.data(),
    seed=st.integers(0, 2**32),
)
def test_aggregates_equal_the_reference(
    redis_url: str, bodies: list[dict[str, Any]], data: st.DataObject, seed: int
) -> None:
    bodies = [{**b, "event_id": f"e{i}"} for i, b in enumerate(bodies)]
    duplicated = data.draw(st.lists(st.booleans(), min_size=len(bodies), max_size=len(bodies)))
    rng = random.Random(seed)
    batches = list(deliveries(kafka_log(bodies, duplicated, rng), rng))
    as_of, expected = reference(bodies)
    got, _ = asyncio.run(replay(redis_url, batches, as_of))
    assert got == expected


def test_a_redelivered_batch_changes_nothing(redis_url: str) -> None:
    bodies = [sample(t, event_id=f"e{i}") for i, t in enumerate(TYPES)]
    log = [[Message(STREAM_OF_TYPE[b["type"]], 0, i, b) for i, b in enumerate(bodies)]]
    as_of, expected = reference(bodies)
    once, _ = asyncio.run(replay(redis_url, [log[0]], as_of))
    thrice, _ = asyncio.run(replay(redis_url, [log[0], log[0][:5], log[0]], as_of))
    assert once == thrice == expected


def test_round_trips_per_batch_are_bounded(redis_url: str) -> None:
    bodies = [
        sample(TYPES[i % len(TYPES)], event_id=f"e{i}", order_id=f"o{i}") for i in range(500)
    ]
    batch = [Message(STREAM_OF_TYPE[b["type"]], 0, i, b) for i, b in enumerate(bodies)]
    as_of, expected = reference(bodies)
    got, round_trips = asyncio.run(replay(redis_url, [batch], as_of))
    assert got == expected
    assert round_trips == 2, "one dedupe pipeline and one apply pipeline per batch"


def test_too_late_events_are_rejected_and_not_applied(redis_url: str) -> None:
    fresh = sample(
        "order.paid", event_id="new", ts=BASE_MS + 100 * DAY_MS, paid_at=BASE_MS + 100 * DAY_MS
    )
    old = sample("order.paid", event_id="old", ts=BASE_MS, paid_at=BASE_MS)
    edge_ms = BASE_MS + 10 * DAY_MS  # anchor day = as-of day - 90: not yet too late
    edge = sample("order.paid", event_id="edge", ts=edge_ms, paid_at=edge_ms)

    async def run() -> tuple[list[int], dict[tuple[str, str], Any]]:
        prefix = f"t{uuid.uuid4().hex[:12]}"
        store = await _open(redis_url, prefix)
        try:
            await store.apply([sourced(Message(Stream.ORDERS, 0, 0, fresh))])
            result = await store.apply(
                [sourced(Message(Stream.ORDERS, 0, i + 1, b)) for i, b in enumerate([old, edge])]
            )
            return result.too_late, await read_all(store, day_of(fresh["ts"]))
        finally:
            await store.close()
            await _cleanup(redis_url, prefix)

    too_late, got = asyncio.run(run())
    assert day_of(fresh["ts"]) - day_of(old["ts"]) > 90
    assert too_late == [0], "only the event older than 90 days before the as-of day"
    assert got[("shop", "shop-1")][0][90]["paid"] == 1, "the edge day is outside every window"
