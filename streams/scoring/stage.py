"""The stage after intake: apply each batch to the window store, then re-score.

``ScoringStage`` is the worker's ``EventSink``. It applies a validated batch to
the window store (retrying, with backoff, while Redis is unreachable: the batch
is not acknowledged until it is applied, and applying is idempotent), re-scores
every entity the batch touched (publishing a weight update where the tier,
weight or boost changed), turns events the store refused into ``too_late``
rejections, and records the store's figures as metrics; offsets that went
backwards (``streams.store.Rewind``) are counted and logged, never skipped silently.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from streams.events import Reason, Rejection, SourcedEvent
from streams.metrics import Metrics
from streams.scoring.rescorer import Rescorer
from streams.semantics import TOO_LATE_DAYS
from streams.store import ApplyResult
from streams.store.handle import StoreHandle

log = logging.getLogger(__name__)


class ScoringStage:
    """Applies batches to the window store and re-scores what they touched."""

    def __init__(self, store: StoreHandle, rescorer: Rescorer, metrics: Metrics) -> None:
        self._store = store
        self._rescorer = rescorer
        self._metrics = metrics

    async def apply(self, batch: Sequence[SourcedEvent]) -> Sequence[Rejection]:
        result = await self._store.retrying(lambda store: store.apply(batch))
        self._record(result)
        if result.entities and result.stream_time_ms is not None:
            await self._rescorer.rescore(result.entities, result.causes, result.stream_time_ms)
        return [self._too_late(i) for i in result.too_late]

    def _record(self, result: ApplyResult) -> None:
        m = self._metrics
        m.duplicates.inc(result.duplicates)
        m.redelivered.inc(result.skipped)
        m.redis_round_trips.inc(result.round_trips)
        if result.stream_time_ms is not None:
            m.stream_time.set(result.stream_time_ms / 1000)
        for (topic, partition), rewind in result.rewinds.items():
            m.offset_rewinds.labels(topic, str(partition)).inc(rewind.events)
            log.warning(
                "offsets went backwards on %s[%d]: %d new events at offsets from %d, at or "
                "below their watermarks (up to %d), skipped; if this topic was recreated or "
                "its cluster rebuilt, bump VANE_TOPIC_GENERATION (docs/operations.md)",
                topic, partition, rewind.events, rewind.lowest_offset, rewind.watermark,
            )  # fmt: skip

    @staticmethod
    def _too_late(index: int) -> Rejection:
        detail = f"anchor day older than {TOO_LATE_DAYS} days before the as-of day"
        return Rejection(index, Reason.TOO_LATE, detail)
