"""A Valkey server that a test can stop and start again on the same data (AOF)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from streams.devtools.supervision import free_port, spawn_child, valkey_binary
from streams.store.probe import answers_at as redis_answers


class RestartableValkey:
    """Valkey with ``appendonly yes`` and ``appendfsync everysec`` in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout_s: float = 10.0) -> RestartableValkey:
        argv = [str(valkey_binary()), "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--dir", str(self.folder), "--save", "", "--appendonly", "yes"]
        argv += ["--appendfsync", "everysec"]
        self.process = spawn_child(argv, self.folder / "valkey.log")
        deadline = time.monotonic() + timeout_s
        while not redis_answers("127.0.0.1", self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(
                    f"valkey did not start: {(self.folder / 'valkey.log').read_text()[-800:]}"
                )
            time.sleep(0.05)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(timeout=20)
