"""``vane explain TYPE ID``: an entity's score, tier and the arithmetic behind them."""

from __future__ import annotations

import asyncio
from typing import Any

import click

from models import load_models
from models.config import MODEL_NAMES
from streams import codec
from streams.scoring.explain import UnknownEntity, explain, render_text
from streams.settings import Settings
from streams.store import WindowStore


@click.command("explain")
@click.argument("entity_type", metavar="TYPE", type=click.Choice(MODEL_NAMES))
@click.argument("entity_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (as GET /scores/TYPE/ID).")
def command(entity_type: str, entity_id: str, as_json: bool) -> None:
    """Explain an entity's score as of stream time: every indicator's x, n, value, sub-score."""
    settings = Settings.from_env()
    try:
        explained = asyncio.run(_explain(settings, entity_type, entity_id))
    except UnknownEntity as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(codec.dumps_pretty(explained).decode())
    else:
        click.echo(render_text(explained))


async def _explain(settings: Settings, entity_type: str, entity_id: str) -> dict[str, Any]:
    store = await WindowStore.connect(settings.redis)
    try:
        return await explain(store, load_models(), entity_type, entity_id)
    finally:
        await store.close()
