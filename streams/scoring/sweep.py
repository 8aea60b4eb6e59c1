"""The day-close sweep (SCORING.md §1): re-score every entity when the as-of day advances.

Every worker checks the clock every second. When a sweep is due (the stream day
moved past the last one swept, or ``vane sweep`` asked for one), each worker walks
the entity index's shards (``streams.store.index``), starting at a shard of its
own, and sweeps every shard whose lease it gets and that no sweep has covered yet:
in chunks, publishing with cause ``day-close``, then recording the shard. N workers
share a sweep about N ways. The one that finds every shard recorded records the
day (and the sweep request it answered). The sweep runs beside consumption, never
blocking the agents; a worker that dies mid-shard lets that shard's lease expire
and another one sweeps the shard again (re-scoring is idempotent: unchanged
entities publish nothing).

A shard's lease is renewed after every chunk. A renewal that fails (a chunk took
longer than the lease, and another worker took the shard over) stops this
worker's sweep at once, counted in ``vane_sweep_leases_lost_total`` and logged:
two sweepers never work on one shard side by side past one chunk, and a shard is
recorded only by the sweeper that holds its lease to the end (``shard_done.lua``).

A deployment older than the index builds it first, once, under the deployment's
sweep lease (a SCAN of the keyspace; the only one).
"""

from __future__ import annotations

import logging
import time
import uuid
import zlib

from streams.events import day_text
from streams.metrics import Metrics
from streams.scoring.rescorer import Rescorer
from streams.scoring.weights import DAY_CLOSE
from streams.store import WindowStore, index
from streams.store.handle import StoreHandle

log = logging.getLogger(__name__)

CHUNK = 500
LEASE_MS = 30_000


class LeaseLost(Exception):
    """Another worker holds the shard's lease now: this sweep must stop."""


class DayCloseSweeper:
    """Runs due sweeps; ``tick`` is called by a Faust timer."""

    def __init__(
        self,
        store: StoreHandle,
        rescorer: Rescorer,
        metrics: Metrics,
        *,
        lease_ms: int = LEASE_MS,
        chunk: int = CHUNK,
    ) -> None:
        self._store = store
        self._rescorer = rescorer
        self._metrics = metrics
        self._owner = uuid.uuid4().hex
        self._lease_ms = lease_ms
        self._chunk = chunk
        first = zlib.crc32(self._owner.encode()) % index.SHARDS
        self._order = [(first + i) % index.SHARDS for i in range(index.SHARDS)]

    async def tick(self) -> bool:
        """Take part in a due sweep; True if this worker recorded the day swept."""
        store = await self._store.get()
        await store.flush_index()
        status = await store.sweep_status()
        if not status.indexed:
            await self._build_index(store)
            return False
        day = status.due_day
        if day is None or status.stream_time_ms is None:
            return False
        started = time.perf_counter()
        swept = entities = published = 0
        records = await store.shard_records()
        for shard in self._order:
            if index.swept(records[shard], day, status.requested):
                continue
            if not await store.acquire_lease(self._owner, self._lease_ms, shard):
                continue  # another worker sweeps it
            try:
                (record,) = (await store.shard_records([shard])).values()
                if index.swept(record, day, status.requested):
                    continue  # swept between our look and our lease
                n, p = await self._sweep_shard(store, shard, day, status.stream_time_ms)
                if not await store.shard_done(shard, self._owner, day, status.requested):
                    raise LeaseLost
            except LeaseLost:
                self._metrics.sweep_leases_lost.inc()
                log.warning(
                    "day-close sweep as of %s stopped in shard %d: its lease moved to "
                    "another worker",
                    day_text(day),
                    shard,
                )
                return False
            finally:
                await store.release_lease(self._owner, shard)
            swept, entities, published = swept + 1, entities + n, published + p
            self._metrics.sweep_shards.inc()
        if swept:
            elapsed = time.perf_counter() - started
            self._metrics.sweep_duration.observe(elapsed)
            log.info(
                "day-close sweep as of %s: %d of %d shards here, %d entities, %d updates in %.2fs",
                day_text(day),
                swept,
                index.SHARDS,
                entities,
                published,
                elapsed,
            )
        records = await store.shard_records()
        if not all(index.swept(r, day, status.requested) for r in records.values()):
            return False  # other workers still sweep some shards
        await store.finish_sweep(day, status.requested)
        self._metrics.sweeps.inc()
        return True

    async def _sweep_shard(
        self, store: WindowStore, shard: int, day: int, stream_time_ms: int
    ) -> tuple[int, int]:
        """Re-score one shard's entities; (entities re-scored, updates published)."""
        entities = published = 0
        async for members in store.shard_members(shard, self._chunk):
            keys = [k for k in members if k[0] in self._rescorer.scored_types]
            snapshots = await store.sweep_snapshots(keys, day)
            published += await self._rescorer.rescore(
                snapshots, DAY_CLOSE, stream_time_ms, patient=True
            )
            entities += len(snapshots)
            self._metrics.sweep_entities.inc(len(snapshots))
            if not await store.renew_lease(self._owner, self._lease_ms, shard):
                raise LeaseLost
        return entities, published

    async def _build_index(self, store: WindowStore) -> None:
        """List every entity of a deployment older than the index, once (the SCAN).

        The lease only saves the work twice: two builders would add the same members."""
        if not await store.acquire_lease(self._owner, self._lease_ms):
            return  # another worker builds it

        async def progress(found: int) -> None:
            if found % 100_000 == 0:
                log.info("building the entity index: %d entities listed", found)
            await store.renew_lease(self._owner, self._lease_ms)

        try:
            started = time.perf_counter()
            log.info("building the entity index (a SCAN of the keyspace, once)")
            found = await store.build_index(progress)
            elapsed = time.perf_counter() - started
            log.info("entity index built: %d entities in %.1fs", found, elapsed)
        finally:
            await store.release_lease(self._owner)
