"""JSON on the wire: the only module that talks to orjson."""

from __future__ import annotations

from typing import Any

import orjson

JSONDecodeError = orjson.JSONDecodeError


def loads(data: bytes | str) -> Any:
    """Parse JSON; raises ``JSONDecodeError`` (a ``ValueError``) on bad input."""
    return orjson.loads(data)


def dumps(obj: Any) -> bytes:
    """Serialise to compact UTF-8 JSON, keys in insertion order."""
    return orjson.dumps(obj)


def dumps_sorted(obj: Any) -> bytes:
    """Serialise with sorted keys: stable bytes for files and snapshots."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)


def dumps_pretty(obj: Any) -> bytes:
    """Indented, sorted JSON for people."""
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS | orjson.OPT_INDENT_2)
