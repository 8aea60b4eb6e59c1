"""``vane snapshot``: every entity's current state, as JSONL."""

from __future__ import annotations

import asyncio
from typing import Any

import click

from models import load_models
from streams.cli import jsonl
from streams.scoring.snapshot import current_states
from streams.settings import Settings
from streams.store import WindowStore

OUT = click.option(
    "--out",
    type=jsonl.OUTPUT,
    default="-",
    show_default=True,
    help="Output file (.gz ok; - for stdout).",
)


@click.command("snapshot")
@OUT
def command(out: str) -> None:
    """Every entity's current state as JSONL.

    One line per entity: type, id, score, display, tier, weight, boost, seq,
    model and as_of (stream time), sorted by type and id.
    """
    rows = asyncio.run(_states(Settings.from_env()))
    count = jsonl.write_lines(out, rows)
    if out != "-":
        click.echo(f"{count} entities written to {out}", err=True)


async def _states(settings: Settings) -> list[dict[str, Any]]:
    store = await WindowStore.connect(settings.redis)
    try:
        return await current_states(store, load_models())
    finally:
        await store.close()
