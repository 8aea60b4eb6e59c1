"""Consumers under test as child processes, and how far their group has got.

A run starts one or more worker processes (``vane worker`` or the bare Faust
app), then polls the group's committed offsets and the processes' CPU time
until every partition is committed up to its end.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

from streams.devtools.benchmark.figures import Sample, cpu_seconds
from streams.devtools.supervision import free_port, spawn_child

POLL_S = 0.1


class Child:
    """One worker process, logging to a file; killed on ``stop`` if it hangs."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], log_path: Path) -> None:
        self.web_port = free_port()
        full_env = {**os.environ, **env, "VANE_WEB_PORT": str(self.web_port)}
        full_env["VANE_WEB_HOST"] = "127.0.0.1"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] = spawn_child(list(argv), log_path, full_env)

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_s(self) -> float:
        return self.cpu_of(self.pid)

    @staticmethod
    def cpu_of(pid: int) -> float:
        """CPU seconds of any process (0 once it is gone)."""
        try:
            return cpu_seconds(pid)
        except OSError:
            return 0.0

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{self.log_path.name} exited {self.process.returncode}:\n{tail}")

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def vane_worker(env: Mapping[str, str], log_path: Path) -> Child:
    """``vane worker`` (the full scorer) with these ``VANE_*`` settings."""
    argv = [sys.executable, "-m", "streams.cli", "worker", "-l", "warn"]
    return Child(argv, env, log_path)


def bare_faust(env: Mapping[str, str], log_path: Path) -> Child:
    """The bare Faust app of ``streams.devtools.benchmark.bare`` (decode only)."""
    argv = [sys.executable, "-m", "streams.devtools.benchmark.bare", "worker", "-l", "warn"]
    return Child(argv, env, log_path)


async def follow(
    bootstrap: str,
    group: str,
    ends: Mapping[tuple[str, int], int],
    children: Sequence[Child],
    timeout_s: float,
) -> list[Sample]:
    """Poll the group's progress and the children's CPU until all ``ends`` are committed."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    partitions = [TopicPartition(t, p) for t, p in ends]
    total = sum(ends.values())
    samples: list[Sample] = []
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            offsets = await admin.list_consumer_group_offsets(group, partitions=partitions)
            done = sum(
                max(0, min(_offset(offsets, tp), ends[tp.topic, tp.partition]))
                for tp in partitions
            )
            samples.append(Sample(time.monotonic(), done, sum(c.cpu_s() for c in children)))
            if done >= total:
                return samples
            for child in children:
                child.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{group}: {done}/{total} consumed after {timeout_s:.0f}s")
            await asyncio.sleep(POLL_S)
    finally:
        await admin.close()


def _offset(offsets: Mapping[TopicPartition, object], tp: TopicPartition) -> int:
    meta = offsets.get(tp)
    return -1 if meta is None else int(meta.offset)  # type: ignore[attr-defined]


def peer(env: Mapping[str, str], log_path: Path) -> Child:
    """The Quix Streams peer of ``streams.devtools.benchmark.peer`` (same counting job)."""
    return Child([sys.executable, "-m", "streams.devtools.benchmark.peer"], env, log_path)
