"""The day-close sweep (SCORING.md §1): re-score every entity when the as-of day advances.

Every worker checks the clock every second; the one that takes the lease sweeps
as of the current stream day, in chunks, publishing with cause ``day-close``,
then records the day (and any explicit sweep request it answered, see
``vane sweep``). The sweep runs beside consumption, never blocking the agents;
a worker that dies mid-sweep lets its lease expire and another one sweeps again
from the start (re-scoring is idempotent: unchanged entities publish nothing).

The lease is renewed after every chunk. A renewal that fails (a chunk took
longer than the lease, and another worker took it over) stops the sweep at once,
counted in ``vane_sweep_leases_lost_total`` and logged: two sweeps never run
side by side past one chunk, and the day is recorded by the sweep that holds the
lease to its end.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator

from streams.events import EntityKey, day_text
from streams.metrics import Metrics
from streams.scoring.rescorer import Rescorer
from streams.scoring.weights import DAY_CLOSE
from streams.store import WindowStore
from streams.store.handle import StoreHandle

log = logging.getLogger(__name__)

CHUNK = 500
LEASE_MS = 30_000


class LeaseLost(Exception):
    """Another worker holds the sweep lease now: this sweep must stop."""


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

    async def tick(self) -> bool:
        """Sweep if one is due and we get the lease; True if we swept."""
        store = await self._store.get()
        status = await store.sweep_status()
        day = status.due_day
        if day is None or status.stream_time_ms is None:
            return False
        if not await store.acquire_lease(self._owner, self._lease_ms):
            return False
        try:
            await self._sweep(store, day, status.stream_time_ms)
            await store.finish_sweep(day, status.requested)
        except LeaseLost:
            self._metrics.sweep_leases_lost.inc()
            log.warning(
                "day-close sweep as of %s stopped: the lease moved to another worker",
                day_text(day),
            )
            return False
        finally:
            await store.release_lease(self._owner)
        return True

    async def _sweep(self, store: WindowStore, day: int, stream_time_ms: int) -> None:
        started = time.perf_counter()
        published = 0
        async for chunk in _chunks(store, self._rescorer.scored_types, self._chunk):
            snapshots = await store.snapshots(chunk, day)
            published += await self._rescorer.rescore(
                snapshots, DAY_CLOSE, stream_time_ms, patient=True
            )
            if not await store.renew_lease(self._owner, self._lease_ms):
                raise LeaseLost
        elapsed = time.perf_counter() - started
        self._metrics.sweep_duration.observe(elapsed)
        self._metrics.sweeps.inc()
        log.info(
            "day-close sweep as of %s: %d updates in %.2fs", day_text(day), published, elapsed
        )


async def _chunks(
    store: WindowStore, scored_types: frozenset[str], size: int
) -> AsyncIterator[list[EntityKey]]:
    chunk: list[EntityKey] = []
    async for key in store.entities():
        if key[0] in scored_types:
            chunk.append(key)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
