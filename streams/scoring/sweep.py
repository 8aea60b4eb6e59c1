"""The day-close sweep (SCORING.md §1): re-score every entity when the as-of day advances.

Every worker checks the clock every second. When a sweep is due (the stream day
moved past the last one swept, or ``vane sweep`` asked for one), each worker walks
the entity index's shards (``streams.store.index``), starting at a shard of its
own, and sweeps the shards whose leases it gets and that no sweep has covered yet,
``GROUP`` at a time: in chunks, publishing with cause ``day-close``, then recording
the shards. N workers share a sweep about N ways. The one that finds every shard
recorded records the day (and the sweep request it answered). The sweep runs
beside consumption, never blocking the agents; a worker that dies mid-sweep lets
its shards' leases expire and another one sweeps them again (re-scoring is
idempotent: unchanged entities publish nothing).

The leases are renewed after every chunk. A renewal that fails (a chunk took
longer than the lease, and another worker took the shards over) stops this
worker's sweep at once, counted in ``vane_sweep_leases_lost_total`` and logged:
two sweepers never work on one shard side by side past one chunk, and a shard is
recorded only by the sweeper that holds its lease to the end (``shard_done.lua``).

A deployment older than the index builds it first, once, under the deployment's
sweep lease (a SCAN of the keyspace; the only one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
import zlib
from collections.abc import AsyncGenerator

from streams.errors import Interrupted, StoreError
from streams.events import EntityKey, day_text
from streams.metrics import Metrics
from streams.scoring.rescorer import Rescorer
from streams.scoring.weights import DAY_CLOSE
from streams.store import Snapshot, WindowStore, index
from streams.store.handle import StoreHandle

log = logging.getLogger(__name__)

CHUNK = 500
LEASE_MS = 30_000
GROUP = 8  # shards taken at a time: a sweep of few entities is a few round trips
CATEGORIES_FOR_S = 5.0  # a sweep re-reads category snapshots this often


class _Categories:
    """Category snapshots a sweep read, kept for ``CATEGORIES_FOR_S`` seconds.

    A product is scored beside its category's windows as read at about the time
    it is swept; reading them once per few seconds instead of once per chunk
    changes only that time (no sweep ever sees a category of another day)."""

    def __init__(self) -> None:
        self._known: dict[EntityKey, Snapshot] = {}
        self._since = time.monotonic()

    def fresh(self) -> dict[EntityKey, Snapshot]:
        if time.monotonic() - self._since > CATEGORIES_FOR_S:
            self._known, self._since = {}, time.monotonic()
        return self._known


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
        day, request = status.due_day, status.requested
        if day is None or status.stream_time_ms is None:
            return False
        started = time.perf_counter()
        swept = entities = published = 0
        records = await store.shard_records()
        todo = [s for s in self._order if not index.swept(records[s], day, request)]
        while todo:
            group, todo = todo[:GROUP], todo[GROUP:]
            offered = await store.take_shards(self._owner, self._lease_ms, group, day, request)
            taken = [shard for shard, what in offered.items() if what == "taken"]
            if not taken:
                continue  # covered already, or other workers sweep them
            try:
                n, p = await self._sweep(store, taken, day, status.stream_time_ms)
                if len(await store.shards_done(self._owner, taken, day, request)) < len(taken):
                    raise LeaseLost
            except LeaseLost:
                self._metrics.sweep_leases_lost.inc()
                log.warning(
                    "day-close sweep as of %s stopped: a lease of shards %s moved to "
                    "another worker",
                    day_text(day),
                    taken,
                )
                await self._release(store, taken)
                return False
            except BaseException:
                await self._release(store, taken)
                raise
            swept, entities, published = swept + len(taken), entities + n, published + p
            self._metrics.sweep_shards.inc(len(taken))
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
        if not all(index.swept(r, day, request) for r in records.values()):
            return False  # other workers still sweep some shards
        await store.finish_sweep(day, request)
        self._metrics.sweeps.inc()
        return True

    async def _sweep(
        self, store: WindowStore, shards: list[int], day: int, stream_time_ms: int
    ) -> tuple[int, int]:
        """Re-score the entities of ``shards``; (entities re-scored, updates published).

        The next chunk's snapshots are read while this one is scored (Redis works
        while Python decides), and category snapshots are read once per
        ``CATEGORIES_FOR_S`` (many products share a category)."""
        entities = published = 0
        categories = _Categories()
        reads: list[asyncio.Future[dict[EntityKey, Snapshot]]] = []  # this chunk's, the next's

        async def score_oldest() -> None:
            nonlocal entities, published
            snapshots = await reads.pop(0)
            published += await self._score(snapshots, categories, stream_time_ms)
            entities += len(snapshots)
            await self._renew(store, shards)

        members = self._chunks(store, shards)
        try:
            async for keys in members:
                reads.append(asyncio.ensure_future(store.sweep_snapshots(keys, day)))
                await asyncio.sleep(0)  # let the read send its pipeline before we decide
                if len(reads) == 2:  # the next chunk is being read: score this one
                    await score_oldest()
            while reads:
                await score_oldest()
        finally:
            for read in reads:
                read.cancel()
                with contextlib.suppress(BaseException):
                    await read
            await members.aclose()
        return entities, published

    async def _chunks(
        self, store: WindowStore, shards: list[int]
    ) -> AsyncGenerator[list[EntityKey], None]:
        """The scored members of ``shards``, ``chunk`` at a time."""
        scored = self._rescorer.scored_types
        async for page in store.shard_members(shards, self._chunk):
            for start in range(0, len(page), self._chunk):
                keys = [k for k in page[start : start + self._chunk] if k[0] in scored]
                if keys:
                    yield keys

    async def _score(
        self, snapshots: dict[EntityKey, Snapshot], categories: _Categories, stream_time_ms: int
    ) -> int:
        published = await self._rescorer.rescore(
            snapshots, DAY_CLOSE, stream_time_ms, patient=True, known=categories.fresh()
        )
        self._metrics.sweep_entities.inc(len(snapshots))
        return published

    async def _renew(self, store: WindowStore, shards: list[int]) -> None:
        if not await store.renew_shards(self._owner, self._lease_ms, shards):
            raise LeaseLost

    async def _release(self, store: WindowStore, shards: list[int]) -> None:
        """Let go of the leases of a sweep that stopped (they expire anyway)."""
        with contextlib.suppress(StoreError, Interrupted):
            await store.release_shards(self._owner, shards)

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
