"""The entity index: which entities have a windows hash, in shards a sweep can share.

Every entity's windows hash ``<prefix>:{<type>:<id>}`` is listed as ``"<type>:<id>"``
in one of ``SHARDS`` sets ``<prefix>:{entities:N}`` (N = CRC-32 of the member mod
``SHARDS``), so that listing entities never scans the keyspace (dedupe markers,
state hashes, the outbox), and so that N sweepers can each take whole shards, each
shard with its own lease ``<prefix>:{entities:N}:lease`` and its own record of the
last sweep it took part in, ``<prefix>:{entities:N}:swept``.

How a member gets in, and why it never goes missing (``WindowStore``):

- the dedupe pipeline of a batch (its first round trip) adds every entity the batch
  names that this process has not added yet (a bounded cache), before the scripts
  create or touch its hash: a new entity is listed as soon as it exists;
- ``apply.lua`` says whether the hash existed before the call; an entity it created
  is added once more in a later round trip (the next batch's dedupe pipeline, or
  the day-close timer within a second), so that a removal racing with the creation
  cannot win;
- a sweep that finds a member's hash gone (idle past ``VANE_REDIS_ENTITY_TTL_S``) removes
  the member, then looks at the hash again and adds it back if it exists now.

The last change to a member is then either an add, or a removal followed by a look
that found no hash (and whoever creates it later adds it after creating it).
A deployment older than the index builds it once, with a SCAN, under the sweep's
deployment lease (clock field ``ix``).
"""

from __future__ import annotations

import zlib

from streams.events import EntityKey

SHARDS = 64
VERSION = "1"  # the clock's "ix" once every entity hash is listed
CACHE_LIMIT = 500_000  # members this process knows it added; cleared when full


def member(key: EntityKey) -> str:
    """``"<type>:<id>"``, the index's name of an entity."""
    return f"{key[0]}:{key[1]}"


def entity(raw: bytes | str) -> EntityKey:
    text = raw.decode() if isinstance(raw, bytes) else raw
    entity_type, _, entity_id = text.partition(":")
    return entity_type, entity_id


def shard_of(name: str) -> int:
    """The shard of a member (stable across processes and versions)."""
    return zlib.crc32(name.encode()) % SHARDS


def swept(record: bytes | str | None, day: int, request: int) -> bool:
    """Has a shard record ``"<day>|<request>"`` covered a sweep as of ``day`` answering
    ``request``? A later day covers every request made before it was swept."""
    if record is None:
        return False
    text = record.decode() if isinstance(record, bytes) else record
    done_day, _, done_request = text.partition("|")
    return int(done_day) > day or (int(done_day) == day and int(done_request) >= request)
