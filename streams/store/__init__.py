"""The window store: the one place that talks to Redis.

Per entity (shop, product, creator, category) a windows hash keeps, per anchor
day (SCORING.md §1), the integer counters of ``models.counting`` as a packed
row, the latest-value registers and labels, and, per source partition, the
offset of the last event applied; a state hash keeps the entity's last
published state, its message seq and the outbox (``lua/*.lua`` document the
fields), its last message deflated in pieces (``messages``) so that the hash stays
a listpack.

Key layout (cluster-safe: every key of one entity shares one hash tag; ids
cannot contain ``{`` or ``}``, so no id can reach another entity's slot):

    <prefix>:{shop:S1}          windows hash (expires after the idle TTL)
    <prefix>:{shop:S1}:st       state hash: seq, published state, outbox (kept)
    <prefix>:{dd:T}:<slice>:<n> dedupe markers of tag T (0-15): fingerprint -> position digest
    <prefix>:{dd:T}:m           the tag's slices: sub-bucket counts and sizes (``dedupe``)
    <prefix>:{outbox:N}         outbox index shard N (0-15): entities to look at, by due time
    <prefix>:{clock}            stream time, last swept day, sweep requests
    <prefix>:{clock}:lease      the day-close sweep's lease

Exactly-once effect on at-least-once delivery, per batch, in two round trips:
1. one pipeline of one ``dedupe.lua`` call per marker tag (16 at most): a marker
   that already holds another position means an upstream duplicate (same
   event_id, other offset), dropped; our own position means a redelivery, let
   through (``streams.store.dedupe``: ~15 bytes per marker by MEMORY USAGE);
2. one pipeline of one Lua call per touched entity, which applies the entity's
   events whose offset is above its partition watermark and moves the watermark
   in the same atomic call (a redelivered batch is skipped there), then returns
   the entity's totals for every horizon and its published state; plus one
   call advancing stream time.

Modules: ``connection`` (the redis client, scripts, error translation: the
only importer of redis), ``encoding`` (Lua arguments and replies, pure),
``dedupe`` (the markers' packing, pure), ``messages`` (the stored weight
message, pure), ``index`` (the entity index), ``window_store`` (the ``WindowStore`` API).
"""

from streams.store.encoding import STREAM_CODE, PublishedState, Snapshot, day_of
from streams.store.window_store import (
    OUTBOX_SHARDS,
    TAKEOVER_AFTER_MS,
    ApplyResult,
    Claim,
    Commit,
    Rewind,
    Sent,
    SweepStatus,
    WindowStore,
)

__all__ = [
    "OUTBOX_SHARDS",
    "STREAM_CODE",
    "TAKEOVER_AFTER_MS",
    "ApplyResult",
    "Claim",
    "Commit",
    "PublishedState",
    "Rewind",
    "Sent",
    "Snapshot",
    "SweepStatus",
    "WindowStore",
    "day_of",
]
