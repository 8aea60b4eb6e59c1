"""Watermarks and offsets that go backwards, against a real Valkey (issue 16, items 3 and 4).

- A watermark belongs to a topic's identity (name and ``VANE_TOPIC_GENERATION``):
  a renamed topic, or a recreated one whose generation was bumped, is counted
  from its first offset, not skipped as already applied.
- An offset that goes backwards without a dedupe marker vouching for a
  redelivery is reported (``ApplyResult.rewinds``), never skipped silently; a
  redelivery after a crash is not reported.
- Watermarks written before topic identity (``o<S><p>``) are taken over by
  generation 0, so an upgrade does not count anything twice.
- A dropped upstream duplicate moves its partition's watermark: re-reading it
  after its marker expired (a rewind past the dedupe horizon) counts nothing twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis.asyncio as aioredis

from streams import codec
from streams.events import SourcedEvent, Stream
from streams.intake.contract import parse
from streams.settings import RedisSettings, Secret
from streams.store import ApplyResult, WindowStore, day_of
from tests.samples import sample

pytestmark = pytest.mark.integration


TS = 1_790_000_000_000


def paid(event_id: str, offset: int, topic: str = "orders", generation: int = 0) -> SourcedEvent:
    body = sample("order.paid", event_id=event_id, order_id=f"o-{event_id}", ts=TS, paid_at=TS,
                  shop_id="s1", product_id="p1", creator_id=None)  # fmt: skip
    return SourcedEvent(parse(Stream.ORDERS, codec.dumps(body)), topic, 0, offset, generation)


@asynccontextmanager
async def opened(url: str, horizon_s: float = 86_400.0) -> AsyncIterator[WindowStore]:
    prefix = f"t{uuid.uuid4().hex[:12]}"
    settings = RedisSettings(url=Secret(url), key_prefix=prefix, dedupe_horizon_s=horizon_s)
    store = await WindowStore.connect(settings)
    try:
        yield store
    finally:
        await store.close()
        client: Any = aioredis.Redis.from_url(url)
        async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            await client.delete(key)
        await client.aclose()


async def shop_paid(store: WindowStore) -> int:
    return (await store.read("shop", "s1", day_of(TS))).windows.total("paid", 30)


async def apply_all(store: WindowStore, batch: Sequence[SourcedEvent]) -> ApplyResult:
    return await store.apply(list(batch))


def test_a_renamed_topic_is_counted_from_its_first_offset(store_redis: str) -> None:
    async def run() -> tuple[int, ApplyResult]:
        async with opened(store_redis) as store:
            await apply_all(store, [paid(f"a{i}", i) for i in range(20)])
            result = await apply_all(store, [paid(f"b{i}", i, "orders-v2") for i in range(20)])
            return await shop_paid(store), result

    paid_count, result = asyncio.run(run())
    assert paid_count == 40  # before topic identity: 20 (the new topic's events skipped)
    assert result.skipped == 0
    assert result.rewinds == {}


def test_a_recreated_topic_with_a_new_generation_is_counted(store_redis: str) -> None:
    async def run() -> int:
        async with opened(store_redis) as store:
            await apply_all(store, [paid(f"a{i}", i) for i in range(20)])
            await apply_all(store, [paid(f"b{i}", i, generation=1) for i in range(20)])
            return await shop_paid(store)

    assert asyncio.run(run()) == 40


def test_offsets_that_go_backwards_are_reported_not_skipped_silently(store_redis: str) -> None:
    """Same name, same generation, offsets restarted: skipped, but as a rewind."""

    async def run() -> tuple[ApplyResult, ApplyResult, int]:
        async with opened(store_redis) as store:
            first = [paid(f"a{i}", i) for i in range(20)]
            await apply_all(store, first)
            redelivered = await apply_all(store, first[12:])  # a crash: re-read since commit
            rewound = await apply_all(store, [paid(f"b{i}", i) for i in range(5)])
            return redelivered, rewound, await shop_paid(store)

    redelivered, rewound, paid_count = asyncio.run(run())
    assert redelivered.skipped == 8 * 3  # 8 events x (shop, product, category)
    assert redelivered.rewinds == {}, "a redelivery is no rewind"
    [(where, rewind)] = rewound.rewinds.items()
    assert where == ("orders", 0)
    assert (rewind.events, rewind.lowest_offset, rewind.watermark) == (5, 0, 19)
    assert paid_count == 20


def test_watermarks_from_before_topic_identity_are_taken_over(store_redis: str) -> None:
    """An upgrade: the old ``oO0`` field keeps redeliveries from counting twice."""

    async def run() -> tuple[int, int, ApplyResult]:
        async with opened(store_redis) as store:
            events = [paid(f"a{i}", i) for i in range(10)]
            await apply_all(store, events)
            client: Any = aioredis.Redis.from_url(store_redis)
            for entity in ("shop:s1", "product:p1", "category:cat-1"):
                key = store.entity_key(*entity.split(":"))
                fields = [f for f in await client.hkeys(key) if f.startswith(b"oO0:")]
                mark = await client.hget(key, fields[0])
                await client.hdel(key, *fields)
                await client.hset(key, "oO0", mark)  # as the version before wrote it
            await client.aclose()
            again = await apply_all(store, events[5:])  # redelivered after the upgrade
            more = await apply_all(store, [paid(f"c{i}", 10 + i) for i in range(3)])
            bumped = await apply_all(store, [paid(f"d{i}", i, generation=1) for i in range(2)])
            return again.skipped, await shop_paid(store), more if bumped.skipped == 0 else bumped

    skipped, paid_count, more = asyncio.run(run())
    assert skipped == 5 * 3  # 5 events x (shop, product, category)
    assert paid_count == 15
    assert more.rewinds == {}


def test_a_rewind_past_the_dedupe_horizon_counts_nothing_twice(store_redis: str) -> None:
    """The duplicate at offset 2 moved the watermark: re-read after expiry, it is skipped."""
    horizon_s = 0.3

    async def run() -> tuple[int, int, ApplyResult]:
        async with opened(store_redis, horizon_s) as store:
            log = [paid("e1", 0), paid("e2", 1), paid("e1", 2)]  # e1 twice upstream
            first = await apply_all(store, log)
            await asyncio.sleep(horizon_s + 0.3)  # every marker expired
            rewound = await apply_all(store, log[1:])  # the group reset to offset 1
            return first.duplicates, await shop_paid(store), rewound

    duplicates, paid_count, rewound = asyncio.run(run())
    assert duplicates == 1
    assert paid_count == 2  # before: 3 (e1 at offset 2 counted again)
    assert rewound.applied == 0
    assert rewound.rewinds[("orders", 0)].events == 2
