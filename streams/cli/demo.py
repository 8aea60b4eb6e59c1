"""``vane demo``: the embedded stack, a worker and example events, watched."""

from __future__ import annotations

import click

from streams.cli.signals import exit_on_sigterm


@click.command("demo")
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1),
    default=20.0,
    show_default=True,
    help="Example events per second.",
)
def command(rate: float) -> None:
    """Embedded stack + worker + example events; prints the worker's counts."""
    from streams import demo as demo_module

    exit_on_sigterm()
    demo_module.run(rate_per_s=rate)
