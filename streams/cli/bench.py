"""``vane bench``: the benchmark (streams.devtools.benchmark), its JSON and chart."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("bench")
@click.option(
    "--events",
    type=click.IntRange(min=1_000),
    default=200_000,
    show_default=True,
    help="At least this many generated events across the four topics.",
)
@click.option(
    "--latency-seconds",
    type=click.FloatRange(min=1),
    default=20.0,
    show_default=True,
    help="How long to offer events at half capacity for the latency figure.",
)
@click.option(
    "--repeats",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Runs of the ceiling, bare Faust and 1-worker scorer paths; the fastest counts.",
)
@click.option("--no-two-workers", is_flag=True, help="Skip the 2-worker run.")
@click.option(
    "--profile",
    is_flag=True,
    help="Sample the 1-worker scorer run with py-spy: OUT/profile.txt.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("bench-results"),
    show_default=True,
    help="Directory for latest.json and latest.png.",
)
def command(
    events: int,
    latency_seconds: float,
    repeats: int,
    no_two_workers: bool,
    profile: bool,
    out: Path,
) -> None:
    """Run the benchmark on the embedded stack; print the figures, write JSON and PNG."""
    from streams.devtools.benchmark import report
    from streams.devtools.benchmark.run import Options, run

    out.mkdir(parents=True, exist_ok=True)
    options = Options(
        events=events,
        latency_s=latency_seconds,
        repeats=repeats,
        two_workers=not no_two_workers,
        profile_to=(out / "profile.txt").resolve() if profile else None,
    )
    raw = run(options, say=lambda line: click.echo(f"bench: {line}", err=True))
    doc = report.build(raw)
    report.write_json(doc, out / "latest.json")
    report.chart(doc, out / "latest.png")
    click.echo(report.table(doc))
    click.echo(f"wrote {out / 'latest.json'} and {out / 'latest.png'}")
    if profile:
        click.echo(f"profile of the 1-worker scorer run: {out / 'profile.txt'}")
