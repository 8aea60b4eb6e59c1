"""A weight message as the state hash keeps it: deflated, in listpack-sized pieces.

Every published entity keeps its last message (``commit.lua``'s "m" fields): a
publisher whose send turned out stale re-sends it, byte for byte. As JSON it is
about 600 bytes, and one hash value over ``hash-max-listpack-value`` (64 bytes by
default) turns the whole hash into a hashtable: 1 KiB per entity instead of about
200 bytes (docs/performance.md, "State per entity"). So the message is stored as

    b"\\x01" + raw deflate of the JSON against ``DICTIONARY_V1``

cut into pieces of at most ``PIECE`` bytes, fields "m", "m2", .. "m<MAX_PIECES>".
A message that does not fit in ``MAX_PIECES`` pieces is kept whole in "m" (the
hash is then a hashtable: correct, only larger). A value starting with ``{`` is
a message an older Vane stored as plain JSON (field "c" or "p"); it reads as is.

The dictionary is part of the stored format: changing it needs a new version byte
(and this module keeps reading the old one).
"""

from __future__ import annotations

import zlib

PIECE = 64  # Redis's default hash-max-listpack-value
MAX_PIECES = 8
FIELDS = ("m", *(f"m{i}" for i in range(2, MAX_PIECES + 1)))
VERSION_1 = b"\x01"

# The message's fixed text: its keys in the order streams.scoring.weights.build
# writes them, tiers, model names and indicator names. Deflate finds repeats of
# these in the dictionary; the most frequent text comes last (the nearest).
DICTIONARY_V1 = (
    b'"aftersales_hours""delivery_on_time_rate""dispute_rate""free_shipping_rate"'
    b'"heat""listing_quality""logistics_exception_rate""merchant_cancel_rate"'
    b'"misdescription_rate""negative_review_rate""pickup_on_time_rate""price_index"'
    b'"report_rate""quality_refund_rate""EXCELLENT""WATCH""POOR""creator""product"'
    b'"cause":"day-close","seq":"cause":"o-0.paid","seq":'
    b',"reference":null,"reasons":[],"model":{"name":"product","version":"2"}'
    b'{"schema":1,"entity_type":"shop","entity_id":"shop-0","tier":"NEW","weight":1.0,'
    b'"boost":1.0,"score":null,"display":null,"previous":{"tier":"STANDARD","weight":1.0,'
    b'"boost":1.0,"score":null,"display":null},"reference":{"tier":"GOOD","score":8'
    b'.0},"reasons":[{"indicator":"quality_refund_rate","value":0.0,"sub":100.0,'
    b'"points_lost":0.0},{"indicator":"delivery_on_time_rate","value":0.9,"sub":1'
    b'.0,"points_lost":1.0}],"model":{"name":"shop","version":"2"},'
    b'"as_of":"2026-11-22T10:00:00.000+08:00","as_of_ms":179'
)


def pack(message: bytes) -> list[bytes]:
    """The pieces to store for ``message`` (one or more; joined, ``unpack`` reads them)."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=DICTIONARY_V1)
    packed = VERSION_1 + deflate.compress(message) + deflate.flush()
    if len(packed) > PIECE * MAX_PIECES:
        return [packed]
    return [packed[i : i + PIECE] for i in range(0, len(packed), PIECE)]


def unpack(stored: bytes) -> bytes:
    """The message from its joined pieces (or from an older Vane's plain JSON)."""
    if stored[:1] == VERSION_1:
        inflate = zlib.decompressobj(-15, zdict=DICTIONARY_V1)
        return inflate.decompress(stored[1:]) + inflate.flush()
    if stored[:1] == b"{":
        return stored
    raise ValueError(f"stored weight message of unknown format (first byte {stored[:1]!r})")
