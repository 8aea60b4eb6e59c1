"""``WindowStore``: apply batches, read snapshots, commit and mark published states."""

from __future__ import annotations

import functools
import itertools
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Concatenate, ParamSpec, TypeVar

from models.counting import COUNTERS
from streams.errors import ScriptsMissing
from streams.events import EntityKey, SourcedEvent
from streams.semantics import counts, too_late
from streams.settings import RedisSettings
from streams.store import connection, dedupe, encoding, index, messages
from streams.store.encoding import (
    EntityBatch,
    Preload,
    Snapshot,
    apply_args,
    day_of,
    group_by_entity,
    mark_duplicates,
    position,
    preload_fields,
    snapshot,
)

T = TypeVar("T")
P = ParamSpec("P")
Observer = Callable[[str, float], None]  # (operation, seconds)
TAKEOVER_AFTER_MS = 10_000  # an outbox entry this old (Redis TIME) is taken over
OUTBOX_SHARDS = 16  # index sorted sets <prefix>:{outbox:N}, one hash slot each


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What one batch did to the store, and the touched entities as they are now."""

    too_late: list[int]  # indexes into the batch: rejected, nothing applied
    duplicates: int  # upstream duplicates dropped (same event_id, another offset)
    applied: int  # entity updates applied (an event touches up to four entities)
    skipped: int  # entity updates skipped as applied before (redelivery)
    entities: dict[EntityKey, Snapshot]
    causes: dict[EntityKey, str]  # the last event applied to each touched entity
    as_of_day: int
    stream_time_ms: int | None
    round_trips: int
    # per (topic, partition): offsets that went backwards (see ``Rewind``)
    rewinds: dict[tuple[str, int], Rewind] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Rewind:
    """Events skipped by offset that were not redeliveries: the offsets went backwards.

    A redelivery (a crash, a rebalance) re-reads events whose dedupe markers still
    hold their own position. An event at or below its entity's watermark with no
    live marker is new to the store at an old offset: the group's offsets were
    reset past the dedupe horizon, or the topic was recreated (or the cluster
    rebuilt) without a new ``VANE_TOPIC_GENERATION``. Nothing of it is counted.
    """

    events: int  # distinct offsets
    lowest_offset: int
    watermark: int  # the highest watermark one of them was skipped under


@dataclass(frozen=True, slots=True)
class Commit:
    """A decided state change: publish ``message`` as seq ``based_on_seq + 1``."""

    entity_type: str
    entity_id: str
    based_on_seq: int
    state: dict[str, Any]
    message: bytes


@dataclass(frozen=True, slots=True)
class Sent:
    """What ``mark_published`` found after an acknowledged send of ``seq``."""

    key: EntityKey
    seq: int
    cleared: bool  # the outbox entry was ours and is cleared
    current_seq: int
    current: bytes | None  # the committed message of current_seq, if newer than seq


@dataclass(frozen=True, slots=True)
class Claim:
    """``claim.lua``'s answer: take / recheck (re-send ``message``), wait, or done."""

    action: str
    seq: int = 0
    message: bytes | None = None
    wait_ms: int = 0


@dataclass(frozen=True, slots=True)
class SweepStatus:
    """The clock: stream time, the last swept day, sweep requests made and answered."""

    stream_time_ms: int | None
    swept_day: int | None
    requested: int
    handled: int
    indexed: bool = True  # every entity hash is in the entity index (streams.store.index)

    @property
    def due_day(self) -> int | None:
        """The as-of day a sweep should run for now, or None if none is due."""
        if self.stream_time_ms is None:
            return None
        day = day_of(self.stream_time_ms)
        behind = self.swept_day is None or day > self.swept_day
        return day if behind or self.requested > self.handled else None


