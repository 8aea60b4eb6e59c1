"""The outbox scan: publish entries whose writer died, run the re-checks after takeovers.

``commit`` indexes every entity it writes an outbox entry for in a sorted set per
shard (``<prefix>:{outbox:N}``, scored by when to look, from Redis ``TIME``).
Every few seconds a worker lists the due entries of every shard (one round trip),
claims them (``Rescorer.flush``: Redis ``TIME`` decides whether an entry is old
enough to take over, or a re-check due), publishes what it claimed, and settles
the index: entries with nothing left to do are removed (unless re-added
meanwhile), the others are due again when the store says.
"""

from __future__ import annotations

from collections.abc import Sequence

from streams.events import EntityKey
from streams.scoring.rescorer import Rescorer
from streams.store import Claim, WindowStore
from streams.store.handle import StoreHandle

LIMIT_PER_SHARD = 500


class OutboxScanner:
    """One ``tick`` looks at every due index entry once; returns messages re-sent."""

    def __init__(
        self, store: StoreHandle, rescorer: Rescorer, limit_per_shard: int = LIMIT_PER_SHARD
    ) -> None:
        self._store = store
        self._rescorer = rescorer
        self._limit = limit_per_shard

    async def tick(self) -> int:
        due = await self._store.retrying(lambda st: st.outbox_due(self._limit))
        keys = [key for entries in due.values() for key, _ in entries]
        if not keys:
            return 0
        claims = await self._rescorer.flush(keys)
        for shard, entries in due.items():
            settled = [(key, score, _delay(claims[key])) for key, score in entries]
            await self._settle(shard, settled)
        return sum(c.message is not None for c in claims.values())

    async def _settle(self, shard: int, entries: Sequence[tuple[EntityKey, bytes, int]]) -> None:
        async def settle(st: WindowStore) -> None:
            await st.outbox_settle(shard, entries)

        await self._store.retrying(settle)


def _delay(claim: Claim) -> int:
    """-1: remove the entry; else look again after this many ms."""
    if claim.action == "wait":
        return claim.wait_ms
    return -1  # take: claim re-indexed it (a later score: the removal is refused)
