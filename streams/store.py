"""The window store: Vane's only module that talks to Redis.

Per entity (shop, product, creator, category) one hash keeps, per anchor day
(SCORING.md §1), the integer counters of ``models.counting`` as a packed row,
the latest-value registers of products, and, per source partition, the offset
of the last event applied (see ``lua/apply.lua`` for the field layout).

Key layout (cluster-safe: every key of one entity shares one hash tag; ids
cannot contain ``{`` or ``}``, so no id can reach another entity's slot):

    <prefix>:{shop:S1}          the entity's windows hash
    <prefix>:{ev:EVENT_ID}      dedupe marker: "<stream>:<partition>:<offset>", expires
    <prefix>:{clock}            the deployment's stream time

Exactly-once effect on at-least-once delivery, per batch, in two round trips:
1. one pipeline of ``SET marker NX GET`` per event: a marker that already holds
   another position means an upstream duplicate (same event_id, other offset),
   dropped; our own position means a redelivery, let through;
2. one pipeline of one Lua call per touched entity, which applies the entity's
   events whose offset is above its partition watermark and moves the watermark
   in the same atomic call (a redelivered batch is skipped there), then returns
   the entity's totals for every horizon; plus one call advancing stream time.
"""

from __future__ import annotations

import asyncio
import importlib.resources
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions as redis_errors
from redis.asyncio.cluster import RedisCluster

from models.counting import COUNTERS, REGISTERS, contributions
from models.windows import HORIZONS, REGISTER_WINDOW_DAYS, EntityWindows
from streams import codec
from streams.contract import SourcedEvent, Stream, anchor_day
from streams.errors import StoreUnavailable
from streams.settings import RedisSettings

LONGEST_DAYS = max(HORIZONS)
TOO_LATE_DAYS = 90  # SCORING.md §1: an anchor day older than this before the as-of day
DAY_MS = 86_400_000
STREAM_CODE = {
    Stream.ORDERS: "O",
    Stream.SHIPPING: "S",
    Stream.REFUNDS: "R",
    Stream.LIVESTREAM: "L",
}

Client = aioredis.Redis | RedisCluster


