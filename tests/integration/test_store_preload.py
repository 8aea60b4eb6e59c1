"""``WindowStore.preload`` writes what ``apply.lua`` would: the same hash, field by field.

The scale bench (``streams.devtools.benchmark.scale``) loads a million entities with
it; that is only a measure of Vane if the layout is the scripts' own. Here the same
histories go through ``apply.lua`` (one event a day) on real Redis, and the hashes
must be equal.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import Any

import pytest
import redis.asyncio as aioredis

from models.counting import COUNTERS, REGISTERS
from streams.devtools.benchmark.scale import population
from streams.settings import RedisSettings, Secret
from streams.store import WindowStore, index
from streams.store.encoding import Preload, apply_args

pytestmark = pytest.mark.integration
AS_OF = 20_700


def _events(e: Preload) -> list[list[Any]]:
    """``apply.lua``'s events for a ``Preload``: a day each, registers and labels on
    the last one."""
    counter = {n: i + 1 for i, n in enumerate(COUNTERS[e.entity_type])}
    register = {n: i + 1 for i, n in enumerate(REGISTERS.get(e.entity_type, ()))}
    offsets = dict.fromkeys(e.watermarks, 0)
    events: list[list[Any]] = []
    days = sorted(e.days)
    for n, day in enumerate(days):
        mark = e.watermarks[n % len(e.watermarks)]
        offsets[mark] += 1
        counts = [x for name, v in e.days[day].items() if v for x in (counter[name], v)]
        regs: list[Any] = []
        labels: list[Any] = []
        if n == len(days) - 1:
            regs = [
                x for r, (ts, v) in e.registers.items() for x in (register[r], str(ts), "p", v)
            ]
            labels = [x for name, text in e.labels.items() for x in (name, "0", "p", text)]
        events.append([mark, str(offsets[mark]), day, counts, regs, labels, False])
    return events


def _key(e: Preload) -> tuple[str, str]:
    return e.entity_type, e.entity_id


def test_preloaded_hashes_equal_what_the_scripts_write(store_redis: str) -> None:
    people = list(population(3000, AS_OF))
    by_type: dict[str, list[Preload]] = {}
    for e in people:
        by_type.setdefault(e.entity_type, []).append(e)
    sample = [e for group in by_type.values() for e in itertools.islice(group, 40)]

    async def run() -> tuple[list[Any], list[Any], set[str]]:
        prefix = f"t{uuid.uuid4().hex[:12]}"
        settings = RedisSettings(url=Secret(store_redis), key_prefix=prefix)
        loaded, scripted = (
            await WindowStore.connect(settings),
            await WindowStore.connect(
                RedisSettings(url=Secret(store_redis), key_prefix=f"{prefix}x")
            ),
        )
        client: Any = aioredis.Redis.from_url(store_redis)
        try:
            await loaded.preload(sample, AS_OF)
            pipe = client.pipeline(transaction=False)
            for e in sample:
                args = apply_args(e.entity_type, _events(e), AS_OF, 86_400_000)
                keys = scripted._entity_keys(e.entity_type, e.entity_id)
                pipe.execute_command("EVALSHA", scripted._shas["apply"], 2, *keys, args)
            await pipe.execute()
            a = [
                await client.hgetall(loaded.entity_key(e.entity_type, e.entity_id)) for e in sample
            ]
            b = [
                await client.hgetall(scripted.entity_key(e.entity_type, e.entity_id))
                for e in sample
            ]
            members = set()
            for shard in range(index.SHARDS):
                members |= {
                    m.decode() for m in await client.smembers(f"{prefix}:{{entities:{shard}}}")
                }
            return a, b, members
        finally:
            await loaded.close()
            await scripted.close()
            for p in (prefix, f"{prefix}x"):
                async for key in client.scan_iter(match=f"{p}:*", count=1000):
                    await client.delete(key)
            await client.aclose()

    loaded, scripted, members = asyncio.run(run())
    assert {e.entity_type for e in sample} == {"product", "shop", "creator"}
    assert all(len(h) > 3 for h in loaded)
    assert loaded == scripted
    assert members == {index.member((e.entity_type, e.entity_id)) for e in sample}
