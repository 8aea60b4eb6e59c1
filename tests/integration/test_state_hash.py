"""The state hash keeps its message packed (``streams.store.messages``) and stays a
listpack; a hash an older Vane wrote (plain JSON in "s", "c" and "p") still reads
the same and is rewritten compact by its next commit. Real Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest
import redis.asyncio as aioredis

from streams import codec
from streams.settings import RedisSettings, Secret
from streams.store import Commit, WindowStore
from tests.unit.store.test_messages import MESSAGE

pytestmark = pytest.mark.integration

KEY = ("product", "p-000123")
STATE = {"tier": "GOOD", "weight": 1.1, "boost": 1.0, "score": 84.12, "display": 4.68}
Body = Callable[[WindowStore, Any], Coroutine[Any, Any, None]]


def _run(url: str, body: Body) -> None:
    async def go() -> None:
        store = await WindowStore.connect(
            RedisSettings(url=Secret(url), key_prefix=f"t{uuid.uuid4().hex[:12]}")
        )
        client: Any = aioredis.Redis.from_url(url)
        try:
            await body(store, client)
        finally:
            async for k in _keys(client, store):
                await client.delete(k)
            await store.close()
            await client.aclose()

    asyncio.run(go())


async def _keys(client: Any, store: WindowStore) -> AsyncIterator[bytes]:
    async for k in client.scan_iter(match=f"{store.entity_key(*KEY).split(':')[0]}:*"):
        yield k


def _next(message: bytes, seq: int) -> bytes:
    return codec.dumps({**codec.loads(message), "tier": "WATCH", "seq": seq})


def test_a_published_entity_is_a_small_listpack(store_redis: str) -> None:
    async def body(store: WindowStore, client: Any) -> None:
        assert await store.commit([Commit(*KEY, 0, STATE, MESSAGE)], "w1") == [1]
        key = store.state_key(*KEY)
        assert await client.object("encoding", key) == b"listpack"
        assert (await store.read(*KEY, 20_000)).published.pending is not None
        [sent] = await store.mark_published([(KEY, 1)], "w1")
        assert sent.cleared
        assert await store.committed_message(*KEY) == MESSAGE
        snap = await store.read(*KEY, 20_000)
        assert (snap.published.seq, snap.published.state, snap.published.pending) == (
            1,
            STATE,
            None,
        )
        assert await client.object("encoding", key) == b"listpack"
        assert await client.memory_usage(key, samples=0) < 320  # 1 KiB as plain JSON
        # A stale sender learns the current message, byte for byte.
        newer = _next(MESSAGE, 2)
        assert await store.commit([Commit(*KEY, 1, {**STATE, "tier": "WATCH"}, newer)], "w1") == [
            2
        ]
        [stale] = await store.mark_published([(KEY, 1)], "w2")
        assert (stale.cleared, stale.current_seq, stale.current) == (False, 2, newer)
        # A takeover (the writer died) and the re-check re-send it exactly too.
        take = (await store.claim([KEY], "w3", 0, 0))[KEY]
        assert (take.action, take.seq, take.message) == ("take", 2, newer)
        await store.mark_published([(KEY, 2)], "w3")
        recheck = (await store.claim([KEY], "w3", 0, 0))[KEY]
        assert (recheck.action, recheck.seq, recheck.message) == ("recheck", 2, newer)
        # A shorter message leaves none of the longer one's pieces behind.
        short = b'{"seq":3}'
        assert await store.commit([Commit(*KEY, 2, STATE, short)], "w1") == [3]
        assert await store.committed_message(*KEY) == short
        assert await client.hexists(key, "m2") == 0

    _run(store_redis, body)


def test_an_older_vanes_hash_reads_the_same_and_is_rewritten_compact(store_redis: str) -> None:
    async def body(store: WindowStore, client: Any) -> None:
        key = store.state_key(*KEY)
        old = {"q": 4, "s": codec.dumps(STATE), "c": MESSAGE, "p": MESSAGE, "pt": 1, "w": "w0"}
        await client.hset(key, mapping={**old, "rc": 1})
        assert await client.object("encoding", key) == b"hashtable"
        snap = await store.read(*KEY, 20_000)
        assert (snap.published.seq, snap.published.state) == (4, STATE)
        assert snap.published.pending is not None
        assert await store.committed_message(*KEY) == MESSAGE
        take = (await store.claim([KEY], "w1", 0, 60_000))[KEY]
        assert (take.action, take.seq, take.message) == ("take", 4, MESSAGE)
        assert (await store.mark_published([(KEY, 4)], "w1"))[0].cleared
        rc = await client.hget(key, "rc")
        newer = _next(MESSAGE, 5)
        assert await store.commit([Commit(*KEY, 4, STATE, newer)], "w1") == [5]
        assert await client.hexists(key, "c") == 0
        assert await client.hget(key, "rc") == rc  # the re-check the takeover set stays due
        assert await client.object("encoding", key) == b"listpack"
        assert await store.committed_message(*KEY) == newer
        assert (await store.read(*KEY, 20_000)).published.state == STATE

    _run(store_redis, body)
