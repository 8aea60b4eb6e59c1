"""Typed reading of one TOML table, with errors that name the file and the key.

table = Table(tomllib.loads(text), source="shop.toml")
m = table.table("shrinkage").number("m")     # 30.0
table.finish()    # ModelConfigError if a key was never read (a typo)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

from models.errors import ModelConfigError


class Table:
    """One TOML table being read; every getter records the key as known."""

    def __init__(self, data: Mapping[str, Any], source: str, path: str = "") -> None:
        self.data = data
        self.source = source
        self.path = path
        self._read: set[str] = set()

    def key(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ModelConfigError(f"{self.source}: {self.key(key)}: {problem}")

    def has(self, key: str) -> bool:
        return key in self.data

    def _get(self, key: str) -> Any:
        self._read.add(key)
        if key not in self.data:
            self.fail(key, "missing")
        return self.data[key]

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str) or not value:
            self.fail(key, f"expected a non-empty string, got {value!r}")
        return value

    def number(self, key: str) -> float:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(key, f"expected a number, got {value!r}")
        return float(value)

    def integer(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"expected an integer, got {value!r}")
        return value

    def positive(self, key: str) -> float:
        value = self.number(key)
        self.check(value > 0, key, f"must be > 0, got {value:g}")
        return value

    def count(self, key: str, minimum: int = 0) -> int:
        value = self.integer(key)
        self.check(value >= minimum, key, f"must be >= {minimum}, got {value}")
        return value

    def choice(self, key: str, known: tuple[str, ...], what: str) -> str:
        """A string that must be one of ``known`` (a counter, register or tier name)."""
        value = self.text(key)
        self.check(value in known, key, f"{value!r} is not {what}")
        return value

    def table(self, key: str) -> Table:
        value = self._get(key)
        if not isinstance(value, dict):
            self.fail(key, "expected a table")
        return Table(value, self.source, self.key(key))

    def tables(self, key: str) -> list[Table]:
        value = self._get(key)
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(key, "expected an array of tables")
        return [Table(v, self.source, f"{self.key(key)}[{i}]") for i, v in enumerate(value)]

    def check(self, ok: bool, key: str, problem: str) -> None:
        if not ok:
            self.fail(key, problem)

    def finish(self) -> None:
        """Fail on the first key that no getter asked for (a typo or a stale key)."""
        unknown = sorted(set(self.data) - self._read)
        if unknown:
            self.fail(unknown[0], "unknown key")
