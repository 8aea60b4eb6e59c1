"""The stage after intake: apply batches to the window store, then re-score.

``ScoringStage`` is the worker's ``EventSink``. It applies validated batches to
the window store (retrying, with backoff, while Redis is unreachable: a batch
is not acknowledged until it is applied, and applying is idempotent), re-scores
every entity they touched (publishing a weight update where the tier, weight or
boost changed), turns events the store refused into ``too_late`` rejections,
and records the store's figures as metrics; offsets that went backwards
(``streams.store.Rewind``) are counted and logged, never skipped silently.

Each input topic has its own agent, and their batches meet here. The batches
that arrive while a round is applied wait, and the next round applies all of
them as one: one store call per entity (a shop's orders, shipments and refunds
together) and one re-score, where side by side each agent would pay its own.
This is safe because every watermark is per topic and partition, and a batch
is answered only when the round that holds it is done. Should a round fail in a
way that retrying cannot mend, its batches are applied again one by one, so
that only a batch that fails alone is answered with the failure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from streams.errors import Interrupted
from streams.events import Reason, Rejection, SourcedEvent
from streams.metrics import Metrics
from streams.scoring.rescorer import Rescorer
from streams.semantics import TOO_LATE_DAYS
from streams.store import ApplyResult
from streams.store.handle import StoreHandle

log = logging.getLogger(__name__)


class _Pending:
    """A batch waiting for its round, and then the round's answer to it."""

    __slots__ = ("batch", "error", "rejections")

    def __init__(self, batch: Sequence[SourcedEvent]) -> None:
        self.batch = batch
        self.rejections: list[Rejection] | None = None
        self.error: BaseException | None = None

    @property
    def answered(self) -> bool:
        return self.rejections is not None or self.error is not None

    def answer(self) -> list[Rejection]:
        if self.error is not None:
            raise self.error
        assert self.rejections is not None
        return self.rejections


class ScoringStage:
    """Applies batches to the window store and re-scores what they touched."""

    def __init__(self, store: StoreHandle, rescorer: Rescorer, metrics: Metrics) -> None:
        self._store = store
        self._rescorer = rescorer
        self._metrics = metrics
        self._waiting: list[_Pending] = []
        self._round = asyncio.Lock()

    async def apply(self, batch: Sequence[SourcedEvent]) -> Sequence[Rejection]:
        """Apply ``batch`` (with whatever else waits) and re-score; its rejections."""
        mine = _Pending(batch)
        self._waiting.append(mine)
        try:
            async with self._round:
                if not mine.answered:
                    await self._run_round()
        finally:
            if mine in self._waiting:  # cancelled before a round took it
                self._waiting.remove(mine)
        return mine.answer()

    async def _run_round(self) -> None:
        taken, self._waiting = self._waiting, []
        try:
            await self._answer(taken)
        finally:  # stopped or cancelled: the batches not answered go back to Kafka
            for pending in taken:
                if not pending.answered:
                    pending.error = Interrupted("the round applying this batch was stopped")

    async def _answer(self, taken: Sequence[_Pending]) -> None:
        try:
            answers = await self._together(taken)
        except Interrupted:
            raise
        except Exception:
            if len(taken) == 1:
                raise
            log.warning("a round of %d batches failed; applying them one by one", len(taken))
            for pending in taken:
                await self._alone(pending)
        else:
            for pending, rejections in zip(taken, answers, strict=True):
                pending.rejections = rejections

    async def _alone(self, pending: _Pending) -> None:
        try:
            [pending.rejections] = await self._together([pending])
        except Interrupted:
            raise
        except Exception as exc:
            pending.error = exc

    async def _together(self, taken: Sequence[_Pending]) -> list[list[Rejection]]:
        """Apply the batches as one, re-score once; each batch's rejections."""
        batch = [event for pending in taken for event in pending.batch]
        result = await self._store.retrying(lambda store: store.apply(batch))
        self._record(result)
        if result.entities and result.stream_time_ms is not None:
            await self._rescorer.rescore(result.entities, result.causes, result.stream_time_ms)
        answers: list[list[Rejection]] = [[] for _ in taken]
        starts = [0]
        for pending in taken:
            starts.append(starts[-1] + len(pending.batch))
        nth = 0
        for index in sorted(result.too_late):
            while index >= starts[nth + 1]:
                nth += 1
            answers[nth].append(self._too_late(index - starts[nth]))
        return answers

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
