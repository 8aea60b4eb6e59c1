"""The ``vane`` command line.

    vane worker [FAUST WORKER OPTIONS]   run a worker (Faust's own worker command)
    vane stack                           run the embedded Kafka + Redis in the foreground
    vane demo                            the stack, a worker and example events, watched

``vane worker`` is Faust's ``worker`` command bound to Vane's app, so it takes
Faust's options (``-l info``, ``--web-port``, ...). Configuration comes from
``VANE_*`` variables (streams.settings). A bad argument or setting gets one line
on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Sequence
from types import FrameType
from typing import Any

import click

from streams.errors import ConfigError, StackError
from streams.settings import Settings

USAGE_ERROR = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def vane() -> None:
    """Vane: live-commerce events in, scores and traffic-weight updates out."""


@vane.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("faust_args", nargs=-1, type=click.UNPROCESSED)
def worker(faust_args: tuple[str, ...]) -> None:
    """Run a worker: Faust's worker command (see `vane worker --help`)."""
    from faust.cli.faust import cli as faust_cli

    from streams import worker as wiring

    app = wiring.build(Settings.from_env()).app
    faust_cli.main(
        args=["--loop", "uvloop", "worker", *faust_args],
        prog_name="vane",
        standalone_mode=False,
        app=app,
    )


@vane.command()
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
def stack(kafka_port: int, redis_port: int) -> None:
    """Run the embedded Kafka (Tansu) and Redis (Valkey) until Ctrl-C."""
    from streams.embedded import EmbeddedStack

    signal.signal(signal.SIGTERM, _exit_on_signal)
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


@vane.command()
@click.option(
    "--rate",
    type=click.FloatRange(min=0.1),
    default=20.0,
    show_default=True,
    help="Example events per second.",
)
def demo(rate: float) -> None:
    """Embedded stack + worker + example events; prints the worker's counts."""
    from streams import demo as demo_module

    signal.signal(signal.SIGTERM, _exit_on_signal)
    demo_module.run(rate_per_s=rate)


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point: run ``vane`` and map errors to one line."""
    try:
        result: Any = vane.main(args=argv, prog_name="vane", standalone_mode=False)
    except click.ClickException as exc:
        return _fail(_one_line(exc), exc.exit_code)
    except click.exceptions.Abort:
        return _fail("aborted", 1)
    except ConfigError as exc:
        return _fail(f"configuration: {exc}", USAGE_ERROR)
    except StackError as exc:
        return _fail(f"embedded stack: {exc}", 1)
    return result if isinstance(result, int) else 0


def _one_line(exc: click.ClickException) -> str:
    message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    if isinstance(exc, click.UsageError) and ctx is not None:
        message += f" (see '{ctx.command_path} --help')"
    return message


def _fail(message: str, code: int) -> int:
    click.echo(f"vane: error: {message}", err=True)
    return code


def run() -> None:
    """The ``vane`` console script."""
    sys.exit(main())


if __name__ == "__main__":
    run()
