"""``vane stack``: the embedded Kafka and Redis in the foreground."""

from __future__ import annotations

import time

import click

from streams.cli.signals import exit_on_sigterm


@click.command("stack")
@click.option(
    "--kafka-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Broker port on 127.0.0.1 (0: a free one).",
)
@click.option(
    "--redis-port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Valkey port on 127.0.0.1 (0: a free one).",
)
def command(kafka_port: int, redis_port: int) -> None:
    """Run the embedded Kafka (Tansu) and Redis (Valkey) until Ctrl-C."""
    from streams.devtools.embedded import EmbeddedStack

    exit_on_sigterm()
    with EmbeddedStack(kafka_port=kafka_port, redis_port=redis_port) as running:
        click.echo("Embedded stack is up (memory only). In another shell:")
        click.echo(f"export KAFKA_BOOTSTRAP={running.kafka_bootstrap}")
        click.echo(f"export REDIS_URL={running.redis_url}")
        click.echo("Ctrl-C stops both servers.", err=True)
        try:
            while True:
                running.check_alive()
                time.sleep(0.5)
        except KeyboardInterrupt:
            click.echo("stopping", err=True)
