"""The readiness checks against real servers: up, down, and Redis with a password."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams.devtools.supervision import free_port, valkey_binary
from streams.kafka.probe import kafka_answers
from streams.settings import KafkaSettings, RedisSettings, Secret
from streams.store.probe import answers_at as redis_tcp_answers
from streams.store.probe import redis_answers
from tests.infra import Infra

pytestmark = pytest.mark.integration


@pytest.fixture
def guarded_valkey(tmp_path: Path) -> Iterator[int]:
    """A Valkey that requires a password; yields its port."""
    port = free_port()
    argv = [str(valkey_binary()), "--port", str(port), "--bind", "127.0.0.1"]
    argv += ["--dir", str(tmp_path), "--save", "", "--requirepass", "s3cret"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not redis_tcp_answers("127.0.0.1", port):
            assert time.monotonic() < deadline, "valkey did not start"
            time.sleep(0.05)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def test_kafka_check_answers_for_a_broker_and_not_for_a_closed_port(infra: Infra) -> None:
    assert asyncio.run(kafka_answers(KafkaSettings(bootstrap=infra.kafka_bootstrap)))
    closed = f"127.0.0.1:{free_port()}"
    assert not asyncio.run(kafka_answers(KafkaSettings(bootstrap=closed)))
    # Any bootstrap server that answers is enough.
    both = f"{closed},{infra.kafka_bootstrap}"
    assert asyncio.run(kafka_answers(KafkaSettings(bootstrap=both)))


def test_redis_check_answers_for_a_server_and_not_for_a_closed_port(store_redis: str) -> None:
    assert asyncio.run(redis_answers(RedisSettings(url=Secret(store_redis))))
    closed = Secret(f"redis://127.0.0.1:{free_port()}/0")
    assert not asyncio.run(redis_answers(RedisSettings(url=closed)))


def test_redis_check_authenticates(guarded_valkey: int) -> None:
    url = f"redis://127.0.0.1:{guarded_valkey}/0"
    assert not asyncio.run(redis_answers(RedisSettings(url=Secret(url))))
    with_setting = RedisSettings(url=Secret(url), password=Secret("s3cret"))
    assert asyncio.run(redis_answers(with_setting))
    in_url = Secret(f"redis://:s3cret@127.0.0.1:{guarded_valkey}/0")
    assert asyncio.run(redis_answers(RedisSettings(url=in_url)))
    wrong = RedisSettings(url=Secret(url), password=Secret("nope"))
    assert not asyncio.run(redis_answers(wrong))
