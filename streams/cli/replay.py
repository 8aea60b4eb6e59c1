"""``vane replay FILE``: publish a file of events to their topics (and wait for the worker)."""

from __future__ import annotations

import asyncio
import time

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from streams.cli import jsonl
from streams.cli.sweep import wait_for_sweep
from streams.devtools.replay import NO_WORKER_S, NoWorker, ReplayReport, replay, wait_consumed
from streams.settings import Settings
from streams.store import WindowStore

stderr = Console(stderr=True)


@click.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    help="Events per second (default: as fast as possible).",
)
@click.option(
    "--wait", is_flag=True, help="Then wait until the workers consumed everything and swept."
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=600.0,
    show_default=True,
    help="Seconds --wait may take.",
)
@click.option(
    "--no-worker-timeout",
    type=click.FloatRange(min=0),
    default=NO_WORKER_S,
    show_default=True,
    help="Seconds --wait lets the worker group have no members (a worker starting up).",
)
def command(
    file: str, rate: float | None, wait: bool, timeout: float, no_worker_timeout: float
) -> None:
    """Publish FILE (JSONL, .gz ok, - for stdin) to the input topics, keyed per the contract.

    Lines that are not a JSON object with a known type and its key field are
    reported with their line number and skipped; everything else is sent as is.
    When no line is an event the worker would apply, the exit status is 1.
    """
    settings = Settings.from_env()
    total = None if file == "-" else _count_lines(file)
    started = time.monotonic()
    report = asyncio.run(_replay(settings, file, rate, total))
    elapsed = time.monotonic() - started
    speed = report.sent / max(elapsed, 1e-9)
    click.echo(
        f"sent {report.sent} events in {elapsed:.1f}s ({speed:,.0f}/s); "
        f"skipped {len(report.skipped)} lines"
    )
    if report.usable == 0:
        raise click.ClickException(_nothing_usable(report))
    if wait:
        asyncio.run(_wait(settings, report, timeout, no_worker_timeout))
        click.echo(f"consumed and swept after {time.monotonic() - started:.1f}s")


async def _replay(
    settings: Settings, file: str, rate: float | None, total: int | None
) -> ReplayReport:
    columns = (TextColumn("replay"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with (
        Progress(*columns, console=stderr, transient=True) as progress,
        jsonl.open_lines(file) as lines,
    ):
        task = progress.add_task("replay", total=total)
        return await replay(
            settings,
            lines,
            rate=rate,
            on_progress=lambda n: progress.advance(task, n),
            on_skip=lambda number, why: progress.console.print(
                f"line {number}: {why} (skipped)", soft_wrap=True, markup=False
            ),
        )


def _nothing_usable(report: ReplayReport) -> str:
    if report.doomed:
        number, why = report.doomed[0]
        return (
            f"every event sent ({report.sent}) will be dead-lettered by the worker "
            f"(line {number}: {why}): nothing to score"
        )
    if report.skipped:
        number, why = report.skipped[0]
        return f"every line was skipped ({len(report.skipped)}; line {number}: {why})"
    return "no events in the file"


async def _wait(
    settings: Settings, report: ReplayReport, timeout_s: float, no_worker_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    group = settings.worker.app_id

    def waiting() -> None:
        stderr.print(
            f"group {group!r} has no members: waiting up to {no_worker_s:g}s for a worker",
            soft_wrap=True,
            markup=False,
        )

    try:
        await wait_consumed(
            settings, report.ends, timeout_s, no_worker_s=no_worker_s, on_empty=waiting
        )
    except NoWorker as exc:
        raise click.ClickException(f"{exc}: start one with `vane worker`") from None
    except TimeoutError as exc:
        raise click.ClickException(
            f"{exc} (is a worker running for group {settings.worker.app_id}?)"
        ) from None
    store = await WindowStore.connect(settings.redis)
    try:
        request = await store.request_sweep()
        await wait_for_sweep(store, request, max(0.0, deadline - time.monotonic()))
    finally:
        await store.close()


def _count_lines(file: str) -> int:
    with jsonl.open_lines(file) as lines:
        return sum(1 for _ in lines)
