"""``vane generate``: a synthetic marketplace as a JSONL file of events."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from streams.cli import jsonl

PROGRESS_EVERY = 100_000
DEFAULT_START = "2026-10-01T00:00:00+08:00"  # streams.devtools.generator.config.DEFAULT_START
MAX_START = datetime(9000, 1, 1)


class _Moment(click.ParamType):
    """An ISO 8601 date-time (a date alone is midnight; no zone means +08:00)."""

    name = "datetime"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date-time like 2026-10-01T00:00:00+08:00", param, ctx)
        if not datetime(1971, 1, 1) <= moment.replace(tzinfo=None) <= MAX_START:
            self.fail(f"{value!r} is not between 1971 and 9000", param, ctx)
        return moment


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
    "start",
    type=_Moment(),
    default=DEFAULT_START,
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
    type=jsonl.OUTPUT,
    default="-",
    show_default=True,
    metavar="FILE",
    help="Output JSONL; '-' is stdout, a .gz suffix compresses.",
)
@click.option(
    "--ground-truth",
    type=jsonl.OUTPUT,
    metavar="FILE",
    help="Also write the hidden qualities as JSONL (entity_type, entity_id, quality).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress or summary on stderr.")
def command(
    days: int, shops: int, creators: int, orders_per_day: int, seed: int, start: datetime,
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
    about 177k events, 35k paid orders, ~1200 products, 70 creator ids
    (10 of them shop hosts), 43 MB (6.5 MB gzipped), in about 2 s.
    Events grow with --days x --orders-per-day (about 4 per order), livestream
    events with --days x (--creators + --shops/10) (about 1.3 per creator-day).
    For 200k+ events: --orders-per-day 1200; for a quick file: --days 7.

    \b
    Order: by event time, each topic lagging on its own like a separate producer,
    so an event is never written after one whose ts is more than --max-skew-s
    ahead of its own, and each topic stays in ts order. Times are epoch ms; the
    shipping topic writes RFC 3339 at +08:00. Lifecycle events after the last day
    are dropped (orders still in flight). The worker sends events more than 10
    minutes ahead of the wall clock to the dead-letter topic: keep --start plus
    --days in the past for a file it will replay.
    """
    from streams.devtools.generator import build, write, write_truth
    from streams.devtools.generator.config import GeneratorConfig, epoch_ms

    if out == "-" and sys.stdout.isatty():
        raise click.UsageError("refusing to write events to a terminal: use --out FILE or a pipe")
    if ground_truth == "-" and out == "-":
        raise click.UsageError("--ground-truth and --out cannot both be stdout")
    config = GeneratorConfig(
        days=days,
        shops=shops,
        creators=creators,
        orders_per_day=orders_per_day,
        seed=seed,
        start_ms=epoch_ms(start),
        max_skew_ms=max_skew_s * 1000,
    )
    market = build(config)
    try:
        if ground_truth is not None:
            write_truth(market, ground_truth)
        summary = write(config, out, progress=None if quiet else _progress(), market=market)
    except BrokenPipeError:  # the reader went away (| head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(1) from None
    except OSError as exc:
        raise click.FileError(exc.filename or out, exc.strerror) from exc
    if not quiet:
        click.echo(f"vane generate: {summary.line()}", err=True)


def _progress() -> Callable[[int], None]:
    """A progress callback: one stderr line each time another 100k events are written."""
    shown = [0]

    def report(events: int) -> None:
        if events // PROGRESS_EVERY > shown[0]:
            shown[0] = events // PROGRESS_EVERY
            click.echo(f"vane generate: {events:,} events", err=True)

    return report