def _timed(
    method: Callable[Concatenate[WindowStore, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[WindowStore, P], Coroutine[Any, Any, T]]:
    """Report the method's duration to ``store.observe`` under its name: one pipelined
    round trip per operation (``apply``: two, the dedupe markers then the scripts)."""

    @functools.wraps(method)
    async def timed(store: WindowStore, /, *args: P.args, **kwargs: P.kwargs) -> T:
        started = time.perf_counter()
        try:
            return await method(store, *args, **kwargs)
        finally:
            if store.observe is not None:
                store.observe(method.__name__, time.perf_counter() - started)

    return timed


class WindowStore:
    """Rolling per-day windows and published states in Redis (standalone or cluster)."""

    def __init__(self, client: connection.Client, settings: RedisSettings) -> None:
        self._client = client
        self._prefix = settings.key_prefix
        self._dedupe_ms = int(settings.dedupe_horizon_s * 1000)
        self._ttl_ms = int(settings.entity_ttl_s * 1000)
        self._call_timeout_s = settings.call_timeout_s
        self._shas: dict[str, str] = {}
        self._stream_time_ms: int | None = None
        # Until then a marker may still be a key of its own (``_legacy_marker_key``).
        self._legacy_markers_until_ms = 0
        self._listed: set[str] = set()  # index members this process added (a cache)
        self._relist: set[str] = set()  # entities it created: to add once more
        # Told the duration of every timed operation (``_timed``), failed ones included.
        self.observe: Observer | None = None

    @classmethod
    async def connect(cls, settings: RedisSettings) -> WindowStore:
        """Connect (auto-detecting cluster mode), load the scripts, read stream time."""
        store = cls(await connection.connect(settings), settings)
        store._shas = await store._run(connection.load_scripts(store._client))
        store._stream_time_ms = await store.stream_time_ms()
        await store._note_marker_format()
        if store._stream_time_ms is None:  # nothing applied yet: nothing to index
            await store._run(store._client.hsetnx(store._clock_key, "ix", index.VERSION))
        return store

    async def _note_marker_format(self) -> None:
        """Record when this deployment first ran with packed markers (``streams.store.dedupe``).

        A store that already had stream time then was written by a version with one
        key per marker: those keys are looked up too, until the horizon has passed
        since the upgrade. A new store records 0 and never looks.
        """
        since = str(int(time.time() * 1000)) if self._stream_time_ms is not None else "0"
        await self._run(self._client.hsetnx(self._clock_key, "dd", since))
        upgraded = int(await self._run(self._client.hget(self._clock_key, "dd")) or 0)
        self._legacy_markers_until_ms = upgraded + self._dedupe_ms if upgraded else 0

    async def close(self) -> None:
        await self._client.aclose()

    # --- keys ---------------------------------------------------------------------------

    def entity_key(self, entity_type: str, entity_id: str) -> str:
        return f"{self._prefix}:{{{entity_type}:{entity_id}}}"

    def state_key(self, entity_type: str, entity_id: str) -> str:
        return f"{self.entity_key(entity_type, entity_id)}:st"

    def _dedupe_key(self, tag: int) -> str:
        return f"{self._prefix}:{{dd:{tag}}}"

    def _legacy_marker_key(self, event_id: str) -> str:
        return f"{self._prefix}:{{ev:{event_id}}}"

    @property
    def _clock_key(self) -> str:
        return f"{self._prefix}:{{clock}}"

    def _shard_key(self, shard: int) -> str:
        return f"{self._prefix}:{{entities:{shard}}}"

    def _lease_key(self, shard: int | None) -> str:
        """The deployment's sweep lease (``shard`` None: building the index), or a shard's."""
        return f"{self._clock_key}:lease" if shard is None else f"{self._shard_key(shard)}:lease"

    # --- applying batches ---------------------------------------------------------------

    @_timed
    async def apply(self, batch: Sequence[SourcedEvent]) -> ApplyResult:
        """Apply a validated batch; idempotent under redelivery of the same positions."""
        return await self._run(self._apply(batch))

    async def _apply(self, batch: Sequence[SourcedEvent]) -> ApplyResult:
        batch_max = max((s.event.ts_ms for s in batch), default=None)
        now_ms = _max_opt(self._stream_time_ms, batch_max)
        as_of = day_of(now_ms) if now_ms is not None else 0
        late = [i for i, s in enumerate(batch) if too_late(day_of(s.event.anchor_ms), as_of)]
        refused = set(late)
        fresh = [s for i, s in enumerate(batch) if i not in refused]
        groups = group_by_entity(fresh)
        listing = self._unlisted(groups) if fresh else []
        dropped, first_seen = await self._sort_upstream_duplicates(fresh, listing)
        mark_duplicates(groups, {id(s) for s in dropped})
        replies: list[Any] = await self._apply_groups(groups, as_of, batch_max) if batch else []
        clock = replies.pop() if replies else None
        self._listed.update(listing)
        self._relist.difference_update(listing)
        self._relist.update(
            index.member(k) for k, r in zip(groups, replies, strict=True) if not r[6]
        )
        self._stream_time_ms = _max_opt(self._stream_time_ms, _int_or_none(clock))
        entities = {  # an entity named only by duplicates did not change
            k: snapshot(k, as_of, r)
            for k, r in zip(groups, replies, strict=True)
            if groups[k].counted
        }
        applied = sum(int(reply[0]) for reply in replies)
        return ApplyResult(
            too_late=late,
            duplicates=len(dropped),
            applied=applied,
            skipped=sum(g.counted for g in groups.values()) - applied,
            entities=entities,
            causes={k: g.last_event_id for k, g in groups.items() if g.counted},
            as_of_day=as_of,
            stream_time_ms=self._stream_time_ms,
            round_trips=int(bool(fresh)) + int(bool(batch)),
            rewinds=_rewinds(groups.values(), replies, first_seen),
        )

    def _unlisted(self, groups: dict[EntityKey, EntityBatch]) -> list[str]:
        """Index members to add in the batch's first round trip: the entities this
        process has not added yet, and those it created since (``streams.store.index``)."""
        if len(self._listed) > index.CACHE_LIMIT:
            self._listed.clear()
        unlisted = {m for m in map(index.member, groups) if m not in self._listed}
        return sorted(unlisted | self._relist)

    def _add_to_index(self, pipe: Any, members: Iterable[str]) -> None:
        by_shard: dict[int, list[str]] = {}
        for name in members:
            by_shard.setdefault(index.shard_of(name), []).append(name)
        for shard, names in by_shard.items():
            pipe.sadd(self._shard_key(shard), *names)

    async def _sort_upstream_duplicates(
        self, events: list[SourcedEvent], listing: Iterable[str] = ()
    ) -> tuple[list[SourcedEvent], set[int]]:
        """(upstream duplicates, ids of the events seen for the first time).

        The same pipeline adds ``listing`` to the entity index."""
        if not events:
            return [], set()
        positions = [position(s) for s in events]
        found = dedupe.lookups(
            [(s.event.event_id, p) for s, p in zip(events, positions, strict=True)]
        )
        legacy = self._legacy_markers_until_ms > time.time() * 1000
        pipe = self._client.pipeline(transaction=False)
        for tag, records in found.records.items():
            base = self._dedupe_key(tag)
            self._evalsha(
                pipe, "dedupe", [f"{base}:m"], base, str(self._dedupe_ms), bytes(records)
            )
        if legacy:  # markers of the versions before packed markers, until they expire
            for s in events:
                pipe.get(self._legacy_marker_key(s.event.event_id))
        self._add_to_index(pipe, listing)
        replies = await pipe.execute()
        scripts = replies[: len(found.records)]  # then legacy markers, if looked up
        status = dedupe.statuses(found, dict(zip(found.records, scripts, strict=True)))
        looked = replies[len(found.records) : len(found.records) + len(events) * legacy]
        held = [None if r is None else r.decode() for r in looked]
        dropped: list[SourcedEvent] = []
        first_seen: set[int] = set()
        for i, (s, pos, st) in enumerate(zip(events, positions, status, strict=True)):
            old = held[i] if held else None
            duplicate = st == dedupe.DUPLICATE or (old is not None and not counts(old, pos))
            if duplicate:
                dropped.append(s)
            if st == dedupe.FIRST and old is None:
                first_seen.add(id(s))
        return dropped, first_seen

    async def _apply_groups(
        self, groups: dict[EntityKey, EntityBatch], as_of: int, batch_max: int | None
    ) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        for group in groups.values():
            args = apply_args(group.entity_type, group.events, as_of, self._ttl_ms, group.adopt)
            self._evalsha(
                pipe, "apply", self._entity_keys(group.entity_type, group.entity_id), args
            )
        stamp = "" if batch_max is None else str(batch_max)
        self._evalsha(pipe, "clock", [self._clock_key], stamp)
        return list(await pipe.execute())

    async def preload(self, entities: Sequence[Preload], as_of_day: int) -> None:
        """Write pre-summed histories as the fields ``apply.lua`` would have written
        (``preload_fields``; ``tests/integration/test_store_preload.py`` holds the two
        equal), and list them in the index: one round trip, no script.

        For benchmarks and tests that need many resident entities fast; the stream
        time is left alone (``preset_clock``). An entity loaded replaces its hash."""
        pipe = self._client.pipeline(transaction=False)
        for e in entities:
            key = self.entity_key(e.entity_type, e.entity_id)
            pipe.delete(key)
            fields: dict[Any, Any] = preload_fields(e, as_of_day)
            pipe.hset(key, mapping=fields)
            pipe.pexpire(key, self._ttl_ms)
        self._add_to_index(pipe, [index.member((e.entity_type, e.entity_id)) for e in entities])
        await self._run(pipe.execute())

    async def preset_clock(self, stream_time_ms: int, *, swept: bool) -> None:
        """Set the stream time (forward only) and, with ``swept``, record its day as swept:
        no day-close sweep is due until the stream moves on (benchmarks, tests)."""
        await self._run(self._eval("clock", [self._clock_key], str(stream_time_ms)))
        self._stream_time_ms = _max_opt(self._stream_time_ms, stream_time_ms)
        if swept:
            day, handled = str(day_of(stream_time_ms)), (await self.sweep_status()).requested
            await self._run(self._eval("sweep_done", [self._clock_key], day, str(handled)))

    def _entity_keys(self, entity_type: str, entity_id: str) -> list[str]:
        return [self.entity_key(entity_type, entity_id), self.state_key(entity_type, entity_id)]

    # --- snapshots, commits, outbox -------------------------------------------------------

    @_timed
    async def snapshots(
        self, keys: Sequence[EntityKey], as_of_day: int
    ) -> dict[EntityKey, Snapshot]:
        """Windows, labels and published state of many entities as of a day: one round trip."""
        if not keys:
            return {}
        replies = await self._read(keys, as_of_day)
        return {
            key: snapshot(key, as_of_day, reply) for key, reply in zip(keys, replies, strict=True)
        }

    async def _read(self, keys: Sequence[EntityKey], as_of_day: int) -> list[Any]:
        """``apply.lua``'s replies for reads (no events; the time-to-live left alone)."""
        pipe = self._client.pipeline(transaction=False)
        for entity_type, entity_id in keys:
            args = apply_args(entity_type, [], as_of_day, 0)
            self._evalsha(pipe, "apply", self._entity_keys(entity_type, entity_id), args)
        return list(await self._run(pipe.execute()))

    async def read(self, entity_type: str, entity_id: str, as_of_day: int) -> Snapshot:
        """One entity's snapshot as of a day."""
        return (await self.snapshots([(entity_type, entity_id)], as_of_day))[
            (entity_type, entity_id)
        ]

    async def committed_message(self, entity_type: str, entity_id: str) -> bytes | None:
        """The entity's last committed weight message, as published (None: never)."""
        key = self.state_key(entity_type, entity_id)
        stored: list[Any] = await self._run(self._client.hmget(key, [*messages.FIELDS, "c"]))
        pieces = list(itertools.takewhile(bool, stored[:-1]))
        packed = b"".join(pieces) if pieces else stored[-1]
        return messages.unpack(packed) if packed else None

    @_timed
    async def commit(
        self, commits: Sequence[Commit], owner: str, takeover_ms: int = TAKEOVER_AFTER_MS
    ) -> list[int]:
        """Write each decided state with its outbox message, if still based on the current seq.

        Each entity is indexed first (``outbox_add``, due after ``takeover_ms``) so that
        a live worker finds the entry if this one dies before publishing it. Per
        commit: the new seq; 0 if the seq moved since the decision; -1 if an earlier
        message still waits to be marked published.
        """
        if not commits:
            return []
        pipe = self._client.pipeline(transaction=False)
        shards = self._index([(c.entity_type, c.entity_id) for c in commits], pipe, takeover_ms)
        for c in commits:
            args = [str(c.based_on_seq), encoding.state_text(c.state), owner]
            key = self.state_key(c.entity_type, c.entity_id)
            self._evalsha(pipe, "commit", [key], *args, *messages.pack(c.message))
        replies = await self._run(pipe.execute())
        return [int(r) for r in replies[shards:]]

    @_timed
    async def mark_published(
        self, published: Sequence[tuple[EntityKey, int]], owner: str = ""
    ) -> list[Sent]:
        """After the broker acknowledged these sends: clear their outbox entries (those
        ``owner`` still owns) and report, per send, whether a newer message exists."""
        if not published:
            return []
        pipe = self._client.pipeline(transaction=False)
        for (entity_type, entity_id), seq in published:
            keys = [self.state_key(entity_type, entity_id)]
            self._evalsha(pipe, "published", keys, str(seq), owner)
        replies = await self._run(pipe.execute())
        return [
            Sent(key, seq, bool(r[0]), int(r[1]), messages.unpack(r[2]) if r[2] else None)
            for (key, seq), r in zip(published, replies, strict=True)
        ]

    @_timed
    async def claim(
        self, keys: Sequence[EntityKey], owner: str, takeover_ms: int, recheck_ms: int
    ) -> dict[EntityKey, Claim]:
        """Take over outbox entries older than ``takeover_ms`` (Redis TIME), run due re-checks."""
        if not keys:
            return {}
        pipe = self._client.pipeline(transaction=False)
        for entity_type, entity_id in keys:
            keys_ = [self.state_key(entity_type, entity_id)]
            self._evalsha(pipe, "claim", keys_, owner, str(takeover_ms), str(recheck_ms))
        replies = await self._run(pipe.execute())
        claims = {k: _claim(r) for k, r in zip(keys, replies, strict=True)}
        taken = [k for k, c in claims.items() if c.action == "take"]
        if taken:  # look again: the taker may die too, and the re-check ("rc") is due later
            pipe = self._client.pipeline(transaction=False)
            self._index(taken, pipe, takeover_ms)
            await self._run(pipe.execute())
        return claims

    @_timed
    async def outbox_due(self, limit: int) -> dict[int, list[tuple[EntityKey, bytes]]]:
        """Due index entries (Redis TIME) per shard, up to ``limit`` each: one round trip.

        Each entry is (entity, its listed score), for ``outbox_settle``.
        """
        pipe = self._client.pipeline(transaction=False)
        for shard in range(OUTBOX_SHARDS):
            self._evalsha(pipe, "outbox_due", [self._outbox_key(shard)], "list", str(limit))
        replies = await self._run(pipe.execute())
        return {shard: _due(flat) for shard, flat in enumerate(replies) if flat}

    async def outbox_settle(
        self, shard: int, entries: Sequence[tuple[EntityKey, bytes, int]]
    ) -> None:
        """Per (entity, listed score, delay ms): delay < 0 removes it unless re-added
        meanwhile; otherwise it is due again after the delay."""
        if not entries:
            return
        args = [x for (t, i), score, delay in entries for x in (f"{t}:{i}", score, str(delay))]
        await self._run(self._eval("outbox_due", [self._outbox_key(shard)], "settle", *args))

    def _index(self, keys: Sequence[EntityKey], pipe: Any, delay_ms: int) -> int:
        """Queue ``outbox_add`` calls (one per shard) on ``pipe``; how many were queued."""
        by_shard: dict[int, list[str]] = {}
        for entity_type, entity_id in keys:
            member = f"{entity_type}:{entity_id}"
            by_shard.setdefault(outbox_shard(member), []).append(member)
        for shard, members in by_shard.items():
            self._evalsha(pipe, "outbox_add", [self._outbox_key(shard)], str(delay_ms), *members)
        return len(by_shard)

    def _outbox_key(self, shard: int) -> str:
        return f"{self._prefix}:{{outbox:{shard}}}"

    # --- clock and day-close sweeps ---------------------------------------------------------

    @_timed
    async def stream_time_ms(self) -> int | None:
        """The deployment's stream time (largest ts processed), or None before any."""
        return _int_or_none(await self._run(self._eval("clock", [self._clock_key], "")))

    @_timed
    async def sweep_status(self) -> SweepStatus:
        fields = ["t", "d", "r", "h", "ix"]
        t, d, r, h, ix = await self._run(self._client.hmget(self._clock_key, fields))
        indexed = ix in (index.VERSION, index.VERSION.encode())
        return SweepStatus(_int_or_none(t), _int_or_none(d), int(r or 0), int(h or 0), indexed)

    @_timed
    async def request_sweep(self) -> int:
        """Ask the workers for a sweep as of the current stream time; its request number."""
        return int(await self._run(self._client.hincrby(self._clock_key, "r", 1)))

    @_timed
    async def finish_sweep(self, day: int, request: int) -> None:
        """Record the day swept (every shard of the index is, see ``shard_done``)."""
        await self._run(self._eval("sweep_done", [self._clock_key], str(day), str(request)))

    @_timed
    async def acquire_lease(self, owner: str, ttl_ms: int) -> bool:
        """Take the deployment's sweep lease (building the index) if nobody holds it (or
        renew it if we do)."""
        key = self._lease_key(None)
        if await self._run(self._eval("lease", [key], owner, str(ttl_ms))):
            return True
        return bool(await self._run(self._client.set(key, owner, nx=True, px=ttl_ms)))

    @_timed
    async def renew_lease(self, owner: str, ttl_ms: int) -> bool:
        """Extend the deployment's sweep lease if we still hold it; False if it moved."""
        return bool(
            await self._run(self._eval("lease", [self._lease_key(None)], owner, str(ttl_ms)))
        )

    @_timed
    async def release_lease(self, owner: str) -> None:
        await self._run(self._eval("lease", [self._lease_key(None)], owner, "0"))

    @_timed
    async def shard_records(self) -> dict[int, bytes | None]:
        """Each index shard's last sweep record ``"<day>|<request>"``: one round trip."""
        pipe = self._client.pipeline(transaction=False)
        for shard in range(index.SHARDS):
            pipe.get(f"{self._shard_key(shard)}:swept")
        return dict(enumerate(await self._run(pipe.execute())))

    @_timed
    async def take_shards(
        self, owner: str, ttl_ms: int, shards: Sequence[int], day: int, request: int
    ) -> dict[int, str]:
        """Try to take each shard's lease for the sweep as of ``day`` answering ``request``
        (``shard_take.lua``): per shard "taken", "busy" (another sweeper's) or "done"
        (covered already, or empty and recorded so): one round trip."""
        pipe = self._client.pipeline(transaction=False)
        for shard in shards:
            base = self._shard_key(shard)
            keys = [self._lease_key(shard), f"{base}:swept", base]
            self._evalsha(pipe, "shard_take", keys, owner, str(ttl_ms), str(day), str(request))
        replies = await self._run(pipe.execute())
        names = {0: "busy", 1: "taken", 2: "done"}
        return {shard: names[int(r)] for shard, r in zip(shards, replies, strict=True)}

    @_timed
    async def renew_shards(self, owner: str, ttl_ms: int, shards: Sequence[int]) -> bool:
        """Extend our leases of ``shards``; False if any expired or moved."""
        pipe = self._client.pipeline(transaction=False)
        for shard in shards:
            self._evalsha(pipe, "lease", [self._lease_key(shard)], owner, str(ttl_ms))
        return all(await self._run(pipe.execute()))

    @_timed
    async def shards_done(
        self, owner: str, shards: Sequence[int], day: int, request: int
    ) -> list[int]:
        """Record that the sweep covered ``shards`` and release them (``shard_done.lua``):
        the shards recorded; one whose lease moved is not."""
        pipe = self._client.pipeline(transaction=False)
        for shard in shards:
            keys = [self._lease_key(shard), f"{self._shard_key(shard)}:swept"]
            self._evalsha(pipe, "shard_done", keys, owner, str(day), str(request))
        replies = await self._run(pipe.execute())
        return [shard for shard, r in zip(shards, replies, strict=True) if r]

    @_timed
    async def release_shards(self, owner: str, shards: Sequence[int]) -> None:
        """Let go of our leases of ``shards`` (a sweep that stopped)."""
        pipe = self._client.pipeline(transaction=False)
        for shard in shards:
            self._evalsha(pipe, "lease", [self._lease_key(shard)], owner, "0")
        await self._run(pipe.execute())

    @_timed
    async def sweep_snapshots(
        self, keys: Sequence[EntityKey], as_of_day: int
    ) -> dict[EntityKey, Snapshot]:
        """``snapshots`` of index members; members whose hash is gone (idle past the
        entity TTL) are left out and removed from the index (``streams.store.index``)."""
        if not keys:
            return {}
        replies = await self._read(keys, as_of_day)
        gone = [k for k, r in zip(keys, replies, strict=True) if not r[6]]
        if gone:
            await self._forget(gone)
        return {
            key: snapshot(key, as_of_day, reply)
            for key, reply in zip(keys, replies, strict=True)
            if reply[6]
        }

    async def _forget(self, keys: Sequence[EntityKey]) -> None:
        """Remove members whose hash was gone, then add back any that exists again (an
        entity created meanwhile): the removal never wins over a creation."""
        names = [index.member(k) for k in keys]
        pipe = self._client.pipeline(transaction=False)
        for name in names:
            pipe.srem(self._shard_key(index.shard_of(name)), name)
        await self._run(pipe.execute())
        pipe = self._client.pipeline(transaction=False)
        for entity_type, entity_id in keys:
            pipe.exists(self.entity_key(entity_type, entity_id))
        back = [n for n, e in zip(names, await self._run(pipe.execute()), strict=True) if e]
        await self._list(back)

    # --- the entity index -------------------------------------------------------------------

    async def flush_index(self) -> None:
        """Add once more the entities this process created since its last batch
        (``streams.store.index``); the day-close timer calls it every second."""
        if not self._relist:
            return
        names = sorted(self._relist)
        await self._list(names)
        self._relist.difference_update(names)

    async def shard_members(
        self, shards: Sequence[int], count: int
    ) -> AsyncIterator[list[EntityKey]]:
        """The members of ``shards``, a page at a time: one pipelined SSCAN of every shard
        not finished yet, about ``count`` members each (an entity added or removed
        meanwhile may be listed or not; every other one is, once or more)."""
        cursors = dict.fromkeys(shards, 0)
        while cursors:
            pipe = self._client.pipeline(transaction=False)
            for shard, cursor in cursors.items():
                pipe.sscan(self._shard_key(shard), cursor, count=count)
            replies = await self._run(pipe.execute())
            page: list[EntityKey] = []
            for shard, (cursor, raw) in zip(list(cursors), replies, strict=True):
                page.extend(index.entity(m) for m in raw)
                if cursor:
                    cursors[shard] = cursor
                else:
                    del cursors[shard]
            if page:
                yield page

    async def entities(self) -> AsyncIterator[EntityKey]:
        """Every (entity_type, entity_id) with a windows hash, from the entity index; each
        once, order unspecified."""
        await self.flush_index()
        for shard in range(index.SHARDS):
            seen: set[EntityKey] = set()
            async for chunk in self.shard_members([shard], 1000):
                chunk = [k for k in dict.fromkeys(chunk) if k not in seen and k[0] in COUNTERS]
                seen.update(chunk)
                pipe = self._client.pipeline(transaction=False)
                for key in chunk:
                    pipe.exists(self.entity_key(*key))
                for key, exists in zip(chunk, await self._run(pipe.execute()), strict=True):
                    if exists:
                        yield key

    async def build_index(self, progress: Callable[[int], Awaitable[None]] | None = None) -> int:
        """List every entity hash in the index (a deployment older than the index): one
        SCAN of the keyspace; then the clock records the index as built. How many found."""
        found = 0
        names: list[str] = []
        async for raw in self._scan(f"{self._prefix}:{{*}}"):
            entity_type, entity_id = index.entity(raw.decode()[len(self._prefix) + 2 : -1])
            if entity_type in COUNTERS:
                names.append(index.member((entity_type, entity_id)))
            if len(names) >= 1000:
                found += await self._list(names)
                names = []
                if progress is not None:
                    await progress(found)
        found += await self._list(names)
        await self._run(self._client.hset(self._clock_key, "ix", index.VERSION))
        return found

    async def _list(self, names: Sequence[str]) -> int:
        """Add ``names`` to the index in one round trip (none if empty); how many."""
        if names:
            pipe = self._client.pipeline(transaction=False)
            self._add_to_index(pipe, names)
            await self._run(pipe.execute())
        return len(names)

    async def marker_bytes(self) -> int:
        """Bytes Redis reports for every dedupe marker key (``MEMORY USAGE``; a SCAN of
        the keyspace: a diagnostic for benchmarks, never on the hot path)."""
        total = 0
        async for key in self._scan(f"{self._prefix}:{{dd:*"):
            used: Any = await self._run(self._client.memory_usage(key, samples=0))
            total += int(used or 0)
        return total

    async def memory_usage(self, entity_type: str, entity_id: str) -> int:
        """Bytes Redis reports for one entity's windows hash (``MEMORY USAGE``)."""
        key = self.entity_key(entity_type, entity_id)
        used: Any = await self._run(self._client.memory_usage(key, samples=0))
        return int(used or 0)

    # --- plumbing -------------------------------------------------------------------------

    def _evalsha(self, pipe: Any, script: str, keys: list[str], *args: Any) -> None:
        pipe.execute_command("EVALSHA", self._shas[script], len(keys), *keys, *args)

    def _eval(self, script: str, keys: list[str], *args: Any) -> Awaitable[Any]:
        sha = self._shas[script]
        return self._client.execute_command("EVALSHA", sha, len(keys), *keys, *args)

    async def _run(self, call: Awaitable[T]) -> T:
        """Bound the call's time (``RedisSettings.call_timeout_s``) and translate its errors;
        after a server restart, reload the scripts for the retry."""
        try:
            return await connection.guarded(call, self._call_timeout_s)
        except ScriptsMissing:
            scripts = connection.load_scripts(self._client)
            self._shas = await connection.guarded(scripts, self._call_timeout_s)
            raise

    async def _scan(self, match: str) -> AsyncIterator[bytes]:
        """The keys matching ``match`` (SCAN, 1,000 a step), each step a call of its own."""
        keys = self._client.scan_iter(match=match, count=1000)
        while True:
            try:
                yield await self._run(anext(keys))
            except StopAsyncIteration:
                return


def _rewinds(
    groups: Iterable[EntityBatch], replies: Sequence[Any], first_seen: set[int]
) -> dict[tuple[str, int], Rewind]:
    """Skipped events that no live marker vouches for as redeliveries, per partition."""
    offsets: dict[tuple[str, int], set[int]] = {}
    marks: dict[tuple[str, int], int] = {}
    for group, reply in zip(groups, replies, strict=True):
        skipped = reply[5] or []
        for i, mark in zip(skipped[::2], skipped[1::2], strict=True):
            s = group.sources[int(i) - 1]
            if id(s) in first_seen:
                where = (s.topic, s.partition)
                offsets.setdefault(where, set()).add(s.offset)
                marks[where] = max(marks.get(where, -1), int(mark))
    return {w: Rewind(len(o), min(o), marks[w]) for w, o in offsets.items()}


def outbox_shard(member: str) -> int:
    """The index shard of an entity ``"<type>:<id>"`` (stable across processes)."""
    return zlib.crc32(member.encode()) % OUTBOX_SHARDS


def _due(flat: list[Any]) -> list[tuple[EntityKey, bytes]]:
    members = [m.decode().partition(":") for m in flat[::2]]
    return [((t, i), score) for (t, _, i), score in zip(members, flat[1::2], strict=True)]


def _claim(reply: list[Any]) -> Claim:
    action = reply[0].decode()
    if action == "wait":
        return Claim(action, wait_ms=int(reply[1]))
    if action == "done":
        return Claim(action)
    return Claim(action, int(reply[1]), messages.unpack(reply[2]) if reply[2] else None)


def _max_opt(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else max(a, b)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
