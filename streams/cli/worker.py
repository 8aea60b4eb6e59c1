"""``vane worker``: Faust's own worker command, bound to Vane's app."""

from __future__ import annotations

import click

from streams.settings import Settings


@click.command(
    "worker",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("faust_args", nargs=-1, type=click.UNPROCESSED)
def command(faust_args: tuple[str, ...]) -> None:
    """Run a worker: Faust's worker command (see `vane worker --help`)."""
    from faust.cli.faust import cli as faust_cli

    from streams import worker as wiring

    app = wiring.build(Settings.from_env()).app
    faust_cli.main(
        args=["worker", *faust_args],  # uvloop: streams.kafka.fastpath.use_uvloop()
        prog_name="vane",
        standalone_mode=False,
        app=app,
    )
