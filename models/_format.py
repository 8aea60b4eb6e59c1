"""Numbers of the configs as the docs write them: 0.05, 30, 1e-9, 2.5% (no float noise)."""

from __future__ import annotations

from decimal import Decimal


def num(value: float) -> str:
    """A config number as written: ``num(0.05)`` is '0.05', ``num(30.0)`` is '30'."""
    if value and abs(value) < 1e-4:
        mantissa, exponent = f"{value:.0e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return format(Decimal(repr(value)).normalize(), "f")


def in_unit(value: float, unit: str) -> str:
    """``in_unit(0.005, '%')`` is '0.5%'; ``in_unit(24.0, 'h')`` is '24 h'."""
    if unit == "%":
        return format((Decimal(repr(value)) * 100).normalize(), "f") + "%"
    return f"{num(value)} {unit}" if unit else num(value)
