"""``vane worker``: Faust's own worker command, bound to Vane's app.

Before Faust starts, the two causes of most failed starts are checked, each a
line instead of Faust's traceback: Kafka cannot be used, or the web port is
taken (a second worker on one host; ``VANE_WEB_PORT`` or ``--web-port`` moves it).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping
from typing import Any

import click

from streams.settings import Settings, WorkerSettings


@click.command(
    "worker",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("faust_args", nargs=-1, type=click.UNPROCESSED)
def command(faust_args: tuple[str, ...]) -> None:
    """Run a worker: Faust's worker command (see `vane worker --help`)."""
    from faust.cli.faust import cli as faust_cli

    from streams import worker as wiring
    from streams.kafka.preflight import check_kafka

    settings = Settings.from_env()
    app = wiring.build(settings).app
    if "--help" not in faust_args:
        with faust_cli.make_context("vane", ["worker"], app=app) as parent:
            worker = faust_cli.get_command(parent, "worker")
            assert worker is not None
            options = worker.make_context("worker", list(faust_args), parent=parent).params
        address = web_address(settings.worker, options)  # a bad option: Faust's one line
        if address is not None:
            check_port_free(*address)
        asyncio.run(check_kafka(settings.kafka))
    faust_cli.main(
        args=["worker", *faust_args],  # uvloop: streams.kafka.fastpath.use_uvloop()
        prog_name="vane",
        standalone_mode=False,
        app=app,
    )


def web_address(worker: WorkerSettings, options: Mapping[str, Any]) -> tuple[str, int] | None:
    """Where Faust's web server will listen, given its worker ``options``; None: nowhere."""
    port = options.get("web_port") or worker.web_port
    if not options.get("with_web", True) or port == 0:
        return None  # no web server, or any free port
    return options.get("web_bind") or worker.web_host, port


def check_port_free(host: str, port: int) -> None:
    """Bind the port as the web server will (SO_REUSEADDR); ClickException if taken."""
    try:
        family, kind, proto, _, where = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(where)
    except OSError as exc:
        raise click.ClickException(
            f"web server cannot listen on {host}:{port} ({exc.strerror or exc}): another "
            "worker on this host? Set VANE_WEB_PORT or --web-port"
        ) from None
