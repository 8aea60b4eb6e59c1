"""Windows for model tests: counters placed on days counted back from the as-of day."""

from __future__ import annotations

from collections.abc import Mapping

from models import EntityWindows, load_models

DAY = 20_400  # the as-of day of every test
MODELS = load_models()
SHOP, PRODUCT, CREATOR = MODELS["shop"], MODELS["product"], MODELS["creator"]

Registers = Mapping[str, Mapping[int, tuple[int, str, int]]]


def windows(
    entity_type: str,
    today: Mapping[str, int] | None = None,
    ago: Mapping[int, Mapping[str, int]] | None = None,
    registers: Registers | None = None,
) -> EntityWindows:
    """``today`` on the as-of day; ``ago = {40: {...}}`` on the day 40 days before it."""
    days = {DAY - back: dict(row) for back, row in (ago or {}).items()}
    if today:
        days[DAY] = dict(today)
    return EntityWindows.from_days(entity_type, f"{entity_type[0]}1", DAY, days, registers)


def shop(ago: Mapping[int, Mapping[str, int]] | None = None, **today: int) -> EntityWindows:
    return windows("shop", today, ago)


def creator(ago: Mapping[int, Mapping[str, int]] | None = None, **today: int) -> EntityWindows:
    return windows("creator", today, ago)


def product(
    ago: Mapping[int, Mapping[str, int]] | None = None,
    registers: Registers | None = None,
    **today: int,
) -> EntityWindows:
    return windows("product", today, ago, registers)


def category(amount_fen: int, quantity: int) -> EntityWindows:
    row = {"amount_fen": amount_fen, "quantity": quantity}
    return EntityWindows.from_days("category", "c1", DAY, {DAY: row})
