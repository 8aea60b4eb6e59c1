"""Where an event goes on the wire: its topic follows from its type, its key from the contract.

The key is the event's ``order_id`` (or ``room_id`` on livestream), so that one
order's (or room's) events stay in order on one partition. The value is the
line's bytes, unchanged: the worker validates it. ``vane replay``, ``vane
score-file``, the demo and the benchmark route lines here.

    >>> route(b'{"type": "live.ended", "room_id": "r1"}', {s: s.value for s in Stream}).topic
    'livestream'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from streams import codec
from streams.events import Stream
from streams.intake.table import TYPES_BY_STREAM

STREAM_OF_TYPE = {t: s for s, types in TYPES_BY_STREAM.items() for t in types}
KEY_FIELD = {
    Stream.ORDERS: "order_id",
    Stream.SHIPPING: "order_id",
    Stream.REFUNDS: "order_id",
    Stream.LIVESTREAM: "room_id",
}


class Unroutable(ValueError):
    """A line that names no topic or key."""


@dataclass(frozen=True, slots=True)
class Routed:
    stream: Stream
    topic: str
    key: bytes
    value: bytes


def route(line: bytes, topics: Mapping[Stream, str]) -> Routed:
    """The topic and key of one line (raises Unroutable with a reason)."""
    try:
        event = codec.loads(line)
    except ValueError as exc:
        raise Unroutable(f"not JSON ({exc})") from None
    if not isinstance(event, dict):
        raise Unroutable("not a JSON object")
    stream = STREAM_OF_TYPE.get(event.get("type"))  # type: ignore[arg-type]
    if stream is None:
        raise Unroutable(f"unknown type {str(event.get('type'))[:40]!r}")
    key = event.get(KEY_FIELD[stream])
    if not isinstance(key, str) or not key:
        raise Unroutable(f"no {KEY_FIELD[stream]} to key the message by")
    return Routed(stream, topics[stream], key.encode(), line)
