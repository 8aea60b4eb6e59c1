"""The embedded stack: Tansu (Kafka protocol) and Valkey (Redis protocol) on loopback.

Both servers come from PyPI wheels (``streams.devtools.supervision``), so a fresh
machine needs no Docker and no downloads. The stack is used by ``vane stack``,
``make demo``, the tests and the benchmarks.

    with EmbeddedStack() as stack:
        print(stack.kafka_bootstrap, stack.redis_url)

Children never outlive us (``supervision``); ``stop()`` (also run on
``__exit__``) terminates them, then kills them after a grace period. Tansu keeps
data in memory only: a restart loses every topic.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from urllib.parse import quote

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


def _valkey_quoted(value: str) -> str:
    """A config-file string for Valkey: double-quoted, backslash-escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class EmbeddedStack(Started):
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
            "tansu": partial(answers_blocking, self.kafka.port),
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

    def pids(self) -> list[int]:
        """PIDs of the running servers (for tests that check for orphans)."""
        return [s.process.pid for s in self._servers() if s.process is not None]
