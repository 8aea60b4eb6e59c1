"""The worker's web server: loopback by default, Vane's pages only, probes reuse connections."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest

from streams.store.probe import command
from tests import kafka_helpers as kafka
from tests.infra import Infra
from tests.servers import RestartableValkey
from tests.worker_process import WorkerProcess, topic_names, wait_until, worker_env

pytestmark = pytest.mark.integration

PROBES = 300


def status(worker: WorkerProcess, path: str) -> int | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{worker.web_port}{path}", timeout=3) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None


def listening_addresses(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp* shows them) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, _, hex_port = fields[1].partition(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def connections_received(port: int) -> int:
    reply = command(port, "INFO", "stats").decode()
    line = next(x for x in reply.splitlines() if x.startswith("total_connections_received:"))
    return int(line.split(":")[1])


def test_loopback_by_default_no_faust_pages_and_ready_reuses_its_connection(
    infra: Infra, unique: str, tmp_path: Path, valkey: RestartableValkey
) -> None:
    topics = topic_names(unique)
    kafka.create_topics(infra.kafka_bootstrap, list(topics.values()))
    served = Infra(infra.kafka_bootstrap, valkey.url, infra.kafka_origin, "dedicated")
    worker = WorkerProcess(worker_env(served, unique, topics, tmp_path), tmp_path / "w.log")
    del worker.env["VANE_WEB_HOST"]  # the default, as a user gets it
    with worker:
        wait_until(lambda: status(worker, "/ready") == 200, 60, what="/ready 200")
        assert listening_addresses(worker.web_port) == {"0100007F"}  # 127.0.0.1 only
        for page in ("/router/", f"/router/{topics['orders']}/", "/table/", "/graph/", "/stats/"):
            assert status(worker, page) == 404, page
        assert status(worker, "/metrics") == 200
        before = connections_received(valkey.port)
        answers = [status(worker, "/ready") for _ in range(PROBES)]
        opened = connections_received(valkey.port) - before
        worker.assert_running()
    print(f"{PROBES} /ready probes opened {opened} Redis connections")
    assert answers == [200] * PROBES
    assert opened < 10  # the probe's one connection, INFO's own, the store's (re)connects
