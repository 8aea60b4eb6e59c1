"""The ``vane`` command line.

    vane worker [FAUST WORKER OPTIONS]   run a worker (Faust's own worker command)
    vane stack                           run the embedded Kafka + Redis in the foreground
    vane demo                            the stack, a worker and example events, watched
    vane explain TYPE ID                 an entity's score and the arithmetic behind it
    vane sweep                           ask the workers for a day-close sweep now

``vane worker`` is Faust's ``worker`` command bound to Vane's app, so it takes
Faust's options (``-l info``, ``--web-port``, ...). Configuration comes from
``VANE_*`` variables (streams.settings). A bad argument or setting gets one line
on stderr and exit status 2, never a traceback; a ``VANE_*`` name that no setting
reads gets a warning naming the closest one.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

from streams.errors import ConfigError, StackError, VaneError
from streams.settings import unknown_variables

USAGE_ERROR = 2
# Read by the harness (devtools, tests, docker-compose.yml's host ports), not by a
# setting: these, and every name with one of the prefixes.
HARNESS_VARIABLES = frozenset({"VANE_KAFKA_HOME", "VANE_PARITY_FULL"})
HARNESS_PREFIXES = ("VANE_BENCH_", "VANE_COMPOSE_")


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
    warn_unknown_variables(os.environ)
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
    except OSError as exc:
        if exc.filename is None:
            raise
        return _fail(f"{exc.filename}: {exc.strerror or exc}", 1)
    return result if isinstance(result, int) else 0


def warn_unknown_variables(environ: Mapping[str, str]) -> None:
    """One line on stderr per ``VANE_*`` name that no setting reads."""
    harness = HARNESS_VARIABLES | {n for n in environ if n.startswith(HARNESS_PREFIXES)}
    for name, closest in unknown_variables(environ, also=frozenset(harness)):
        hint = f"; did you mean {closest}?" if closest else ""
        click.echo(f"vane: warning: {name} is not a setting, ignored{hint}", err=True)


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
