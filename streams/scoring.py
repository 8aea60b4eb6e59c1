"""The stage after intake: apply each batch to the window store, then score.

``ScoringStage`` is the worker's ``EventSink``. It applies a validated batch to
the window store (retrying, with backoff, while Redis is unreachable: the batch
is not acknowledged until it is applied, and applying is idempotent), turns
events the store refused into ``too_late`` rejections, and records the store's
figures as metrics.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from streams.contract import Reason, SourcedEvent
from streams.errors import StoreUnavailable
from streams.intake import Rejection
from streams.metrics import Metrics
from streams.settings import RedisSettings
from streams.store import TOO_LATE_DAYS, ApplyResult, WindowStore

log = logging.getLogger(__name__)

FIRST_BACKOFF_S = 0.2
MAX_BACKOFF_S = 5.0


class ScoringStage:
    """Applies batches to the window store; connects on first use."""

    def __init__(self, settings: RedisSettings, metrics: Metrics) -> None:
        self._settings = settings
        self._metrics = metrics
        self._store: WindowStore | None = None

    async def apply(self, batch: Sequence[SourcedEvent]) -> Sequence[Rejection]:
        result = await self._apply_until_done(batch)
        self._record(result)
        return [self._too_late(i) for i in result.too_late]

    async def _apply_until_done(self, batch: Sequence[SourcedEvent]) -> ApplyResult:
        backoff_s = FIRST_BACKOFF_S
        while True:
            try:
                store = await self._connected()
                return await store.apply(batch)
            except StoreUnavailable as exc:
                self._metrics.redis_errors.inc()
                log.warning("window store unavailable, retrying in %.1fs: %s", backoff_s, exc)
                await asyncio.sleep(backoff_s)
                backoff_s = min(backoff_s * 2, MAX_BACKOFF_S)

    async def _connected(self) -> WindowStore:
        if self._store is None:
            self._store = await WindowStore.connect(self._settings)
        return self._store

    def _record(self, result: ApplyResult) -> None:
        m = self._metrics
        m.duplicates.inc(result.duplicates)
        m.redelivered.inc(result.skipped)
        m.redis_round_trips.inc(result.round_trips)
        if result.stream_time_ms is not None:
            m.stream_time.set(result.stream_time_ms / 1000)

    @staticmethod
    def _too_late(index: int) -> Rejection:
        detail = f"anchor day older than {TOO_LATE_DAYS} days before the as-of day"
        return Rejection(index, Reason.TOO_LATE, detail)

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()
            self._store = None
