"""The embedded stack: a Kafka broker and Valkey (Redis protocol) on loopback.

The broker is Tansu by default; both come from PyPI wheels
(``streams.devtools.supervision``), so a fresh machine needs no Docker and no
downloads. ``broker="kafka"`` runs a real Apache Kafka instead
(``streams.devtools.apache_kafka``: Java 17+ and the jars ``make kafka`` fetches).
The stack is used by ``vane stack``, ``make demo``, the tests and the benchmarks.

    with EmbeddedStack() as stack:                  # or EmbeddedStack(broker="kafka")
        print(stack.kafka_bootstrap, stack.redis_url)

Children never outlive us (``supervision``); ``stop()`` (also run on
``__exit__``) terminates them, then kills them after a grace period. Tansu keeps
data in memory only: a restart loses every topic.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import quote

from streams.devtools.apache_kafka import (
    ApacheKafka,
    ApacheKafkaError,
    java_problem,
    kafka_libs,
    pinned_version,
    repo_root,
)
from streams.devtools.kafka_front import scram_credentials
from streams.devtools.supervision import (
    START_TIMEOUT_S,
    Server,
    Started,
    free_port,
    listening,
    private_file,
    tansu_binary,
    valkey_binary,
)
from streams.errors import StackError
from streams.kafka.probe import answers_blocking
from streams.store.probe import answers_at

Broker = Literal["tansu", "kafka"]
BROKERS: tuple[Broker, ...] = get_args(Broker)
SKIP_NOTE = Path(".vane") / "kafka" / "skipped"  # why `make kafka` fetched nothing (fetch.sh)
# Workers on an embedded broker join fast with a 3 s session (INFRA.md: join delay is
# about half the session timeout). Tansu takes it; the embedded Apache Kafka lowers
# group.min.session.timeout.ms for it (stock Kafka refuses under 6 s, Vane's default).
EMBEDDED_SESSION_TIMEOUT_S = 3


def kafka_unavailable() -> str | None:
    """Why the embedded Apache Kafka cannot run here (one line), or None when it can.

    Without jars the line says what ``make kafka`` said when it fetched none.
    """
    root, home = repo_root(), os.environ.get("VANE_KAFKA_HOME")
    if kafka_libs() is None:
        folder = f"{home}/libs" if home else f".vane/kafka/{pinned_version(root)}/libs"
        said = _read_line(root / SKIP_NOTE)
        why = f"`make kafka` said: {said}" if said else "not fetched yet"
        return f"no Apache Kafka jars in {folder} ({why}): run `make kafka` first"
    problem = java_problem()
    return f"{problem}: Apache Kafka needs Java 17+ (set JAVA_HOME)" if problem else None


def _read_line(path: Path) -> str:
    try:
        return " ".join(path.read_text().split())
    except OSError:
        return ""


class KafkaServer(Server):
    """The Apache Kafka JVM (``ApacheKafka``) as one of the stack's servers.

    Its ports are free ones the broker picks; ``process`` stays None (the JVM is
    ``ApacheKafka``'s child): ``pid`` names it.
    """

    def __init__(self, workdir: Path, properties: Mapping[str, object]) -> None:
        super().__init__("kafka", [], 0, workdir / "kafka.log")
        self.broker = ApacheKafka(properties)

    @property
    def pid(self) -> int:
        """The broker JVM's pid (0 before it started)."""
        return self.broker.pid

    def start(self) -> None:
        reason = kafka_unavailable()
        if reason:
            raise StackError(reason)
        try:
            self.broker.start()
        except ApacheKafkaError as exc:
            raise StackError(str(exc)) from exc
        self.port, self.log_path = self.broker.port, self.broker.log_path

    def check_alive(self) -> None:
        if self.broker.pid and not _running(self.broker.pid):
            tail = _read_tail(self.log_path)
            raise StackError(f"Apache Kafka (pid {self.broker.pid}) exited:\n{tail}")

    def stop(self) -> None:
        self.broker.stop()


def _running(pid: int) -> bool:
    """True while ``pid`` runs (an exited child is a zombie until reaped: not running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _read_tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-2000:]
    except OSError:
        return ""


def _valkey_quoted(value: str) -> str:
    """A config-file string for Valkey: double-quoted, backslash-escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class EmbeddedStack(Started):
    """A broker and Valkey on free loopback ports, started together, stopped together.

    ``broker`` is ``"tansu"`` (the default) or ``"kafka"`` (Apache Kafka;
    ``kafka_properties`` add to its server.properties; no ``kafka_port``, no
    security options: it picks free ports and listens on plain TCP).
    Optional security (Tansu) (docs/security.md): ``kafka_tls=(cert, key)`` and/or
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
        broker: Broker = "tansu",
        kafka_properties: Mapping[str, object] | None = None,
    ) -> None:
        if broker not in BROKERS:
            raise StackError(f"unknown broker {broker!r} (one of {', '.join(BROKERS)})")
        secured = kafka_tls is not None or kafka_users is not None
        if broker == "kafka" and (secured or kafka_port):
            raise StackError("the embedded Apache Kafka takes no kafka_port, TLS or users")
        self.broker = broker
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="vane-stack-")
            workdir = Path(self._tmp.name)
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.kafka_front: Server | None = None
        if broker == "kafka":
            self.kafka: Server = KafkaServer(self.workdir, kafka_properties or {})
        else:
            public = kafka_port or free_port()
            self.kafka = self._tansu(free_port() if secured else public, public)
            self.kafka_front = self._front(public, kafka_tls, kafka_users) if secured else None
        self.redis_password = redis_password
        self.redis = self._valkey(redis_port or free_port(), valkey_args)

    def _tansu(self, port: int, advertised: int) -> Server:
        url = f"tcp://127.0.0.1:{port}"
        argv = [str(tansu_binary()), "broker", "--listener-url", url]
        argv += ["--advertised-listener-url", f"tcp://127.0.0.1:{advertised}"]
        argv += ["--storage-engine", "memory://tansu/"]
        return Server("tansu", argv, port, self.workdir / "tansu.log")

    def _front(
        self, port: int, tls: tuple[Path, Path] | None, users: Mapping[str, str] | None
    ) -> Server:
        argv = [sys.executable, "-m", "streams.devtools.kafka_front", "--port", str(port)]
        argv += ["--upstream", str(self.kafka.port)]
        if tls is not None:
            argv += ["--cert", str(tls[0]), "--key", str(tls[1])]
        if users is not None:
            credentials = {name: scram_credentials(pw) for name, pw in users.items()}
            argv += ["--users", str(private_file(self.workdir / "kafka-users.json", credentials))]
        return Server("kafka-front", argv, port, self.workdir / "kafka-front.log")

    def _valkey(self, port: int, extra: tuple[str, ...]) -> Server:
        argv = [str(valkey_binary())]
        if self.redis_password is not None:
            # In a file, not on the command line, where `ps` would show it.
            conf = f"requirepass {_valkey_quoted(self.redis_password)}\n"
            argv.append(str(private_file(self.workdir / "valkey-auth.conf", conf)))
        argv += ["--port", str(port), "--bind", "127.0.0.1"]
        argv += ["--dir", str(self.workdir), "--save", "", "--appendonly", "no", *extra]
        return Server("valkey", argv, port, self.workdir / "valkey.log")

    def _servers(self) -> list[Server]:
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

    def start(self, timeout_s: float = START_TIMEOUT_S) -> EmbeddedStack:
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
            self.kafka.name: partial(answers_blocking, self.kafka.port),
            "valkey": partial(answers_at, "127.0.0.1", self.redis.port),
        }
        if self.kafka_front is not None:
            checks["kafka-front"] = partial(listening, self.kafka_front.port)
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

    @property
    def worker_env(self) -> dict[str, str]:
        """``VANE_*`` settings a worker wants on this stack beyond the addresses."""
        return {"VANE_KAFKA_SESSION_TIMEOUT_S": str(EMBEDDED_SESSION_TIMEOUT_S)}

    @property
    def kafka_pid(self) -> int:
        """The broker's pid (Tansu or the Kafka JVM): e.g. to pause it with SIGSTOP."""
        if isinstance(self.kafka, KafkaServer):
            return self.kafka.pid
        return self.kafka.process.pid if self.kafka.process is not None else 0

    def pids(self) -> list[int]:
        """PIDs of the running servers (for tests that check for orphans)."""
        pids = [s.process.pid for s in self._servers() if s.process is not None]
        return [self.kafka_pid, *pids] if isinstance(self.kafka, KafkaServer) else pids
