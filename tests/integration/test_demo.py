"""`vane demo` shows weight updates within a minute and leaves nothing behind on Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.integration.test_embedded_stack import alive, descendants

pytestmark = pytest.mark.integration

FIRST_UPDATE_LIMIT_S = 60


def test_demo_publishes_weight_updates_and_stops_cleanly_on_ctrl_c() -> None:
    argv = [sys.executable, "-m", "streams.cli", "demo"]
    started = time.monotonic()
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        seen = ""
        while "weight update:" not in seen and time.monotonic() - started < FIRST_UPDATE_LIMIT_S:
            seen += proc.stdout.readline()
        first_update_s = time.monotonic() - started
        assert "weight update:" in seen, seen[-2000:]
        # The legend first: what display is, and why a tier holds near a threshold.
        assert "display: the merchant-facing value" in seen
        assert "shop 3-5, creator 0-5" in seen
        update = seen.split("weight update:", 1)[1].splitlines()[0]
        sentences = ("yesterday ", "no rating yesterday", "unrated today")
        assert any(f"; {s}" in update for s in sentences), f"no deciding sentence: {update}"
        print(f"first weight update {first_update_s:.1f}s after `vane demo` started")
        children = descendants(proc.pid)
        assert len(children) == 3, "tansu, valkey and the worker"
        proc.send_signal(signal.SIGINT)
        # bounded, generous: the demo stops the worker (20 s grace), then both servers (5 s each)
        try:
            rest, _ = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()  # fail this test alone: a hung demo must not outlive it
            rest, _ = proc.communicate()
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            pytest.fail(
                f"vane demo did not stop within 90 s of Ctrl-C; it printed:\n{rest[-3000:]}"
            )
        assert proc.returncode == 0, rest[-3000:]
        # a client whose clean-up overran is abandoned with a line naming it: shown, allowed
        print("\n".join(line for line in rest.splitlines() if "vane demo: abandoned" in line))
        assert not [pid for pid in children if alive(pid)]
