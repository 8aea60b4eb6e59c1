"""A three-node Valkey cluster on loopback, for the store's tests: start, form, stop.

Slots are split in three ranges with CLUSTER ADDSLOTSRANGE and the nodes are
joined with CLUSTER MEET; ``start()`` returns once every node reports
``cluster_state:ok``.

    with EmbeddedValkeyCluster() as cluster:
        print(cluster.url)
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from streams.devtools.supervision import (
    START_TIMEOUT_S,
    Server,
    Started,
    free_port,
    valkey_binary,
)
from streams.errors import StackError
from streams.store.probe import answers_at, command


def _cluster_ok(port: int) -> bool:
    return b"cluster_state:ok" in command(port, "CLUSTER", "INFO")


class EmbeddedValkeyCluster(Started):
    """Three Valkey masters in cluster mode on loopback (no replicas): for tests.

    Slots are split in three ranges with CLUSTER ADDSLOTSRANGE and the nodes are
    joined with CLUSTER MEET; ``start()`` returns once every node reports
    ``cluster_state:ok``.
    """

    SLOT_RANGES = ((0, 5460), (5461, 10922), (10923, 16383))

    def __init__(self, workdir: Path | None = None) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="vane-cluster-")
            workdir = Path(self._tmp.name)
        self.workdir = workdir
        self.bus_ports: dict[int, int] = {}
        self.nodes = [self._node(free_port()) for _ in self.SLOT_RANGES]

    def _node(self, port: int) -> Server:
        folder = self.workdir / str(port)
        folder.mkdir(parents=True, exist_ok=True)
        argv = [str(valkey_binary()), "--port", str(port), "--bind", "127.0.0.1"]
        argv += ["--dir", str(folder), "--save", "", "--appendonly", "no"]
        argv += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
        # The bus port defaults to port + 10000, which may not exist: pick one.
        self.bus_ports[port] = free_port()
        argv += ["--cluster-port", str(self.bus_ports[port])]
        return Server(f"valkey-{port}", argv, port, folder / "valkey.log")

    @property
    def url(self) -> str:
        """A ``redis://`` URL of one node (cluster clients discover the rest)."""
        return f"redis://127.0.0.1:{self.nodes[0].port}/0"

    def start(self, timeout_s: float = START_TIMEOUT_S) -> EmbeddedValkeyCluster:
        try:
            for node in self.nodes:
                node.start()
            self._form(time.monotonic() + timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _form(self, deadline: float) -> None:
        for node in self.nodes:
            self._wait(partial(answers_at, "127.0.0.1", node.port), deadline, node.name)
        for node, (first, last) in zip(self.nodes, self.SLOT_RANGES, strict=True):
            command(node.port, "CLUSTER", "ADDSLOTSRANGE", str(first), str(last))
        for node in self.nodes[1:]:
            bus = str(self.bus_ports[node.port])
            command(self.nodes[0].port, "CLUSTER", "MEET", "127.0.0.1", str(node.port), bus)
        for node in self.nodes:
            self._wait(partial(_cluster_ok, node.port), deadline, f"{node.name} cluster_state:ok")

    def _wait(self, ready: Callable[[], bool], deadline: float, what: str) -> None:
        while not ready():
            for node in self.nodes:
                node.check_alive()
            if time.monotonic() > deadline:
                raise StackError(f"timed out waiting for {what}")
            time.sleep(0.05)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
