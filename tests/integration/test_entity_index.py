"""The entity index on real Redis: every entity hash listed, never a SCAN, shared sweeps.

``streams.store.index`` states the rules: a new entity is listed in its batch's
first round trip and once more after its hash exists; a sweep drops a member whose
hash is gone and adds it back if one exists by then; a deployment older than the
index builds it once. Each test has a key prefix of its own on the session's server.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis.asyncio as aioredis

from models.counting import COUNTERS
from streams import codec
from streams.events import EntityKey, SourcedEvent
from streams.intake.contract import parse
from streams.metrics import Metrics
from streams.scoring.sweep import DayCloseSweeper
from streams.settings import RedisSettings, Secret
from streams.store import WindowStore, index
from streams.store.handle import StoreHandle
from tests.reference import random_body
from tests.samples import STREAM_OF_TYPE

pytestmark = pytest.mark.integration


def _events(count: int, seed: int = 3, start: int = 0) -> list[SourcedEvent]:
    rng = random.Random(seed)
    bodies = [random_body(rng, n) for n in range(start, start + count)]
    for n, body in enumerate(bodies, start):  # a marketplace of many products and shops
        if "product_id" in body:
            body |= {"product_id": f"p{n}", "shop_id": f"s{n % 97}"}
    return [
        SourcedEvent(parse(STREAM_OF_TYPE[b["type"]], codec.dumps(b)), "t", 0, start + n)
        for n, b in enumerate(bodies)
    ]


@asynccontextmanager
async def _store(url: str) -> AsyncIterator[tuple[WindowStore, Any, str]]:
    prefix = f"t{uuid.uuid4().hex[:12]}"
    store = await WindowStore.connect(RedisSettings(url=Secret(url), key_prefix=prefix))
    client: Any = aioredis.Redis.from_url(url)
    try:
        yield store, client, prefix
    finally:
        await store.close()
        async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            await client.delete(key)
        await client.aclose()


async def _hashes(client: Any, prefix: str) -> set[EntityKey]:
    """The entity hashes as a SCAN finds them (what the index must list)."""
    found: set[EntityKey] = set()
    async for raw in client.scan_iter(match=f"{prefix}:{{*}}", count=1000):
        key = index.entity(raw.decode()[len(prefix) + 2 : -1])
        if key[0] in COUNTERS:
            found.add(key)
    return found


async def _members(client: Any, prefix: str) -> set[EntityKey]:
    found: set[EntityKey] = set()
    for shard in range(index.SHARDS):
        found.update(
            index.entity(m) for m in await client.smembers(f"{prefix}:{{entities:{shard}}}")
        )
    return found


def _no_scan(store: WindowStore) -> None:
    def scan_iter(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the index lists entities: no SCAN")

    store._client.scan_iter = scan_iter  # type: ignore[method-assign]


def test_every_entity_hash_is_listed_without_a_scan(store_redis: str) -> None:
    async def run() -> tuple[set[EntityKey], set[EntityKey], set[EntityKey]]:
        async with _store(store_redis) as (store, client, prefix):
            events = _events(600)
            for start in range(0, len(events), 100):
                await store.apply(events[start : start + 100])
            for n in range(10_000):  # keys that are not entities: a SCAN would wade through
                await client.set(f"{prefix}:{{ev:x{n}}}", b"1")
            expected = await _hashes(client, prefix)
            _no_scan(store)
            listed = [key async for key in store.entities()]
            assert len(listed) == len(set(listed)), "each entity once"
            return set(listed), expected, await _members(client, prefix)

    listed, expected, members = asyncio.run(run())
    assert len(expected) > 100
    assert listed == expected
    assert members == expected, "nothing in the index but entities"


def test_a_created_entity_is_listed_again_after_a_removal_raced_its_creation(
    store_redis: str,
) -> None:
    """The member a batch adds before the hash exists can be dropped by a sweep that saw
    no hash yet; the store adds it once more after creating the hash."""

    async def run() -> tuple[bool, bool, bool]:
        async with _store(store_redis) as (store, client, prefix):
            first = _events(20)
            await store.apply(first)
            created = sorted(await _hashes(client, prefix))
            name = index.member(created[0])
            shard_key = f"{prefix}:{{entities:{index.shard_of(name)}}}"
            await client.srem(shard_key, name)  # the racing removal
            gone = not await client.sismember(shard_key, name)
            await store.apply(_events(1, seed=4, start=1000))  # the next batch adds it again
            again = bool(await client.sismember(shard_key, name))
            await client.srem(shard_key, name)
            await store.flush_index()  # nothing left to add: it was added once more already
            stays_out = not await client.sismember(shard_key, name)
            return gone, again, stays_out

    gone, again, stays_out = asyncio.run(run())
    assert gone
    assert again
    assert stays_out, "a member is added once more once, not on every batch"


def test_an_idle_entity_is_listed_again_by_the_day_close_timer(store_redis: str) -> None:
    async def run() -> bool:
        async with _store(store_redis) as (store, client, prefix):
            await store.apply(_events(20))
            key = sorted(await _hashes(client, prefix))[0]
            name = index.member(key)
            shard_key = f"{prefix}:{{entities:{index.shard_of(name)}}}"
            await client.srem(shard_key, name)
            await store.flush_index()  # what the timer calls every second
            return bool(await client.sismember(shard_key, name))

    assert asyncio.run(run())


def test_a_sweep_drops_members_whose_hash_is_gone_and_keeps_the_others(
    store_redis: str,
) -> None:
    async def run() -> tuple[set[EntityKey], set[EntityKey], set[EntityKey]]:
        async with _store(store_redis) as (store, client, prefix):
            await store.apply(_events(50))
            keys = sorted(await _hashes(client, prefix))
            expired, alive = keys[:5], keys[5:]
            for entity_type, entity_id in expired:
                await client.delete(store.entity_key(entity_type, entity_id))
            day = (await store.sweep_status()).due_day
            assert day is not None
            got = await store.sweep_snapshots(keys, day)
            # A removal that raced a creation: the hash exists, the member goes back.
            await store._forget(alive[:3])
            return set(got), set(expired), await _members(client, prefix)

    got, expired, members = asyncio.run(run())
    assert not got & expired, "no snapshot of an entity that is gone"
    assert members.isdisjoint(expired)
    assert got <= members
    assert len(got) > 10


class Recorder:
    """A re-scorer that records what it was given (and can take its time)."""

    scored_types = frozenset(COUNTERS)

    def __init__(self, seen: list[tuple[str, EntityKey]], name: str, delay_s: float) -> None:
        self.seen, self.name, self.delay_s = seen, name, delay_s

    async def rescore(self, snapshots: Mapping[Any, Any], *args: Any, **kwargs: Any) -> int:
        self.seen.extend((self.name, key) for key in snapshots)
        await asyncio.sleep(self.delay_s)
        return 0


def _sweeper(store: StoreHandle, seen: list[Any], name: str, delay_s: float) -> DayCloseSweeper:
    return DayCloseSweeper(
        store,
        Recorder(seen, name, delay_s),  # type: ignore[arg-type]
        Metrics(),
        chunk=10,
    )


def test_two_sweepers_share_the_shards_and_sweep_each_entity_once(store_redis: str) -> None:
    async def run() -> tuple[list[Any], set[EntityKey], list[bool], bool]:
        prefix = f"t{uuid.uuid4().hex[:12]}"
        settings = RedisSettings(url=Secret(store_redis), key_prefix=prefix)
        a, b = StoreHandle(settings, Metrics()), StoreHandle(settings, Metrics())
        client: Any = aioredis.Redis.from_url(store_redis)
        try:
            await (await a.get()).apply(_events(400))
            expected = await _hashes(client, prefix)
            seen: list[tuple[str, EntityKey]] = []
            one, two = _sweeper(a, seen, "a", 0.01), _sweeper(b, seen, "b", 0.01)
            done = list(await asyncio.gather(one.tick(), two.tick()))
            status = await (await a.get()).sweep_status()
            return seen, expected, done, status.due_day is None
        finally:
            await a.close()
            await b.close()
            async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
                await client.delete(key)
            await client.aclose()

    seen, expected, done, recorded = asyncio.run(run())
    keys = [key for _, key in seen]
    assert sorted(keys) == sorted(expected), "every entity swept, each exactly once"
    by = {name for name, _ in seen}
    assert by == {"a", "b"}, "both sweepers took shards"
    assert any(done), "one of them recorded the day, once every shard was swept"
    assert recorded
    print(f"a swept {sum(n == 'a' for n, _ in seen)}, b {sum(n == 'b' for n, _ in seen)}")


def test_a_deployment_older_than_the_index_builds_it_once(store_redis: str) -> None:
    async def run() -> tuple[set[EntityKey], set[EntityKey], int, bool, bool]:
        prefix = f"t{uuid.uuid4().hex[:12]}"
        settings = RedisSettings(url=Secret(store_redis), key_prefix=prefix)
        handle = StoreHandle(settings, Metrics())
        client: Any = aioredis.Redis.from_url(store_redis)
        try:
            store = await handle.get()
            await store.apply(_events(200))
            expected = await _hashes(client, prefix)
            for shard in range(index.SHARDS):  # what a version before the index left
                await client.delete(f"{prefix}:{{entities:{shard}}}")
            await client.hdel(f"{prefix}:{{clock}}", "ix")
            before = (await store.sweep_status()).indexed
            builds = 0
            build = store.build_index

            async def counted(*args: Any, **kwargs: Any) -> int:
                nonlocal builds
                builds += 1
                return await build(*args, **kwargs)

            store.build_index = counted  # type: ignore[method-assign]
            seen: list[tuple[str, EntityKey]] = []
            sweeper = _sweeper(handle, seen, "a", 0)
            first = await sweeper.tick()  # builds the index, sweeps nothing yet
            swept_first = bool(seen)
            second = await sweeper.tick()  # sweeps, builds nothing
            return expected, {k for _, k in seen}, builds, before or first or swept_first, second
        finally:
            await handle.close()
            async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
                await client.delete(key)
            await client.aclose()

    expected, swept, builds, early, second = asyncio.run(run())
    assert not early, "not indexed before; the first tick builds and sweeps nothing"
    assert builds == 1
    assert second
    assert swept == expected, "then the sweep covers every entity"
