"""Lua arguments and replies of the window store: pure data shuffling, no I/O."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from models.counting import COUNTERS, LABELS, REGISTERS, Contribution, contributions
from models.windows import HORIZONS, REGISTER_WINDOW_DAYS, SUM_CAP, EntityWindows, FlatTotals
from streams import codec
from streams.events import EntityKey, Event, SourcedEvent, Stream, anchor_day

LONGEST_DAYS = max(HORIZONS)
SUMS_MIN_ROWS = 8  # day rows from which apply.lua keeps running sums (its field "c")
SUMS_PIECE = 48  # bytes of sums per field: a value over 64 bytes would end the listpack
STREAM_CODE = {
    Stream.ORDERS: "O",
    Stream.SHIPPING: "S",
    Stream.REFUNDS: "R",
    Stream.LIVESTREAM: "L",
}
_COUNTER_INDEX = {t: {n: i + 1 for i, n in enumerate(names)} for t, names in COUNTERS.items()}
_REGISTER_INDEX = {t: {n: i + 1 for i, n in enumerate(names)} for t, names in REGISTERS.items()}


def day_of(ts_ms: int) -> int:
    """The UTC+08:00 calendar day of an epoch-ms time (SCORING.md §1)."""
    return anchor_day(ts_ms)


@dataclass(frozen=True, slots=True)
class PublishedState:
    """An entity's state hash: last committed seq and state, and its outbox entry."""

    seq: int = 0
    state: dict[str, Any] | None = None  # None: never published
    pending: bytes | None = None  # set while the committed message is not yet marked published
    pending_since_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What scoring needs of one entity: its windows, labels and published state."""

    windows: EntityWindows
    labels: dict[str, str]
    published: PublishedState


@dataclass(slots=True)
class EntityBatch:
    """One entity's share of a batch, in offset order, as Lua arguments.

    ``sources[i]`` is the event behind ``events[i]``; ``counted`` how many of them
    count (the others are upstream duplicates that only move a watermark);
    ``adopt`` maps a watermark field to the field written before watermarks named
    their topic, which it takes over (see ``watermark_field``).
    """

    entity_type: str
    entity_id: str
    events: list[list[Any]] = field(default_factory=list)
    sources: list[SourcedEvent] = field(default_factory=list)
    adopt: dict[str, str] = field(default_factory=dict)
    counted: int = 0
    last_event_id: str = ""


def position(s: SourcedEvent) -> str:
    return f"{STREAM_CODE[s.event.stream]}:{s.partition}:{s.offset}"


def watermark_field(s: SourcedEvent) -> str:
    """The hash field holding the last offset applied from the event's topic and partition.

    ``o<S><p>:<tag>``: the tag is 8 hex digits of a hash of the topic's identity, its
    name and its generation (``VANE_TOPIC_GENERATION``), so that a renamed topic, or a
    recreated one whose generation was bumped, starts from no watermark instead of
    having its new offsets skipped as old ones (docs/operations.md).
    """
    return topic_watermark_field(s.event.stream, s.partition, s.topic, s.generation)


@functools.lru_cache(maxsize=4096)  # a worker sees few (topic, partition) pairs
def topic_watermark_field(stream: Stream, partition: int, topic: str, generation: int) -> str:
    """``watermark_field`` of an event of ``stream`` read from ``topic`` at ``partition``."""
    identity = f"{topic}\x00{generation}".encode()
    tag = hashlib.blake2b(identity, digest_size=4).hexdigest()
    return f"{_partition_field(stream, partition)}:{tag}"


def legacy_watermark_field(s: SourcedEvent) -> str:
    """The field of the versions before topic identity: stream and partition only.

    Generation 0 takes it over on first use (an upgrade keeps the topics): see
    docs/operations.md for the one rule this needs.
    """
    return _partition_field(s.event.stream, s.partition)


def _partition_field(stream: Stream, partition: int) -> str:
    return f"o{STREAM_CODE[stream]}{partition}"


def group_by_entity(
    counted: Iterable[SourcedEvent], dropped: Iterable[SourcedEvent] = ()
) -> dict[EntityKey, EntityBatch]:
    """Each entity's contributions, ordered by (stream, partition, offset).

    ``dropped`` (upstream duplicates) contribute nothing but still move the watermark
    of their partition on the entities they name.
    """
    tagged = [(s, False) for s in counted] + [(s, True) for s in dropped]
    tagged.sort(key=_in_offset_order)
    groups: dict[EntityKey, EntityBatch] = {}
    no_changes: tuple[list[Any], ...] = ([], [], [])  # only serialised, never changed
    for s, duplicate in tagged:
        event = s.event
        watermark = watermark_field(s)
        offset, day = str(s.offset), day_of(event.anchor_ms)
        legacy = legacy_watermark_field(s) if s.generation == 0 else None
        for c in contributions(event.type, event.body):
            key = (c.entity_type, c.entity_id)
            group = groups.get(key)
            if group is None:
                group = groups[key] = EntityBatch(c.entity_type, c.entity_id)
            changes = no_changes if duplicate else _changes(c, event)
            group.events.append([watermark, offset, day, *changes, duplicate])
            group.sources.append(s)
            if legacy is not None:
                group.adopt[watermark] = legacy
            if not duplicate:
                group.counted += 1
                group.last_event_id = event.event_id
    return groups


def _in_offset_order(tagged: tuple[SourcedEvent, bool]) -> tuple[Stream, int, int]:
    s = tagged[0]
    return s.event.stream, s.partition, s.offset


def mark_duplicates(groups: dict[EntityKey, EntityBatch], duplicates: set[int]) -> None:
    """Turn the events whose ``id`` is in ``duplicates`` into upstream duplicates, in
    groups built before they were known (``group_by_entity(counted)``): the same as
    passing them as ``dropped``."""
    if not duplicates:
        return
    for group in groups.values():
        marked = [i for i, s in enumerate(group.sources) if id(s) in duplicates]
        for i in marked:
            group.events[i][3:] = [[], [], [], True]
        if marked:
            counted = [s for s in group.sources if id(s) not in duplicates]
            group.counted = len(counted)
            group.last_event_id = counted[-1].event.event_id if counted else ""


def _changes(c: Contribution, event: Event) -> tuple[list[Any], list[Any], list[Any]]:
    index = _COUNTER_INDEX[c.entity_type]
    counts: list[Any] = []
    for name, delta in c.counts.items():
        counts += (index[name], delta)
    if not (c.registers or c.labels):  # most contributions
        return counts, [], []
    ts, eid = str(event.ts_ms), event.event_id
    reg_index = _REGISTER_INDEX.get(c.entity_type, {})
    regs = [x for n, v in c.registers.items() for x in (reg_index[n], ts, eid, v)]
    labels = [x for n, text in c.labels.items() for x in (n, ts, eid, text)]
    return counts, regs, labels


@dataclass(frozen=True, slots=True)
class Preload:
    """One entity's pre-summed history, for ``WindowStore.preload`` (benchmarks, tests).

    ``days``: day -> counter -> sum; ``registers``: name -> (ts_ms, value);
    ``labels``: name -> text; ``watermarks``: the watermark fields it was reached from
    (``watermark_field``), each left at some offset."""

    entity_type: str
    entity_id: str
    days: Mapping[int, Mapping[str, int]]
    registers: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    watermarks: Sequence[str] = ("oO0:00000000",)


def preload_fields(e: Preload, as_of_day: int) -> dict[str, bytes]:
    """The windows hash ``apply.lua`` leaves after one event a day (on the watermarks in
    turn; registers and labels with the last, ts as given, event id "p"): day rows as
    unsigned LEB128 varints (trailing zeros trimmed), "m", watermarks, registers, labels."""
    names = COUNTERS[e.entity_type]
    days = sorted(d for d in e.days if d >= as_of_day - LONGEST_DAYS)
    out = {str(d): _row(tuple(e.days[d].get(n, 0) for n in names)) for d in days}
    if days:
        out["m"] = str(days[0]).encode()
    within = [d for d in days if d <= as_of_day]
    if len(within) >= SUMS_MIN_ROWS:  # apply.lua's running sums as of the day ("c")
        sums = [0] * (len(names) * len(HORIZONS))
        for h, horizon in enumerate(HORIZONS):
            for d in within:
                if as_of_day - horizon < d < as_of_day:
                    for i, name in enumerate(names):
                        sums[h * len(names) + i] += e.days[d].get(name, 0)
        packed = _row(tuple(sums))
        pieces = [packed[i : i + SUMS_PIECE] for i in range(0, len(packed), SUMS_PIECE)] or [b""]
        out["c"] = f"{as_of_day}|{len(pieces)}|".encode() + pieces[0]
        out |= {f"c{i}": piece for i, piece in enumerate(pieces[1:], 2)}
    for k, mark in enumerate(e.watermarks[: len(days)]):  # the days go round the marks
        out[mark] = str(len(range(k, len(days), len(e.watermarks)))).encode()
    last = days[-1] if days else None
    register = REGISTERS.get(e.entity_type, ())
    if last is not None and last >= as_of_day - REGISTER_WINDOW_DAYS + 1:
        for name, (ts, value) in e.registers.items():
            out[f"r{register.index(name) + 1}"] = f"{ts}|p|{value}|{last}".encode()
    if last is not None:
        for name, text in e.labels.items():
            out[f"L{name}"] = f"0|p|{text}".encode()
    return out


@functools.lru_cache(maxsize=1 << 16)
def _row(values: tuple[int, ...]) -> bytes:
    """A day row as ``apply.lua`` encodes it (capped at ``SUM_CAP``, zeros trimmed)."""
    trimmed = [min(v, SUM_CAP) for v in values]
    while trimmed and not trimmed[-1]:
        trimmed.pop()
    return b"".join(_varint(v) for v in trimmed)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | 0x80 if value else byte)
        if not value:
            return bytes(out)


def apply_args(
    entity_type: str,
    events: list[list[Any]],
    as_of_day: int,
    ttl_ms: int,
    adopt: dict[str, str] | None = None,
) -> bytes:
    """The JSON argument of ``apply.lua``."""
    return codec.dumps(
        {
            "adopt": adopt or {},
            "cap": SUM_CAP,
            "n": len(COUNTERS[entity_type]),
            "asof": as_of_day,
            # yesterday's longest window (the v2 reference) reaches back to d - LONGEST_DAYS
            "keep": as_of_day - LONGEST_DAYS,
            "rkeep": as_of_day - REGISTER_WINDOW_DAYS + 1,
            "hz": HORIZONS,
            "ttl": ttl_ms,
            "ev": events,
            "nr": len(REGISTERS.get(entity_type, ())),
            "ln": LABELS.get(entity_type, ()),
            "cmin": SUMS_MIN_ROWS,
        }
    )


def snapshot(key: EntityKey, as_of_day: int, reply: list[Any]) -> Snapshot:
    """Parse ``apply.lua``'s reply: {applied, totals, registers, labels, state, skipped}."""
    entity_type, entity_id = key
    flat, regs, texts, state = reply[1:5]
    names = COUNTERS[entity_type]
    if len(flat) != 2 * len(names) * len(HORIZONS):
        raise ValueError(f"apply.lua returned {len(flat)} totals for a {entity_type}")
    reg_names = REGISTERS.get(entity_type, ())
    latest = {reg_names[int(regs[i]) - 1]: int(regs[i + 1]) for i in range(0, len(regs), 2)}
    labels = {_text(texts[i]): _text(texts[i + 1]) for i in range(0, len(texts), 2)}
    half = len(flat) // 2  # as of d, then as of d - 1: len(names) per horizon
    today, yesterday = tuple(flat[:half]), tuple(flat[half:])
    windows = EntityWindows(
        entity_type,
        entity_id,
        as_of_day,
        FlatTotals(today, names),
        latest,
        FlatTotals(yesterday, names),
        totals_key=today,  # the score memo's keys: the counts, in counter order
        previous_key=yesterday,
    )
    return Snapshot(windows, labels, _published(state))


STATE_FIELDS = ("tier", "weight", "boost", "score", "display")


def state_text(state: dict[str, Any]) -> bytes:
    """The state hash's "s": the published state as a JSON array in ``STATE_FIELDS``
    order (about 30 bytes: it must fit a listpack entry, ``streams.store.messages``)."""
    return codec.dumps([state.get(name) for name in STATE_FIELDS])


def _state(text: bytes) -> dict[str, Any]:
    """``state_text`` read back; an older Vane stored a JSON object."""
    value = codec.loads(text)
    return dict(zip(STATE_FIELDS, value, strict=True)) if isinstance(value, list) else value


def _published(fields: list[Any]) -> PublishedState:
    seq, state, pending, since = fields
    return PublishedState(
        seq=int(seq or 0),
        state=_state(state) if state else None,
        pending=pending or None,
        pending_since_ms=int(since) if since else None,
    )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
