"""`vane demo` shows counts from a live worker and leaves nothing behind on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.integration.test_embedded_stack import alive, descendants

pytestmark = pytest.mark.integration


def test_demo_counts_events_and_stops_cleanly_on_ctrl_c() -> None:
    argv = [sys.executable, "-m", "streams.cli", "demo", "--rate", "50"]
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        seen = ""
        while "vane_events_total" not in seen and time.monotonic() < deadline:
            seen += proc.stdout.readline()
        assert "vane_events_total" in seen, seen
        children = descendants(proc.pid)
        assert len(children) == 3, "tansu, valkey and the worker"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=40) == 0
        assert not [pid for pid in children if alive(pid)]
