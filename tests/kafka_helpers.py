"""Small synchronous wrappers around aiokafka for tests (real broker, real protocol)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

MAX_BYTES = 8 * 1024 * 1024

Record = tuple[bytes | None, bytes | None]


def create_topics(bootstrap: str, names: Sequence[str], partitions: int = 4) -> None:
    async def run() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(n, partitions, 1) for n in names])
        finally:
            await admin.close()

    asyncio.run(run())


def produce(bootstrap: str, topic: str, records: Sequence[Record]) -> None:
    """Send (key, value) records and wait for every acknowledgement."""

    async def run() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=MAX_BYTES)
        await producer.start()
        try:
            futures = [await producer.send(topic, value=v, key=k) for k, v in records]
            await asyncio.gather(*futures)
        finally:
            await producer.stop()

    asyncio.run(run())


def consume(bootstrap: str, topic: str, count: int, timeout_s: float = 30.0) -> list[Any]:
    """Read ``count`` records from the beginning of ``topic`` (fewer on timeout)."""

    async def run() -> list[Any]:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            max_partition_fetch_bytes=MAX_BYTES,
            fetch_max_bytes=MAX_BYTES,
        )
        await consumer.start()
        out: list[Any] = []
        deadline = time.monotonic() + timeout_s
        try:
            while len(out) < count and time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    out.extend(records)
        finally:
            await consumer.stop()
        return out

    return asyncio.run(run())
