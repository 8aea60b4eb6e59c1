"""A worker's shared, lazily connected window store, and its retry policy."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from streams.errors import StoreUnavailable
from streams.metrics import Metrics
from streams.settings import RedisSettings
from streams.store.window_store import WindowStore

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_BACKOFF_S = 0.2
MAX_BACKOFF_S = 5.0


class StoreHandle:
    """Connects on first use; ``retrying`` runs a call until Redis answers."""

    def __init__(self, settings: RedisSettings, metrics: Metrics) -> None:
        self._settings = settings
        self._metrics = metrics
        self._store: WindowStore | None = None
        self._lock = asyncio.Lock()

    async def get(self) -> WindowStore:
        """The connected store (connecting now if needed; raises StoreUnavailable)."""
        async with self._lock:
            if self._store is None:
                self._store = await WindowStore.connect(self._settings)
            return self._store

    async def retrying(self, call: Callable[[WindowStore], Awaitable[T]]) -> T:
        """Run ``call`` with the store until it succeeds, backing off while Redis is away.

        Only for idempotent calls: a failed attempt may have been applied in part.
        """
        backoff_s = FIRST_BACKOFF_S
        while True:
            try:
                return await call(await self.get())
            except StoreUnavailable as exc:
                self._metrics.redis_errors.inc()
                log.warning("window store unavailable, retrying in %.1fs: %s", backoff_s, exc)
                await asyncio.sleep(backoff_s)
                backoff_s = min(backoff_s * 2, MAX_BACKOFF_S)

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()
            self._store = None
