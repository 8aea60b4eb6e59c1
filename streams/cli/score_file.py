"""``vane score-file FILE``: the models applied in process, no Kafka or Redis (backfill)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import click

from models import load_models
from streams.cli import jsonl
from streams.errors import MalformedEvent
from streams.events import Event, Stream
from streams.intake.contract import parse
from streams.intake.routing import Unroutable, route
from streams.scoring.backfill import Backfill


@click.command("score-file")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option(
    "--out",
    type=jsonl.OUTPUT,
    default="-",
    show_default=True,
    help="Snapshot JSONL (.gz ok; - for stdout).",
)
@click.option(
    "--updates",
    type=jsonl.OUTPUT,
    help="Also write the weight updates the stream would publish (JSONL).",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Events per batch, as the worker takes them.")  # fmt: skip
def command(file: str, out: str, updates: str | None, batch_size: int) -> None:
    """Score FILE's events in process and write every entity's final state, like `vane snapshot`.

    Same rules as the stream: duplicates (same event_id) count once, events too
    late for any window are dropped, malformed lines are reported with their
    line number and skipped (the stream sends those to the dead-letter topic).
    Exits 1 when every line was rejected (nothing was scored).
    """
    started = time.monotonic()
    backfill = Backfill(load_models())
    rejected, accepted = [0], [0]
    with jsonl.open_lines(file) as lines:
        backfill.feed(_events(lines, rejected, accepted), batch_size=batch_size)
    backfill.finish()
    count = jsonl.write_lines(out, backfill.snapshot()) if backfill.stream_time_ms else 0
    if updates:
        jsonl.write_lines(updates, (u.message for u in backfill.updates))
    click.echo(
        f"scored {count} entities in {time.monotonic() - started:.1f}s; "
        f"{rejected[0]} lines rejected, {backfill.duplicates} duplicates, "
        f"{backfill.too_late} too late, {len(backfill.updates)} weight updates",
        err=True,
    )
    if rejected[0] and not accepted[0]:
        raise click.ClickException(
            f"{file}: all {rejected[0]} lines were rejected: nothing scored"
        )


def _events(
    lines: Iterator[tuple[int, bytes]], rejected: list[int], accepted: list[int]
) -> Iterator[Event]:
    names = {s: s.value for s in Stream}
    for number, line in lines:
        try:
            event = parse(route(line, names).stream, line)
            accepted[0] += 1
            yield event
        except (Unroutable, MalformedEvent) as exc:
            rejected[0] += 1
            click.echo(f"line {number}: {exc} (skipped)", err=True)
