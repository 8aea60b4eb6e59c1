"""``apply.lua``'s running sums (field "c") never change an answer.

An entity with many day rows keeps sums of the rows before its as-of day, moved
by each late row's change (``streams/store/lua/apply.lua``). Here one busy shop
and product get events over a month in shuffled batches, written by a worker
that knows the stream time and by one whose view lags (its as-of day is behind
the sums'), with late events among them. After every batch, a read with the sums
equals a read from every row (the sums deleted), and at the end the store equals
the plain reference.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from typing import Any

import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams import codec
from streams.events import SourcedEvent
from streams.intake.contract import parse
from streams.settings import RedisSettings, Secret
from streams.store import WindowStore, day_of
from streams.store.encoding import LONGEST_DAYS, SUMS_MIN_ROWS
from tests.integration.test_store_offsets import opened
from tests.reference import random_body, read_all, reference
from tests.samples import STREAM_OF_TYPE

pytestmark = pytest.mark.integration


def _bodies(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    bodies = [random_body(rng, n, span_days=30) for n in range(count)]
    for body in bodies:  # one busy shop and product: many day rows, sums kept
        if "shop_id" in body:
            body |= {"shop_id": "s1", "product_id": "p1"}
    return bodies


def _events(bodies: list[dict[str, Any]]) -> list[SourcedEvent]:
    return [
        SourcedEvent(parse(STREAM_OF_TYPE[b["type"]], codec.dumps(b)), "t", 0, n)
        for n, b in enumerate(bodies)
    ]


async def _drop(client: Any, prefix: str) -> None:
    """Delete the test's keys and close its client."""
    async for k in client.scan_iter(match=f"{prefix}:*", count=1000):
        await client.delete(k)
    await client.aclose()


async def _run(url: str, bodies: list[dict[str, Any]], cuts: list[int], lag: list[bool]) -> Any:
    prefix = f"t{uuid.uuid4().hex[:12]}"
    settings_ = RedisSettings(url=Secret(url), key_prefix=prefix)
    live, behind = await WindowStore.connect(settings_), await WindowStore.connect(settings_)
    client: Any = aioredis.Redis.from_url(url)
    events = _events(bodies)
    mismatches: list[Any] = []
    kept = 0
    encodings: set[bytes] = set()
    try:
        bounds = [0, *sorted(set(cuts)), len(events)]
        for i, (start, end) in enumerate(itertools.pairwise(bounds)):
            store = live
            if lag[i % len(lag)]:
                behind._stream_time_ms = None  # a worker whose view of stream time lags
                store = behind
            await store.apply(events[start:end])
            as_of = day_of(await live.stream_time_ms() or 0)
            for key in [("shop", "s1"), ("product", "p1")]:
                with_sums = (await live.read(*key, as_of)).windows
                kept += bool(await client.hexists(live.entity_key(*key), "c"))
                field: dict[str, Any] = await client.hgetall(live.entity_key(*key))
                await client.hdel(live.entity_key(*key), "c")
                every_row = (await live.read(*key, as_of)).windows
                if b"c" in field:
                    await client.hset(live.entity_key(*key), "c", field[b"c"])
                if with_sums != every_row:
                    mismatches.append((i, key, with_sums, every_row))
        final_as_of, expected = reference(bodies)
        got = await read_all(live, final_as_of)
        encodings.add(await client.object("encoding", live.entity_key("shop", "s1")))
        return mismatches, kept, got, expected, encodings
    finally:
        await live.close()
        await behind.close()
        await _drop(client, prefix)


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**32),
    count=st.integers(40, 160),
    cuts=st.lists(st.integers(1, 159), max_size=12),
    lag=st.lists(st.booleans(), min_size=1, max_size=6),
    shuffle=st.booleans(),
)
def test_reads_with_running_sums_equal_reads_of_every_row(
    store_redis: str, seed: int, count: int, cuts: list[int], lag: list[bool], shuffle: bool
) -> None:
    bodies = _bodies(seed, count)
    if shuffle:  # late events: rows before the sums' day change after they were kept
        random.Random(seed).shuffle(bodies)
    cuts = [c for c in cuts if c < count]
    mismatches, _, got, expected, _ = asyncio.run(_run(store_redis, bodies, cuts, lag))
    assert mismatches == []
    assert got == expected


def test_a_busy_entity_keeps_sums(store_redis: str) -> None:
    """The property above is not vacuous: the sums are kept and read."""
    bodies = _bodies(7, 160)
    mismatches, kept, got, expected, encodings = asyncio.run(
        _run(store_redis, bodies, list(range(10, 160, 10)), [False, True])
    )
    assert kept >= 10, f"sums kept after {kept} of 32 reads (min rows {SUMS_MIN_ROWS})"
    # In pieces of <= 48 bytes: one value over 64 would make the hash a hashtable.
    assert encodings == {b"listpack"}
    assert mismatches == []
    assert got == expected


async def _day_by_day(url: str, bodies: list[dict[str, Any]]) -> tuple[list[Any], int, Any, Any]:
    """Apply ``bodies`` one day of stream time at a time; after each day, the day fields
    of shop s1 older than every window (``keep``) and whether its sums were kept."""
    events = _events(bodies)
    too_old: list[Any] = []
    with_sums = 0
    client: Any = aioredis.Redis.from_url(url)
    try:
        async with opened(url) as store:
            for _, group in itertools.groupby(events, key=lambda e: day_of(e.event.ts_ms)):
                result = await store.apply(list(group))
                if ("shop", "s1") not in result.entities:
                    continue  # only a write to the shop prunes its rows
                as_of = result.as_of_day
                fields = await client.hkeys(store.entity_key("shop", "s1"))
                days = [int(f) for f in fields if f.isdigit()]
                with_sums += b"c" in fields
                if days and min(days) < as_of - LONGEST_DAYS:
                    too_old.append((as_of, min(days)))
            final_as_of, expected = reference(bodies)
            return too_old, with_sums, await read_all(store, final_as_of), expected
    finally:
        await client.aclose()


def test_rows_past_every_window_are_deleted_while_the_sums_move_day_by_day(
    store_redis: str,
) -> None:
    """A shop with rows nearly every day for 130 days, written one day at a time: its
    sums move a day each time (no row is read whole), yet the rows that leave the
    longest window are deleted, and its windows stay those of the reference (a sum
    that moved wrong would show there)."""
    rng = random.Random(11)
    bodies = [random_body(rng, n, span_days=130) for n in range(900)]
    for body in bodies:
        if "shop_id" in body:
            body["shop_id"] = "s1"
    bodies.sort(key=lambda b: b["ts"])
    too_old, with_sums, got, expected = asyncio.run(_day_by_day(store_redis, bodies))
    assert with_sums >= 100
    assert too_old == []
    assert got == expected
