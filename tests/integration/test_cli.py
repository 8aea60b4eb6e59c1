"""The CLI against real servers: replays that cannot help say so, and `vane weights`."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from streams import codec
from streams.devtools.replay import intake_breach
from streams.events import Stream
from tests import kafka_helpers as kafka
from tests.infra import Infra
from tests.samples import STREAM_OF_TYPE, TYPES, sample
from tests.worker_process import topic_names, worker_env

pytestmark = pytest.mark.integration

FUTURE = "2099-01-01T00:00:00+08:00"


Run = subprocess.CompletedProcess[str]


def vane(*args: str, env: dict[str, str], timeout: float = 120) -> Run:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=timeout, check=False,
    )  # fmt: skip


@pytest.fixture
def env(infra: Infra, unique: str, tmp_path: Path) -> dict[str, str]:
    """Settings with this test's own topics and group; no worker runs for them."""
    topics = topic_names(unique)
    kafka.create_topics(infra.kafka_bootstrap, list(topics.values()))
    return worker_env(infra, unique, topics, tmp_path)


def _error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.strip().splitlines()[-1]


def test_a_replay_of_a_binary_file_fails(env: dict[str, str], tmp_path: Path) -> None:
    binary = tmp_path / "a.out"
    binary.write_bytes(Path(sys.executable).read_bytes()[:4096])
    line = _error(vane("replay", str(binary), "--wait", env=env))
    assert line.startswith("vane: error: every line was skipped")


def test_a_replay_of_events_from_the_future_fails(env: dict[str, str], tmp_path: Path) -> None:
    live = next(t for t in TYPES if STREAM_OF_TYPE[t] is Stream.LIVESTREAM)
    events = [codec.dumps(sample(live, f"ev-{i}", ts=FUTURE)) for i in range(3)]
    assert intake_breach(Stream.LIVESTREAM, events[0], 0) is not None
    file = tmp_path / "future.jsonl"
    file.write_bytes(b"\n".join(events) + b"\n")
    line = _error(vane("replay", str(file), "--wait", env=env))
    assert "every event sent (3) will be dead-lettered" in line
    assert "from_future" in line


def _events_file(tmp_path: Path) -> Path:
    file = tmp_path / "events.jsonl"
    file.write_bytes(codec.dumps(sample("order.paid", "ev-ok")) + b"\n")
    return file


def test_replay_wait_without_a_worker_fails_fast(env: dict[str, str], tmp_path: Path) -> None:
    # The default --timeout (600 s, as in the README); the group's emptiness ends it long
    # before. A 5 s grace instead of the default 30 s: the message is the point, not the wait.
    args = ("replay", str(_events_file(tmp_path)), "--wait", "--no-worker-timeout", "5")
    result = vane(*args, env=env, timeout=150)
    line = _error(result)
    assert "no worker is consuming" in line
    assert env["VANE_APP_ID"] in line


def test_replay_wait_keeps_waiting_while_the_group_has_members(
    infra: Infra, env: dict[str, str], tmp_path: Path
) -> None:
    async def member_while(run: asyncio.Future[subprocess.CompletedProcess[str]]) -> None:
        consumer = AIOKafkaConsumer(
            env["VANE_TOPIC_LIVESTREAM"],
            bootstrap_servers=infra.kafka_bootstrap,
            group_id=env["VANE_APP_ID"],
            enable_auto_commit=False,
            session_timeout_ms=6000,
            heartbeat_interval_ms=500,
        )
        await consumer.start()  # a member that consumes nothing the replay wrote
        try:
            while not run.done():
                await consumer.getmany(timeout_ms=200)
        finally:
            await consumer.stop()

    async def scenario() -> subprocess.CompletedProcess[str]:
        args = ("replay", str(_events_file(tmp_path)), "--wait", "--timeout", "15")
        run = asyncio.ensure_future(
            asyncio.to_thread(vane, *args, "--no-worker-timeout", "3", env=env)
        )
        await member_while(run)
        return await run

    line = _error(asyncio.run(scenario()))
    assert "not consumed after 15s" in line


async def _produce(bootstrap: str, topic: str, rows: list[tuple[int, int, str]]) -> None:
    """(partition, timestamp_ms, key) records, in the order given."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for partition, ts_ms, key in rows:
            value = codec.dumps({"schema": 1, "key": key, "ts": ts_ms})
            await producer.send_and_wait(
                topic, value, key=key.encode(), partition=partition, timestamp_ms=ts_ms
            )
    finally:
        await producer.stop()


def test_weights_prints_records_in_time_order_and_follows(
    infra: Infra, env: dict[str, str]
) -> None:
    topic = env["VANE_TOPIC_WEIGHTS"]
    base = 1_795_312_800_000
    written = [(1, base + 3, "shop:c"), (0, base + 4, "shop:d"), (1, base + 1, "shop:a")]
    written += [(2, base + 2, "shop:b")]
    asyncio.run(_produce(infra.kafka_bootstrap, topic, written))
    result = vane("weights", env=env)
    assert result.returncode == 0, result.stderr
    records = [codec.loads(line) for line in result.stdout.splitlines()]
    assert [r["key"] for r in records] == ["shop:a", "shop:b", "shop:c", "shop:d"]
    assert records[0] == {
        "key": "shop:a",
        "partition": 1,
        "offset": 1,
        "timestamp_ms": base + 1,
        "value": {"schema": 1, "key": "shop:a", "ts": base + 1},
    }

    argv = [sys.executable, "-m", "streams.cli", "weights", "--follow"]
    pipe = subprocess.PIPE
    with subprocess.Popen(
        argv, stdout=pipe, stderr=pipe, text=True, env={**os.environ, **env}
    ) as follow:
        assert follow.stdout is not None
        assert follow.stderr is not None
        try:
            seen = [codec.loads(follow.stdout.readline())["key"] for _ in written]
            assert seen == ["shop:a", "shop:b", "shop:c", "shop:d"]
            asyncio.run(_produce(infra.kafka_bootstrap, topic, [(3, base + 5, "shop:e")]))
            assert codec.loads(follow.stdout.readline())["key"] == "shop:e"
            follow.send_signal(signal.SIGINT)
            assert follow.wait(timeout=30) == 0
            assert follow.stderr.read() == ""
        finally:
            follow.kill()