def day_of(ts_ms: int) -> int:
    """The UTC+08:00 calendar day of an epoch-ms time (SCORING.md §1)."""
    return anchor_day(ts_ms)


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What one batch did to the store."""

    too_late: list[int]  # indexes into the batch: rejected, nothing applied
    duplicates: int  # upstream duplicates dropped (same event_id, another offset)
    applied: int  # entity updates applied (an event touches up to four entities)
    skipped: int  # entity updates skipped as already applied (redelivery)
    entities: dict[tuple[str, str], EntityWindows]
    stream_time_ms: int | None
    round_trips: int


@dataclass(slots=True)
class _EntityBatch:
    entity_type: str
    entity_id: str
    events: list[list[Any]] = field(default_factory=list)


def _script(name: str) -> str:
    return (importlib.resources.files("streams") / "lua" / name).read_text()


class WindowStore:
    """Rolling per-day windows in Redis (standalone or cluster)."""

    APPLY = _script("apply.lua")
    CLOCK = _script("clock.lua")

    def __init__(self, client: Client, settings: RedisSettings) -> None:
        self._client = client
        self._prefix = settings.key_prefix
        self._dedupe_ms = int(settings.dedupe_horizon_s * 1000)
        self._ttl_ms = int(settings.entity_ttl_s * 1000)
        self._shas: dict[str, str] = {}
        self._stream_time_ms: int | None = None

    @classmethod
    async def connect(cls, settings: RedisSettings) -> WindowStore:
        """Connect (auto-detecting cluster mode), load the scripts, read stream time."""
        store = cls(await _client(settings), settings)
        await store._guard(store._load_scripts())
        store._stream_time_ms = await store.stream_time_ms()
        return store

    async def close(self) -> None:
        await self._client.aclose()

    # --- keys ---------------------------------------------------------------------------

    def entity_key(self, entity_type: str, entity_id: str) -> str:
        return f"{self._prefix}:{{{entity_type}:{entity_id}}}"

    def _marker_key(self, event_id: str) -> str:
        return f"{self._prefix}:{{ev:{event_id}}}"

    @property
    def _clock_key(self) -> str:
        return f"{self._prefix}:{{clock}}"

    # --- writes -------------------------------------------------------------------------

    async def apply(self, batch: Sequence[SourcedEvent]) -> ApplyResult:
        """Apply a validated batch; idempotent under redelivery of the same positions."""
        result: ApplyResult = await self._guard(self._apply(batch))
        return result

    async def _apply(self, batch: Sequence[SourcedEvent]) -> ApplyResult:
        batch_max = max((s.event.ts_ms for s in batch), default=None)
        now_ms = _max_opt(self._stream_time_ms, batch_max)
        as_of = day_of(now_ms) if now_ms is not None else 0
        too_late = [i for i, s in enumerate(batch) if _too_late(s, as_of)]
        late = set(too_late)
        fresh = [s for i, s in enumerate(batch) if i not in late]
        unique = await self._drop_upstream_duplicates(fresh)
        groups = _group_by_entity(unique)
        replies = await self._apply_groups(groups, as_of, batch_max) if batch else []
        self._stream_time_ms = _max_opt(
            self._stream_time_ms, _int_or_none(replies[-1]) if replies else None
        )
        entities = {
            key: _aggregates(key[0], key[1], as_of, reply)
            for key, reply in zip(groups, replies, strict=False)
        }
        applied = sum(int(reply[0]) for reply in replies[:-1])
        offered = sum(len(group.events) for group in groups.values())
        return ApplyResult(
            too_late=too_late,
            duplicates=len(fresh) - len(unique),
            applied=applied,
            skipped=offered - applied,
            entities=entities,
            stream_time_ms=self._stream_time_ms,
            round_trips=int(bool(fresh)) + int(bool(batch)),
        )

    async def _drop_upstream_duplicates(self, events: list[SourcedEvent]) -> list[SourcedEvent]:
        if not events:
            return []
        pipe = self._client.pipeline(transaction=False)
        positions = [_position(s) for s in events]
        for s, position in zip(events, positions, strict=True):
            pipe.set(
                self._marker_key(s.event.event_id), position, nx=True, get=True, px=self._dedupe_ms
            )
        previous = await pipe.execute()
        return [
            s
            for s, position, before in zip(events, positions, previous, strict=True)
            if before is None or before.decode() == position
        ]

    async def _apply_groups(
        self, groups: dict[tuple[str, str], _EntityBatch], as_of: int, batch_max: int | None
    ) -> list[Any]:
        pipe = self._client.pipeline(transaction=False)
        for group in groups.values():
            args = self._apply_args(group.entity_type, group.events, as_of, self._ttl_ms)
            key = self.entity_key(group.entity_type, group.entity_id)
            pipe.execute_command("EVALSHA", self._shas["apply"], 1, key, args)
        stamp = "" if batch_max is None else str(batch_max)
        pipe.execute_command("EVALSHA", self._shas["clock"], 1, self._clock_key, stamp)
        return list(await pipe.execute())

    def _apply_args(
        self, entity_type: str, events: list[list[Any]], as_of: int, ttl_ms: int
    ) -> bytes:
        return codec.dumps(
            {
                "n": len(COUNTERS[entity_type]),
                "asof": as_of,
                "keep": as_of - LONGEST_DAYS + 1,
                "rkeep": as_of - REGISTER_WINDOW_DAYS + 1,
                "hz": HORIZONS,
                "ttl": ttl_ms,
                "ev": events,
            }
        )

    # --- reads --------------------------------------------------------------------------

    async def read(self, entity_type: str, entity_id: str, as_of_day: int) -> EntityWindows:
        """One entity's totals for every horizon as of a day, in one round trip."""
        args = self._apply_args(entity_type, [], as_of_day, 0)
        key = self.entity_key(entity_type, entity_id)
        reply = await self._guard(self._eval("apply", key, args))
        return _aggregates(entity_type, entity_id, as_of_day, reply)

    async def stream_time_ms(self) -> int | None:
        """The deployment's stream time (largest ts processed), or None before any."""
        return _int_or_none(await self._guard(self._eval("clock", self._clock_key, "")))

    async def entities(self) -> AsyncIterator[tuple[str, str]]:
        """Every (entity_type, entity_id) with a windows hash; order unspecified."""
        async for raw in self._client.scan_iter(match=f"{self._prefix}:{{*}}", count=1000):
            tag = raw.decode()[len(self._prefix) + 2 : -1]
            entity_type, _, entity_id = tag.partition(":")
            if entity_type in COUNTERS:
                yield entity_type, entity_id

    async def memory_usage(self, entity_type: str, entity_id: str) -> int:
        """Bytes Redis reports for one entity's hash (``MEMORY USAGE``)."""
        key = self.entity_key(entity_type, entity_id)
        return int(await self._client.memory_usage(key, samples=0) or 0)

    # --- plumbing -----------------------------------------------------------------------

    async def _load_scripts(self) -> None:
        for name, text in (("apply", self.APPLY), ("clock", self.CLOCK)):
            self._shas[name] = await _load_everywhere(self._client, text)

    async def _eval(self, name: str, key: str, arg: str | bytes) -> Any:
        return await self._client.execute_command("EVALSHA", self._shas[name], 1, key, arg)

    async def _guard(self, call: Any) -> Any:
        """Translate connection trouble; reload scripts once if the server lost them."""
        try:
            return await call
        except redis_errors.NoScriptError:
            await self._load_scripts()
            raise StoreUnavailable("scripts were missing (server restarted?); retry") from None
        except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
            raise StoreUnavailable(f"redis: {exc}") from exc
        except redis_errors.ClusterError as exc:
            raise StoreUnavailable(f"redis cluster: {exc}") from exc


