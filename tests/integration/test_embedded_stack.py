"""The embedded stack starts, answers, and leaves no process behind however it ends,
with either broker (Tansu, or Apache Kafka when ``make kafka`` fetched it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from streams.devtools.embedded import Broker, EmbeddedStack
from streams.kafka.probe import answers_blocking as kafka_answers
from streams.store.probe import answers_at as redis_answers
from tests import kafka_helpers as kafka
from tests.worker_process import wait_until

pytestmark = pytest.mark.integration


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for our purpose once reaped or a zombie.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(")")[-1].split()[0] != "Z"


def test_stack_answers_and_stops_cleanly(embedded_broker: Broker) -> None:
    with EmbeddedStack(broker=embedded_broker) as stack:
        pids = stack.pids()
        assert len(pids) == 2
        kafka.create_topics(stack.kafka_bootstrap, ["ping"], partitions=1)
        kafka.produce(stack.kafka_bootstrap, "ping", [(b"k", b"v")])
        assert [r.value for r in kafka.consume(stack.kafka_bootstrap, "ping", 1)] == [b"v"]
        assert redis_answers("127.0.0.1", stack.redis.port)
    assert not [pid for pid in pids if alive(pid)]


def test_stack_stops_when_the_body_fails() -> None:
    pids: list[int] = []

    def failing_test() -> None:
        with EmbeddedStack() as stack:
            pids.extend(stack.pids())
            raise RuntimeError("a failing test")

    with pytest.raises(RuntimeError):
        failing_test()
    assert len(pids) == 2
    assert not [pid for pid in pids if alive(pid)]


SCRIPT = """
import sys, time
from streams.devtools.embedded import Broker, EmbeddedStack
stack = EmbeddedStack().start()
print(*stack.pids(), flush=True)
time.sleep(120)
"""


def test_servers_die_with_a_killed_parent() -> None:
    argv = [sys.executable, "-c", SCRIPT]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) as parent:
        assert parent.stdout is not None
        pids = [int(p) for p in parent.stdout.readline().split()]
        assert len(pids) == 2
        assert all(alive(p) for p in pids)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    wait_until(lambda: not any(alive(p) for p in pids), timeout_s=10, what="orphans to exit")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_vane_stack_command_prints_urls_and_cleans_up(embedded_broker: Broker, sig: int) -> None:
    argv = [sys.executable, "-m", "streams.cli", "stack", "--broker", embedded_broker]
    # the addresses, and the short session timeout the embedded brokers take (fast joins)
    want = {"KAFKA_BOOTSTRAP", "REDIS_URL", "VANE_KAFKA_SESSION_TIMEOUT_S"}
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(1 + len(want))]
        exports = dict(line.removeprefix("export ").strip().split("=", 1) for line in lines[1:])
        assert set(exports) == want, lines
        port = int(exports["REDIS_URL"].rsplit(":", 1)[1].split("/")[0])
        assert redis_answers("127.0.0.1", port)
        assert kafka_answers(int(exports["KAFKA_BOOTSTRAP"].rsplit(":", 1)[1]))
        children = descendants(proc.pid)
        assert len(children) == 2, "the broker and valkey"
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 0
    time.sleep(0.1)
    assert not [pid for pid in children if alive(pid)]


def test_vane_stack_without_kafka_jars_says_to_run_make_kafka(tmp_path: Path) -> None:
    env = {**os.environ, "VANE_KAFKA_HOME": str(tmp_path / "nothing")}
    argv = [sys.executable, "-m", "streams.cli", "stack", "--broker", "kafka"]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr  # one line, no traceback
    assert "no Apache Kafka jars" in lines[0]
    assert "run `make kafka` first" in lines[0]


def descendants(pid: int) -> list[int]:
    """Direct children of ``pid``."""
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in out.stdout.split()]
