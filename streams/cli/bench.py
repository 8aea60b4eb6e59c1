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
    help="At least this many generated events across the four topics (every broker).",
)
@click.option(
    "--broker",
    type=click.Choice(["tansu", "kafka", "both"]),
    default=None,
    help="Which broker's column to run [default: both when Apache Kafka can run, else tansu].",
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
    help="Runs of the ceiling, bare Faust, scorer and peer paths on the first broker; "
    "the fastest counts.",
)
@click.option(
    "--later-repeats",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="The same on the second broker (Apache Kafka, with --broker both).",
)
@click.option("--no-two-workers", is_flag=True, help="Skip the 2-worker runs.")
@click.option("--no-peer", is_flag=True, help="Skip the Quix Streams peer.")
@click.option(
    "--scale-entities",
    type=click.IntRange(min=0),
    default=1_000_000,
    show_default=True,
    help="Resident entities of the scale stage (memory, throughput beside them, "
    "day-close sweeps with 1 and 2 workers); 0 skips it.",
)
@click.option(
    "--profile",
    is_flag=True,
    help="Sample the first 1-worker scorer run on Tansu with py-spy: OUT/profile.txt.",
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
    broker: str | None,
    latency_seconds: float,
    repeats: int,
    later_repeats: int,
    no_two_workers: bool,
    no_peer: bool,
    scale_entities: int,
    profile: bool,
    out: Path,
) -> None:
    """Run the benchmark on the embedded brokers; print the figures, write JSON and PNG."""
    from streams.devtools.benchmark import chart, report
    from streams.devtools.benchmark.run import Options, run
    from streams.devtools.benchmark.stack import BROKERS, kafka_missing

    def say(line: str) -> None:
        click.echo(f"bench: {line}", err=True)

    missing = kafka_missing()
    if broker is None:
        broker = "tansu" if missing else "both"
        if missing:
            say(f"Tansu only: Apache Kafka cannot run here ({missing})")
    elif broker != "tansu" and missing:
        raise click.UsageError(f"--broker {broker}: Apache Kafka cannot run here ({missing})")
    out.mkdir(parents=True, exist_ok=True)
    options = Options(
        events=events,
        latency_s=latency_seconds,
        repeats=repeats,
        later_repeats=later_repeats,
        two_workers=not no_two_workers,
        profile_to=(out / "profile.txt").resolve() if profile else None,
        brokers=BROKERS if broker == "both" else (broker,),  # type: ignore[arg-type]
        peer=not no_peer,
        scale_entities=scale_entities,
    )
    doc = report.build(run(options, say=say))
    report.write_json(doc, out / "latest.json")
    chart.chart(doc, out / "latest.png")
    click.echo(report.table(doc))
    click.echo(f"wrote {out / 'latest.json'} and {out / 'latest.png'}")
    if profile:
        click.echo(f"profile of the 1-worker scorer run: {out / 'profile.txt'}")
