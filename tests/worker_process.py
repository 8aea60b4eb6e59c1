"""Run a real ``vane worker`` as a child process and read its /metrics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from prometheus_client.parser import text_string_to_metric_families

from streams.devtools.supervision import free_port
from streams.events import Stream
from tests.infra import Infra

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def topic_names(unique: str) -> dict[str, str]:
    """This test's own topic names, keyed like the settings (orders, ..., dlq, weights)."""
    names = {s.value: f"{s.value}-{unique}" for s in Stream}
    return {**names, "dlq": f"dlq-{unique}", "weights": f"weights-{unique}"}


def worker_env(infra: Infra, unique: str, topics: dict[str, str], tmp: Path) -> dict[str, str]:
    """VANE_* settings for a worker with its own topics, group and Redis key prefix."""
    env = {f"VANE_TOPIC_{k.upper()}": v for k, v in topics.items()}
    env |= {"VANE_APP_ID": f"vane-test-{unique}", "VANE_DATA_DIR": str(tmp / "data")}
    env |= {"KAFKA_BOOTSTRAP": infra.kafka_bootstrap, "REDIS_URL": infra.redis_url}
    env |= {"VANE_REDIS_KEY_PREFIX": f"t{unique}"}
    return env | infra.worker_env


class WorkerProcess:
    """``vane worker`` with the given ``VANE_*`` environment, logging to a file."""

    def __init__(self, env: Mapping[str, str], log_path: Path) -> None:
        self.web_port = free_port()
        self.log_path = log_path
        self.env = {**os.environ, **env, "VANE_WEB_PORT": str(self.web_port)}
        self.env["VANE_WEB_HOST"] = "127.0.0.1"
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def start(self) -> WorkerProcess:
        argv = [sys.executable, "-m", "streams.cli", "worker", "-l", "info"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                argv, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        self.started_at = time.monotonic()
        return self

    def metrics(self) -> Samples:
        """Every sample on /metrics, keyed by (name, sorted labels); {} if not up yet."""
        url = f"http://127.0.0.1:{self.web_port}/metrics"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                text = response.read().decode()
        except OSError:
            return {}
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    def assert_running(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"worker exited {self.process.returncode}:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 20.0) -> int:
        proc, self.process = self.process, None
        if proc is None:
            return 0
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def __enter__(self) -> WorkerProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def wait_until(predicate, timeout_s: float, interval_s: float = 0.1, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll ``predicate`` until it returns a truthy value; return it or fail."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
