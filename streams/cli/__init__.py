"""The ``vane`` command line.

    vane worker [FAUST WORKER OPTIONS]   run a worker (Faust's own worker command)
    vane stack                           run the embedded Kafka + Redis in the foreground
    vane demo                            the stack, a worker and example events, watched
    vane explain TYPE ID                 an entity's score and the arithmetic behind it
    vane sweep                           ask the workers for a day-close sweep now

``vane worker`` is Faust's ``worker`` command bound to Vane's app, so it takes
Faust's options (``-l info``, ``--web-port``, ...). Configuration comes from
``VANE_*`` variables (streams.settings). A bad argument or setting gets one line
on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from streams.errors import ConfigError, StackError, VaneError

USAGE_ERROR = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def vane() -> None:
    """Vane: live-commerce events in, scores and traffic-weight updates out."""


def _register_commands() -> None:
    """Each command lives in its own module under streams/cli/."""
    from streams.cli import (
        bench,
        demo,
        explain,
        generate,
        replay,
        score_file,
        snapshot,
        stack,
        sweep,
        weights,
        worker,
    )

    commands = (worker, stack, demo, explain, sweep, replay, score_file, generate, bench)
    for module in (*commands, snapshot, weights):
        vane.add_command(module.command)


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point: run ``vane`` and map errors to one line."""
    _register_commands()
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
    except VaneError as exc:
        return _fail(str(exc), 1)
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
