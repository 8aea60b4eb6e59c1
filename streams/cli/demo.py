"""``vane demo``: the embedded stack, a worker and example events, watched."""

from __future__ import annotations

import click

from streams.cli.signals import stop_on_signals


@click.command("demo")
@click.option(
    "--rate",
    type=click.FloatRange(min=1),
    default=1500.0,
    show_default=True,
    help="Generated events per second.",
)
@click.option(
    "--days",
    type=click.IntRange(1, 365),
    default=30,
    show_default=True,
    help="Days of marketplace to stream (ending today).",
)
def command(rate: float, days: int) -> None:
    """Embedded stack, a worker and a generated marketplace, watched live (Ctrl-C stops)."""
    from streams.devtools import demo as demo_module

    stop = stop_on_signals()
    demo_module.run(rate_per_s=rate, days=days, stop=stop)
