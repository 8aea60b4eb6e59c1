"""Record headers are input too: decode them, or say why they cannot be.

A header key must be UTF-8 (the Kafka protocol says so; Go and librdkafka
producers can send anything). The fetcher hands a key that is not as text
decoded with ``surrogateescape`` (``streams.kafka.fastpath.records``), so its bytes
survive; ``check`` turns it into ``bad_header``, and ``republishable`` carries it
to the dead-letter topic as bytes, since a producer can only send text keys:

    >>> bad = b"k\\xff".decode("utf-8", "surrogateescape")
    >>> republishable([("ok", b"1"), (bad, b"2")])
    [('ok', b'1'), ('vane.raw_header_key', b'k\\xff'), ('vane.raw_header_value', b'2')]

Values are bytes (or null), whatever they hold; Vane reads none of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from streams.errors import MalformedEvent
from streams.events import Reason

RAW_KEY: Final = "vane.raw_header_key"
RAW_VALUE: Final = "vane.raw_header_value"

Header = tuple[str, bytes | None]


def items(headers: Any) -> list[Header]:
    """Headers as a list of (key, value), from Faust's list or a mapping (None: none)."""
    if not headers:
        return []
    pairs: Iterable[Header] = headers.items() if hasattr(headers, "items") else headers
    return list(pairs)


def key_bytes(key: str | bytes) -> bytes:
    """The bytes a key was sent as (lossless for keys decoded with ``surrogateescape``)."""
    return key if isinstance(key, bytes) else key.encode("utf-8", "surrogateescape")


def text(key: str | bytes) -> str | None:
    """A key as UTF-8 text, or None if it is not UTF-8."""
    try:
        return key_bytes(key).decode("utf-8")
    except UnicodeDecodeError:
        return None


def check(headers: Any) -> None:
    """Raise ``MalformedEvent(bad_header)`` naming the first key that is not UTF-8."""
    for i, (key, _) in enumerate(items(headers)):
        raw = key_bytes(key)
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            detail = f"header {i}: key {raw[:40]!r} is not UTF-8 (byte {bad.start}: {bad.reason})"
            raise MalformedEvent(Reason.BAD_HEADER, detail) from None


def republishable(headers: Any) -> list[Header]:
    """Headers a producer can send again: an undecodable key becomes two headers,
    ``vane.raw_header_key`` (its bytes) and ``vane.raw_header_value``, in place."""
    out: list[Header] = []
    for key, value in items(headers):
        decoded = text(key)
        if decoded is not None:
            out.append((decoded, value))
        else:
            out += [(RAW_KEY, key_bytes(key)), (RAW_VALUE, value)]
    return out
