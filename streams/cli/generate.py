"""``vane generate``: a synthetic marketplace as a JSONL file of events."""

from __future__ import annotations

import os
import sys
from datetime import datetime
from typing import Any

import click

from streams.generator.config import DEFAULT_START, GeneratorConfig, epoch_ms

PROGRESS_EVERY = 100_000
MAX_START = datetime(9000, 1, 1)


class _Moment(click.ParamType):
    """An ISO 8601 date-time (a date alone is midnight; no zone means +08:00) -> epoch ms."""

    name = "datetime"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date-time like 2026-10-01T00:00:00+08:00", param, ctx)
        if not datetime(1971, 1, 1) <= moment.replace(tzinfo=None) <= MAX_START:
            self.fail(f"{value!r} is not between 1971 and 9000", param, ctx)
        return epoch_ms(moment)


@click.command("generate")
@click.option(
    "--days",
    type=click.IntRange(1, 3650),
    default=30,
    show_default=True,
    help="Days of marketplace activity.",
)
@click.option(
    "--shops",
    type=click.IntRange(1, 100_000),
    default=100,
    show_default=True,
    help="Shops (Zipf-sized; products grow with shop size).",
)
@click.option(
    "--creators",
    type=click.IntRange(0, 100_000),
    default=60,
    show_default=True,
    help="Creators selling partner shops' goods (shop hosts come on top).",
)
@click.option(
    "--orders-per-day",
    type=click.IntRange(1, 10_000_000),
    default=1000,
    show_default=True,
    help="Mean paid orders a day (weekends, promotions vary it).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed.")
@click.option(
    "--start",
    "start_ms",
    type=_Moment(),
    default=DEFAULT_START.isoformat(),
    show_default=True,
    help="Start of day 1 (no zone: +08:00).",
)
@click.option(
    "--max-skew-s",
    type=click.IntRange(0, 86_400),
    default=180,
    show_default=True,
    help="Bound on out-of-orderness across topics, seconds.",
)
@click.option(
    "-o",
    "--out",
    default="-",
    show_default=True,
    metavar="FILE",
    help="Output JSONL; '-' is stdout, a .gz suffix compresses.",
)
@click.option(
    "--ground-truth",
    metavar="FILE",
    help="Also write the hidden qualities as JSONL (entity_type, entity_id, quality).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress or summary on stderr.")
def command(
    days: int, shops: int, creators: int, orders_per_day: int, seed: int, start_ms: int,
    max_skew_s: int, out: str, ground_truth: str | None, quiet: bool,
) -> None:  # fmt: skip
    """Write a synthetic live-commerce marketplace as JSONL events (SCORING.md §2).

    Shops, products in categories, creators and livestream rooms, every event type
    with realistic lifecycles and delays; each shop, creator and product has a hidden
    quality that drives its behaviour (--ground-truth writes them). One line is one
    event as a producer sends it; the topic follows from its type, the key from
    order_id or room_id. Same arguments, same bytes.

    \b
    Sizes with the defaults (30 days, 100 shops, 60 creators, 1000 orders a day):
    about 175k events, 35k paid orders, ~1000 products, 70 creator ids
    (10 of them shop hosts), ~45 MB (6.5 MB gzipped), in 1.5-2 s.
    Events scale with --days x --orders-per-day (about 4.3 per order) plus
    livestream events with --days x (--creators + --shops/10).

    \b
    Event times are ms; the shipping topic writes RFC 3339 at +08:00. Lifecycle
    events after the last day are dropped (orders still in flight). The worker sends
    events more than 10 minutes ahead of the wall clock to the dead-letter topic: keep
    --start plus --days in the past for a file that it will replay.
    """
    from streams.generator import build, write, write_truth

    if out == "-" and sys.stdout.isatty():
        raise click.UsageError("refusing to write events to a terminal: use --out FILE or a pipe")
    config = GeneratorConfig(days, shops, creators, orders_per_day, seed, start_ms,
                             max_skew_s * 1000)  # fmt: skip
    try:
        if ground_truth is not None:
            write_truth(build(config), ground_truth)
        summary = write(config, out, progress=None if quiet else _progress())
    except BrokenPipeError:  # the reader went away (| head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None
    except OSError as exc:
        raise click.FileError(exc.filename or out, exc.strerror) from exc
    if not quiet:
        click.echo(f"vane generate: {summary.line()}", err=True)


def _progress() -> Any:
    """A progress callback: one stderr line each time another 100k events are written."""
    shown = [0]

    def report(events: int) -> None:
        if events // PROGRESS_EVERY > shown[0]:
            shown[0] = events // PROGRESS_EVERY
            click.echo(f"vane generate: {events:,} events", err=True)

    return report