async def _client(settings: RedisSettings) -> Client:
    """A standalone or cluster client, whichever the server at the URL is."""
    url = settings.url.reveal()
    options: dict[str, Any] = {"socket_timeout": 10, "socket_connect_timeout": 5}
    if settings.password is not None:
        options["password"] = settings.password.reveal()
    if settings.ssl_ca_file is not None:
        options["ssl_ca_certs"] = str(settings.ssl_ca_file)
    probe = aioredis.Redis.from_url(url, **options)
    try:
        info = await probe.info("cluster")
    except (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError) as exc:
        raise StoreUnavailable(f"cannot reach redis at {settings.describe_url()}: {exc}") from exc
    finally:
        await probe.aclose()
    if info.get("cluster_enabled"):
        return RedisCluster.from_url(url, **options)
    return aioredis.Redis.from_url(url, **options)


async def _load_everywhere(client: Client, text: str) -> str:
    if isinstance(client, RedisCluster):
        await client.initialize()
        nodes = client.get_primaries()
        loads = (client.execute_command("SCRIPT", "LOAD", text, target_nodes=n) for n in nodes)
        shas = {
            str(sha.decode() if isinstance(sha, bytes) else sha)
            for sha in await asyncio.gather(*loads)
        }
        assert len(shas) == 1, shas
        return shas.pop()
    return str(await client.script_load(text))


def _position(s: SourcedEvent) -> str:
    return f"{STREAM_CODE[s.event.stream]}:{s.partition}:{s.offset}"


def _too_late(s: SourcedEvent, as_of: int) -> bool:
    return day_of(s.event.anchor_ms) < as_of - TOO_LATE_DAYS


def _group_by_entity(events: Iterable[SourcedEvent]) -> dict[tuple[str, str], _EntityBatch]:
    groups: dict[tuple[str, str], _EntityBatch] = {}
    ordered = sorted(events, key=lambda s: (s.event.stream, s.partition, s.offset))
    for s in ordered:
        watermark = f"o{STREAM_CODE[s.event.stream]}{s.partition}"
        day = day_of(s.event.anchor_ms)
        for c in contributions(s.event.type, s.event.body):
            group = groups.setdefault(
                (c.entity_type, c.entity_id), _EntityBatch(c.entity_type, c.entity_id)
            )
            group.events.append(
                [watermark, str(s.offset), day, _counts(c.entity_type, c.counts), _registers(c, s)]
            )
    return groups


def _counts(entity_type: str, counts: dict[str, int]) -> list[int]:
    index = _COUNTER_INDEX[entity_type]
    return [x for name, delta in counts.items() for x in (index[name], delta)]


def _registers(c: Any, s: SourcedEvent) -> list[Any]:
    index = _REGISTER_INDEX.get(c.entity_type, {})
    out: list[Any] = []
    for name, value in c.registers.items():
        out += [index[name], str(s.event.ts_ms), s.event.event_id, value]
    return out


_COUNTER_INDEX = {
    t: {name: i + 1 for i, name in enumerate(names)} for t, names in COUNTERS.items()
}
_REGISTER_INDEX = {
    t: {name: i + 1 for i, name in enumerate(names)} for t, names in REGISTERS.items()
}


def _aggregates(
    entity_type: str, entity_id: str, as_of_day: int, reply: list[Any]
) -> EntityWindows:
    names = COUNTERS[entity_type]
    n = len(names)
    totals = {
        horizon: dict(zip(names, reply[1 + h * n : 1 + (h + 1) * n], strict=True))
        for h, horizon in enumerate(HORIZONS)
    }
    registers = REGISTERS.get(entity_type, ())
    tail = reply[1 + len(HORIZONS) * n :]
    latest = {registers[int(tail[i]) - 1]: int(tail[i + 1]) for i in range(0, len(tail), 2)}
    return EntityWindows(entity_type, entity_id, as_of_day, totals, latest)


def _max_opt(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    return a if b is None else max(a, b)


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)
