"""Upstream-duplicate markers, packed: about 15 bytes of Redis per event, one call per tag.

A marker says "this event_id was first seen at this position" for the dedupe
horizon (``streams.semantics``: the same id at another position is an upstream
duplicate; at the same position, a redelivery). Instead of one key per event
(~100 bytes), each marker is one field of a small hash: a 6-byte fingerprint of
the event_id (field) and a 24-bit digest of its position (value), in hashes per
tag, time slice and sub-bucket (``lua/dedupe.lua``). A batch costs one script
call per tag (``TAGS`` hash slots), all in one pipeline.

What the fingerprints cost in certainty, per event (docs/semantics.md): two ids
are confused (the later one dropped) only when they share tag, sub-bucket and
48-bit fingerprint: about 2 in 10^12 events, some five live slices of ~120
markers each looked up against 2^48; a duplicate is taken for a redelivery only
when two positions share a 24-bit digest (one in 1.7 x 10^7 duplicates), and
then the entity's watermark still skips it unless it sits above every offset
applied before.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

TAGS = 16  # hash slots of the markers: one script call each per batch
RECORD = 18  # bytes per event in the script's argument (lua/dedupe.lua)
FIRST, REDELIVERY, DUPLICATE = "0", "1", "2"


@dataclass(frozen=True, slots=True)
class Lookups:
    """One batch's markers, grouped by tag: the script's arguments and how to read back."""

    records: dict[int, bytearray]  # tag -> 18-byte records in batch order
    order: list[tuple[int, int]]  # per event: (tag, index within the tag)


def marker(event_id: str, position: str) -> tuple[int, bytes]:
    """(tag, 18-byte record) of one event: sub-bucket hash, fingerprint, position digest."""
    digest = hashlib.blake2b(event_id.encode(), digest_size=10).digest()
    where = int.from_bytes(hashlib.blake2b(position.encode(), digest_size=3).digest())
    return digest[0] % TAGS, digest + b"%08d" % where  # decimal: a 3-byte listpack integer


def lookups(events: Sequence[tuple[str, str]]) -> Lookups:
    """Group (event_id, position) pairs by tag, keeping batch order within each tag."""
    records: dict[int, bytearray] = {}
    order: list[tuple[int, int]] = []
    for event_id, position in events:
        tag, record = marker(event_id, position)
        packed = records.setdefault(tag, bytearray())
        order.append((tag, len(packed) // RECORD))
        packed += record
    return Lookups(records, order)


def statuses(found: Lookups, replies: dict[int, bytes]) -> list[str]:
    """Per event, in batch order: ``FIRST``, ``REDELIVERY`` or ``DUPLICATE``."""
    text = {tag: reply.decode() for tag, reply in replies.items()}
    return [text[tag][i] for tag, i in found.order]
