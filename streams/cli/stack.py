"""``vane stack``: the embedded Kafka and Redis in the foreground."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from streams.cli.signals import stop_on_signals

if TYPE_CHECKING:
    from streams.devtools.embedded import Broker


@click.command("stack")
@click.option(
    "--broker",
    type=click.Choice(["tansu", "kafka"]),
    default="tansu",
    show_default=True,
    help="Tansu (from its wheel) or Apache Kafka (Java 17+, jars from `make kafka`).",
)
@click.option(
    "--kafka-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Broker port on 127.0.0.1 (0: a free one; Apache Kafka always picks one).",
)
@click.option(
    "--redis-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Valkey port on 127.0.0.1 (0: a free one).",
)
def command(broker: str, kafka_port: int, redis_port: int) -> None:
    """Run the embedded Kafka (Tansu or Apache Kafka) and Redis (Valkey) until Ctrl-C."""
    from streams.devtools.embedded import EmbeddedStack

    if broker == "kafka" and kafka_port:
        raise click.BadParameter("Apache Kafka picks a free port", param_hint="--kafka-port")
    stop = stop_on_signals()
    kind: Broker = "kafka" if broker == "kafka" else "tansu"
    with EmbeddedStack(kafka_port=kafka_port, redis_port=redis_port, broker=kind) as running:
        what = "Apache Kafka, data in a temporary folder" if kind == "kafka" else "memory only"
        click.echo(f"Embedded stack is up ({what}). In another shell:")
        click.echo(f"export KAFKA_BOOTSTRAP={running.kafka_bootstrap}")
        click.echo(f"export REDIS_URL={running.redis_url}")
        for name, value in running.worker_env.items():
            click.echo(f"export {name}={value}")
        click.echo("Ctrl-C (or SIGTERM) stops both servers.", err=True)
        while not stop.wait(0.5):
            running.check_alive()
        click.echo("stopping", err=True)
