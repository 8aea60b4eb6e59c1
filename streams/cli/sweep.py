"""``vane sweep``: ask the workers for a day-close sweep now (and wait for it)."""

from __future__ import annotations

import asyncio
import time

import click

from streams.settings import Settings
from streams.store import WindowStore

POLL_S = 0.2


@click.command("sweep")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until it has run.")
@click.option(
    "--timeout", type=click.FloatRange(min=0), default=300.0, show_default=True, help="Seconds."
)
def command(wait: bool, timeout: float) -> None:
    """Re-score every entity as of the current stream time (a running worker does it)."""
    request = asyncio.run(_sweep(Settings.from_env(), wait, timeout))
    click.echo(f"sweep request {request} " + ("done" if wait else "queued"))


async def _sweep(settings: Settings, wait: bool, timeout_s: float) -> int:
    store = await WindowStore.connect(settings.redis)
    try:
        request = await store.request_sweep()
        if wait:
            await wait_for_sweep(store, request, timeout_s)
        return request
    finally:
        await store.close()


async def wait_for_sweep(store: WindowStore, request: int, timeout_s: float) -> None:
    """Block until a worker has answered sweep request ``request``."""
    deadline = time.monotonic() + timeout_s
    while (await store.sweep_status()).handled < request:
        if time.monotonic() > deadline:
            raise click.ClickException(
                f"no worker ran sweep request {request} within {timeout_s:g}s (is one running?)"
            )
        await asyncio.sleep(POLL_S)
