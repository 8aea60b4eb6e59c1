"""The indicator kinds of SCORING.md §3-§4 as data, and how each is read from TOML.

    [[indicators]]                          ShrunkIndicator(name="quality_refund_rate",
    name = "quality_refund_rate"                kind="rate", x="quality_refunds", n="paid",
    kind = "rate"                 ──────►       p0=0.02, good=0.005, bad=0.05, weight=20.0)
    x = "quality_refunds"  ...

Kinds: ``rate`` and ``mean`` (shrunk, §3), ``log_count`` (heat), ``category_ratio``
(price index), ``register`` (listing quality), ``flag`` (brand). Counter and
register names are checked against ``models.counting``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from models._toml import Table
from models.counting import COUNTERS, REGISTERS

CATEGORY = "category"


@dataclass(frozen=True, slots=True)
class ShrunkIndicator:
    """A rate or mean shrunk toward p0: ``(x/x_divisor + m·p0) / (n/n_divisor + m)``."""

    name: str
    kind: Literal["rate", "mean"]
    x: str
    n: str
    p0: float
    good: float
    bad: float
    weight: float
    x_divisor: float = 1.0
    n_divisor: float = 1.0
    unit: str = ""
    window_days: int | None = None


@dataclass(frozen=True, slots=True)
class LogCountIndicator:
    """``sub = 100·min(1, ln(1 + x)/ln(1 + saturation))`` (product heat)."""

    name: str
    x: str
    saturation: int
    weight: float
    window_days: int | None = None
    kind: Literal["log_count"] = "log_count"


@dataclass(frozen=True, slots=True)
class CategoryRatioIndicator:
    """(Σx/Σn of the entity) / (Σx/Σn of its category), not shrunk (price index).

    ``missing`` is the ratio used when either average is unknown (no quantity).
    """

    name: str
    x: str
    n: str
    good: float
    bad: float
    missing: float
    weight: float
    window_days: int | None = None
    kind: Literal["category_ratio"] = "category_ratio"


@dataclass(frozen=True, slots=True)
class RegisterIndicator:
    """The latest value of a register in the window, else ``default`` (listing quality)."""

    name: str
    register: str
    default: float
    good: float
    bad: float
    weight: float
    window_days: int | None = None
    kind: Literal["register"] = "register"


@dataclass(frozen=True, slots=True)
class FlagIndicator:
    """Sub-score ``if_true`` when the latest register value is true, else ``otherwise``."""

    name: str
    register: str
    if_true: float
    otherwise: float
    weight: float
    window_days: int | None = None
    kind: Literal["flag"] = "flag"


Indicator = (
    ShrunkIndicator
    | LogCountIndicator
    | CategoryRatioIndicator
    | RegisterIndicator
    | FlagIndicator
)


def read_indicators(root: Table, entity_type: str) -> tuple[Indicator, ...]:
    """The model's ``[[indicators]]``, validated (unique names, known counters)."""
    tables = root.tables("indicators")
    root.check(bool(tables), "indicators", "a model needs at least one indicator")
    indicators = tuple(_indicator(table, entity_type) for table in tables)
    names = [indicator.name for indicator in indicators]
    root.check(len(set(names)) == len(names), "indicators", "indicator names must be unique")
    return indicators


def _indicator(table: Table, entity_type: str) -> Indicator:
    kind = table.text("kind")
    builder = _BUILDERS.get(kind)
    if builder is None:
        table.fail("kind", f"unknown kind {kind!r}; one of {', '.join(_BUILDERS)}")
    indicator = builder(table, entity_type)
    if not isinstance(indicator, LogCountIndicator | FlagIndicator):
        table.check(indicator.good != indicator.bad, "bad", "must differ from good")
    table.finish()
    return indicator


def _common(table: Table) -> tuple[str, float, int | None]:
    window = table.count("window_days", 1) if table.has("window_days") else None
    return table.text("name"), table.positive("weight"), window


def _counter(table: Table, key: str, entity_type: str) -> str:
    return table.choice(key, COUNTERS[entity_type], f"a counter of {entity_type}")


def _shrunk(table: Table, entity_type: str) -> ShrunkIndicator:
    name, weight, window = _common(table)
    kind: Literal["rate", "mean"] = "mean" if table.text("kind") == "mean" else "rate"
    return ShrunkIndicator(
        name=name,
        kind=kind,
        x=_counter(table, "x", entity_type),
        n=_counter(table, "n", entity_type),
        p0=table.number("p0"),
        good=table.number("good"),
        bad=table.number("bad"),
        weight=weight,
        x_divisor=table.positive("x_divisor") if table.has("x_divisor") else 1.0,
        n_divisor=table.positive("n_divisor") if table.has("n_divisor") else 1.0,
        unit=table.text("unit") if table.has("unit") else "",
        window_days=window,
    )


def _log_count(table: Table, entity_type: str) -> LogCountIndicator:
    name, weight, window = _common(table)
    x = _counter(table, "x", entity_type)
    return LogCountIndicator(name, x, table.count("saturation", 1), weight, window)


def _category_ratio(table: Table, entity_type: str) -> CategoryRatioIndicator:
    name, weight, window = _common(table)
    for key in ("x", "n"):
        _counter(table, key, entity_type)
        _counter(table, key, CATEGORY)
    x, n = table.text("x"), table.text("n")
    good, bad, missing = table.number("good"), table.number("bad"), table.number("missing")
    return CategoryRatioIndicator(name, x, n, good, bad, missing, weight, window)


def _register_name(table: Table, entity_type: str) -> str:
    known = REGISTERS.get(entity_type, ())
    return table.choice("register", known, f"a register of {entity_type}")


def _register(table: Table, entity_type: str) -> RegisterIndicator:
    name, weight, window = _common(table)
    register = _register_name(table, entity_type)
    default, good, bad = table.number("default"), table.number("good"), table.number("bad")
    return RegisterIndicator(name, register, default, good, bad, weight, window)


def _flag(table: Table, entity_type: str) -> FlagIndicator:
    name, weight, window = _common(table)
    register = _register_name(table, entity_type)
    if_true, otherwise = table.number("if_true"), table.number("otherwise")
    for key, value in (("if_true", if_true), ("otherwise", otherwise)):
        table.check(0 <= value <= 100, key, "a sub-score is within 0..100")
    return FlagIndicator(name, register, if_true, otherwise, weight, window)


_BUILDERS: dict[str, Callable[[Table, str], Indicator]] = {
    "rate": _shrunk,
    "mean": _shrunk,
    "log_count": _log_count,
    "category_ratio": _category_ratio,
    "register": _register,
    "flag": _flag,
}
