"""``vane weights``: the weight topic from the beginning to its current end, as JSONL."""

from __future__ import annotations

import asyncio

import click

from streams.cli import jsonl
from streams.cli.snapshot import OUT
from streams.devtools.weights_dump import read_weight_topic
from streams.settings import Settings


@click.command("weights")
@OUT
def command(out: str) -> None:
    """The weight topic from the beginning to its current end, one message per line."""
    messages = asyncio.run(read_weight_topic(Settings.from_env()))
    count = jsonl.write_lines(out, messages)
    if out != "-":
        click.echo(f"{count} messages written to {out}", err=True)
