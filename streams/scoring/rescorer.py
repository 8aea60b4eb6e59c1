"""Re-scoring: decide entities' states, commit them with their messages, publish.

Used after every applied batch (the touched entities, cause = the last event
applied to each) and by the day-close sweep (every entity, cause ``day-close``).

Per entity the order is an outbox: the new state and its message are written to
the entity's state hash in one atomic compare-and-set on the seq (``commit``,
which also indexes the entity for the outbox scan); then the message is published
and acknowledged by the broker; then the outbox entry is cleared
(``mark_published``). So a crash at any point loses nothing and never reuses a
seq: a committed message is re-sent, identical, by whoever takes the entry over
once it is older than the takeover age by Redis ``TIME`` (``claim``: an event of
the entity, the sweep, or the outbox scan, ``streams.scoring.outbox``). A commit
is refused while an earlier message of the same entity still waits in the outbox.

A publisher can still be late (stalled past the takeover age) and land a stale
copy after a newer message. So after every acknowledged send it learns, in the
same round trip that clears its entries, whether a newer message is committed,
and if so re-sends that one: the last message per key is the current state
(docs/reliability.md argues it, including a publisher that dies in between).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from models import Decision, ModelConfig
from models.windows import EntityWindows
from streams import codec
from streams.errors import KafkaUnavailable, PublishRejected
from streams.events import EntityKey
from streams.kafka import publish
from streams.metrics import Metrics
from streams.scoring import weights
from streams.scoring.category import category_key
from streams.store import TAKEOVER_AFTER_MS, Claim, Commit, Sent, Snapshot, WindowStore
from streams.store.handle import StoreHandle
from streams.topics import Publisher, send_all

log = logging.getLogger(__name__)

RETRY_SLEEPS_S = (0.005, 0.02, 0.05, 0.1, 0.2)
# After a takeover the old owner may still land its copy; the taker's re-check re-sends
# the current message this long after (docs/reliability.md: the residual window).
RECHECK_AFTER_MS = TAKEOVER_AFTER_MS + 60_000
PATIENT_SLEEP_S = 0.5


@dataclass(frozen=True, slots=True)
class _Decided:
    key: EntityKey
    config: ModelConfig
    decision: Decision
    commit: Commit


class Rescorer:
    """Turns snapshots into published weight updates, at most one seq each."""

    def __init__(
        self,
        store: StoreHandle,
        publisher: Publisher,
        metrics: Metrics,
        models: Mapping[str, ModelConfig],
        *,
        takeover_after_ms: int = TAKEOVER_AFTER_MS,
        recheck_after_ms: int = RECHECK_AFTER_MS,
        owner: str | None = None,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._metrics = metrics
        self._models = models
        self._takeover_after_ms = takeover_after_ms
        self._recheck_after_ms = recheck_after_ms
        self.owner = owner or uuid.uuid4().hex  # the outbox owner token of this worker

    @property
    def scored_types(self) -> frozenset[str]:
        """The entity types that have a model (``models.config.MODEL_NAMES``)."""
        return frozenset(self._models)

    async def rescore(
        self,
        snapshots: Mapping[EntityKey, Snapshot],
        causes: Mapping[EntityKey, str] | str,
        as_of_ms: int,
        *,
        patient: bool = False,
        known: dict[EntityKey, Snapshot] | None = None,
    ) -> int:
        """Re-score the scored entities among ``snapshots``; return messages published.

        ``patient`` (the sweep) waits out outbox entries of other workers instead of
        leaving those entities to a later pass. ``known``: category snapshots read
        before, as of the same day, to use instead of reading them again; those read
        here are added to it (the sweep keeps one for a few seconds).
        """
        todo = {k: s for k, s in snapshots.items() if k[0] in self._models}
        categories = await self._categories(todo, snapshots, known)
        published, attempt = 0, 0
        while todo:
            published += await self._flush_abandoned(todo)
            retry = await self._decide_and_publish(todo, categories, causes, as_of_ms)
            if not retry:
                break
            attempt += 1
            if attempt > len(RETRY_SLEEPS_S) and not patient:
                log.warning("re-scoring deferred for %d busy entities", len(retry))
                break
            await asyncio.sleep(_pause(attempt))
            todo = await self._reread(retry, todo)
        return published

    async def _categories(
        self,
        todo: Mapping[EntityKey, Snapshot],
        given: Mapping[EntityKey, Snapshot],
        known: dict[EntityKey, Snapshot] | None,
    ) -> dict[EntityKey, EntityWindows]:
        wanted = {c for k, s in todo.items() if (c := category_key(k[0], s.labels)) is not None}
        found = {**(known or {}), **given}
        missing = [k for k in wanted if k not in found]
        as_of = _as_of_day(todo)
        if missing and as_of is not None:
            read = await self._store.retrying(lambda st: st.snapshots(missing, as_of))
            found.update(read)
            if known is not None:
                known.update(read)
        return {k: found[k].windows for k in wanted if k in found}

    async def _decide_and_publish(
        self,
        todo: Mapping[EntityKey, Snapshot],
        categories: Mapping[EntityKey, EntityWindows],
        causes: Mapping[EntityKey, str] | str,
        as_of_ms: int,
    ) -> list[EntityKey]:
        with collection_paused():
            decided = [
                d
                for key, snap in todo.items()
                if (d := self._decide(key, snap, categories, _cause(causes, key), as_of_ms))
            ]
        if not decided:
            return []
        commits = [d.commit for d in decided]
        seqs = await self._store.retrying(
            lambda st: st.commit(commits, self.owner, self._takeover_after_ms)
        )
        won = [(d, seq) for d, seq in zip(decided, seqs, strict=True) if seq > 0]
        await self._publish([(d.key, seq, d.commit.message) for d, seq in won])
        for d, _ in won:
            self._count(d.key[0], d.decision.previous.tier, d.decision.state.tier)
        return [d.key for d, seq in zip(decided, seqs, strict=True) if seq <= 0]

    def _decide(
        self,
        key: EntityKey,
        snap: Snapshot,
        categories: Mapping[EntityKey, EntityWindows],
        cause: str,
        as_of_ms: int,
    ) -> _Decided | None:
        config = self._models[key[0]]
        category_of = category_key(key[0], snap.labels)
        category = None if category_of is None else categories.get(category_of)
        decision = weights.redecide_if_changed(
            config, snap.windows, snap.published.state, category
        )
        if decision is None:
            return None
        seq = snap.published.seq + 1
        message = weights.build(decision, config, seq=seq, as_of_ms=as_of_ms, cause=cause)
        state = weights.state_fields(decision.state)
        commit = Commit(key[0], key[1], snap.published.seq, state, codec.dumps(message))
        return _Decided(key, config, decision, commit)

    async def _flush_abandoned(self, todo: dict[EntityKey, Snapshot]) -> int:
        """Take over and re-send outbox entries whose writer seems to have died."""
        waiting = [k for k, s in todo.items() if s.published.pending is not None]
        if not waiting:
            return 0
        claims = await self.flush(waiting)
        taken = [k for k, c in claims.items() if c.action == "take"]
        for key in taken:
            todo[key] = _without_pending(todo[key])
        return len(taken)

    async def flush(self, keys: Sequence[EntityKey]) -> dict[EntityKey, Claim]:
        """Claim these entities' outbox entries and due re-checks (Redis ``TIME``
        decides), and publish what was claimed; return each entity's claim."""

        async def claim(st: WindowStore) -> dict[EntityKey, Claim]:
            return await st.claim(
                keys, self.owner, self._takeover_after_ms, self._recheck_after_ms
            )

        claims = await self._store.retrying(claim)
        sends = [(k, c.seq, c.message) for k, c in claims.items() if c.message is not None]
        for c in claims.values():
            if c.message is not None:
                self._metrics.outbox_resends.labels(
                    "takeover" if c.action == "take" else "recheck"
                ).inc()
        await self._publish([(k, seq, m) for k, seq, m in sends if m is not None])
        return claims

    async def _publish(self, messages: Sequence[tuple[EntityKey, int, bytes]]) -> None:
        """Send, wait for every acknowledgement, clear the outbox entries; then re-send
        the current message of every entity whose send turned out stale, until none is."""
        while messages:
            sent = await self._send(messages)
            stale = [s for s in sent if s.current is not None]
            if stale:
                self._metrics.outbox_resends.labels("stale").inc(len(stale))
                log.warning("%d weight updates were stale once sent; re-sending", len(stale))
            messages = [(s.key, s.current_seq, s.current or b"") for s in stale]

    async def _send(self, messages: Sequence[tuple[EntityKey, int, bytes]]) -> list[Sent]:
        """Transient Kafka errors are retried with backoff until the worker stops
        (``Interrupted``); a refused record stays in the outbox, counted and logged."""
        records = (
            (weights.message_key(*key), value, list[tuple[str, bytes]]())
            for key, _, value in messages
        )
        try:
            await publish.retrying(
                lambda: send_all(self._publisher, records),
                stopping=self._store.stopping,
                on_retry=self._publish_retried,
            )
        except PublishRejected as exc:
            # Committed but not sent: the outbox keeps them, and the outbox scan
            # re-sends them after the takeover age.
            self._metrics.publish_errors.labels("weights", exc.kind, "left_in_outbox").inc()
            log.error("%d weight updates left in the outbox: %s", len(messages), exc)
            return []
        done = [(key, seq) for key, seq, _ in messages]
        return await self._store.retrying(lambda st: st.mark_published(done, self.owner))

    async def _reread(
        self, keys: Sequence[EntityKey], todo: Mapping[EntityKey, Snapshot]
    ) -> dict[EntityKey, Snapshot]:
        as_of = _as_of_day(todo)
        assert as_of is not None

        async def read(store: WindowStore) -> dict[EntityKey, Snapshot]:
            return await store.snapshots(list(keys), as_of)

        return await self._store.retrying(read)

    def _publish_retried(self, exc: KafkaUnavailable) -> None:
        self._metrics.publish_errors.labels("weights", exc.kind, "retried").inc()

    def _count(self, entity_type: str, before: str, after: str) -> None:
        self._metrics.weight_updates.labels(entity_type, before, after).inc()


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (it is enabled again after).

    Deciding a batch allocates many small objects that live until the batch is
    decided, and Python's collector walked them again and again: about a fifth of
    a sweep's time in process (docs/performance.md, "Hot path, part 3"). The block
    must not await: then no other task runs, and allocates, while it lasts; what it
    leaves is collected after."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _pause(attempt: int) -> float:
    """Short pauses first; the patient sweep then waits longer per round."""
    return RETRY_SLEEPS_S[attempt - 1] if attempt <= len(RETRY_SLEEPS_S) else PATIENT_SLEEP_S


def _cause(causes: Mapping[EntityKey, str] | str, key: EntityKey) -> str:
    return causes if isinstance(causes, str) else causes.get(key, weights.DAY_CLOSE)


def _as_of_day(snapshots: Mapping[EntityKey, Snapshot]) -> int | None:
    return next((s.windows.as_of_day for s in snapshots.values()), None)


def _without_pending(snap: Snapshot) -> Snapshot:
    return replace(snap, published=replace(snap.published, pending=None, pending_since_ms=None))
