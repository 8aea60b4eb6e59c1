"""``vane weights``: the weight topic as JSONL records in time order (``--follow``: and on)."""

from __future__ import annotations

import asyncio
import signal

import click

from streams.cli import jsonl
from streams.cli.snapshot import OUT
from streams.devtools.weights_dump import weight_records
from streams.settings import Settings


@click.command("weights")
@OUT
@click.option(
    "-f", "--follow", is_flag=True, help="Keep printing new messages until Ctrl-C (or SIGTERM)."
)
def command(out: str, follow: bool) -> None:
    """The weight topic from the beginning, one record per line, oldest first.

    Each line: key, partition, offset, timestamp_ms (the broker's) and value (the
    weight update, docs/weight-topic.md), in time order across partitions, so the
    last lines are the latest changes. Without --follow it stops at the current end.
    """
    count = asyncio.run(_dump(Settings.from_env(), out, follow))
    if out != "-":
        click.echo(f"{count} messages written to {out}", err=True)


async def _dump(settings: Settings, out: str, follow: bool) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    if follow:  # a stop ends the loop between two fetches: no traceback, status 0
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
    count = 0
    with jsonl.line_writer(out, flush=follow) as write:
        async for batch in weight_records(settings, follow=follow, stop=stop):
            for record in batch:
                write(record)
            count += len(batch)
    return count
