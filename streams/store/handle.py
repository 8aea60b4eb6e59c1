"""A worker's shared, lazily connected window store, and its retry policy."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from streams.errors import StoreUnavailable, backoff_s, never, pause
from streams.metrics import Metrics
from streams.settings import RedisSettings
from streams.store.window_store import WindowStore

log = logging.getLogger(__name__)
T = TypeVar("T")


class StoreHandle:
    """Connects on first use; ``retrying`` runs a call until Redis answers.

    ``stopping`` tells the retry loop to give up (``Interrupted``): the worker is
    stopping or its partitions are being revoked. ``failing`` is true from a failed
    call until the next successful one: ``/ready`` says not ready meanwhile.
    """

    def __init__(
        self, settings: RedisSettings, metrics: Metrics, stopping: Callable[[], bool] = never
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._store: WindowStore | None = None
        self._lock = asyncio.Lock()
        self.stopping = stopping
        self.failing = False

    async def get(self) -> WindowStore:
        """The connected store (connecting now if needed; raises StoreUnavailable)."""
        async with self._lock:
            if self._store is None:
                self._store = await WindowStore.connect(self._settings)
                self._store.observe = self._observe
            return self._store

    def _observe(self, operation: str, seconds: float) -> None:
        self._metrics.redis_call_duration.labels(operation).observe(seconds)

    async def retrying(self, call: Callable[[WindowStore], Awaitable[T]]) -> T:
        """Run ``call`` with the store until it succeeds, backing off while Redis is away.

        Only for idempotent calls: a failed attempt may have been applied in part.
        Raises ``Interrupted`` when ``stopping`` turns true, and ``StoreRejected``
        (not retriable) at once.
        """
        attempt = 0
        while True:
            try:
                result = await call(await self.get())
            except StoreUnavailable as exc:
                attempt += 1
                self.failing = True
                self._metrics.redis_errors.inc()
                self._metrics.redis_retries.labels(exc.kind).inc()
                pause_s = backoff_s(attempt)
                log.warning("window store unavailable, retrying in %.1fs: %s", pause_s, exc)
                await pause(pause_s, self.stopping)
            else:
                self.failing = False
                return result

    async def close(self) -> None:
        if self._store is not None:
            await self._store.close()
            self._store = None
