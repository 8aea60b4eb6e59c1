"""The bare Faust reference: one agent per input topic that only decodes.

Each event's value is decoded with orjson (``streams.codec``) and dropped. With
``VANE_BENCH_FASTPATH=1`` the app gets the same Faust extensions as ``vane
worker`` (``streams.kafka.fastpath``: uvloop, the lean monitor, batch delivery);
without it, it is plain Faust with its defaults. Broker timings are Vane's.
Run as a worker:

    VANE_APP_ID=g KAFKA_BOOTSTRAP=... python -m streams.devtools.benchmark.bare worker -l warn
"""

from __future__ import annotations

import os
import sys
from typing import Any

import faust
from faust.types import StreamT

from streams import codec
from streams.kafka import fastpath
from streams.settings import Settings
from streams.topics import input_topic_names

FASTPATH_ENV = "VANE_BENCH_FASTPATH"


def create_app(settings: Settings, *, fast: bool) -> faust.App:
    """One decode-only agent per input topic."""
    kafka, worker = settings.kafka, settings.worker
    extensions: dict[str, Any] = {}
    if fast:
        fastpath.use_uvloop()
        fastpath.register_transport()
        extensions["Monitor"] = fastpath.LeanMonitor
        extensions["broker_consumer"] = f"{fastpath.SCHEME}://{kafka.bootstrap}"
    app = faust.App(
        worker.app_id,
        broker=f"kafka://{kafka.bootstrap}",
        broker_session_timeout=kafka.session_timeout_s,
        broker_heartbeat_interval=kafka.heartbeat_interval_s,
        broker_commit_interval=kafka.commit_interval_s,
        consumer_auto_offset_reset="earliest",
        web_bind=worker.web_host,
        web_port=worker.web_port,
        datadir=str(worker.data_dir),
        autodiscover=False,
        **extensions,
    )
    for stream, name in input_topic_names(settings.topics).items():
        topic = app.topic(name, key_type=bytes, value_type=bytes, value_serializer="raw")
        app.agent(topic, name=f"bare.{stream.value}")(_decode_each)
    return app


async def _decode_each(values: StreamT[bytes]) -> None:
    async for value in values:
        codec.loads(value)


def main() -> None:
    from faust.cli.faust import cli as faust_cli

    app = create_app(Settings.from_env(), fast=os.environ.get(FASTPATH_ENV) == "1")
    faust_cli.main(args=sys.argv[1:], prog_name="bare", standalone_mode=False, app=app)


if __name__ == "__main__":
    main()
