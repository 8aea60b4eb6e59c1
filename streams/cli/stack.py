"""``vane stack``: the embedded Kafka and Redis in the foreground."""

from __future__ import annotations

import click

from streams.cli.signals import stop_on_signals


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

    stop = stop_on_signals()
    with EmbeddedStack(kafka_port=kafka_port, redis_port=redis_port) as running:
        click.echo("Embedded stack is up (memory only). In another shell:")
        click.echo(f"export KAFKA_BOOTSTRAP={running.kafka_bootstrap}")
        click.echo(f"export REDIS_URL={running.redis_url}")
        click.echo("Ctrl-C (or SIGTERM) stops both servers.", err=True)
        while not stop.wait(0.5):
            running.check_alive()
        click.echo("stopping", err=True)
