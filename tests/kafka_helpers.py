"""Small synchronous wrappers around aiokafka for tests (real broker, real protocol)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError

MAX_BYTES = 8 * 1024 * 1024

Record = tuple[bytes | None, bytes | None]


def create_topics(
    bootstrap: str,
    names: Sequence[str],
    partitions: int = 4,
    configs: Mapping[str, str] | None = None,
) -> None:
    """Create topics (``configs``: topic settings, e.g. ``{"cleanup.policy": "compact"}``)."""

    async def run() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            settings = dict(configs or {})
            await admin.create_topics(
                [NewTopic(n, partitions, 1, topic_configs=settings) for n in names]
            )
        finally:
            await admin.close()

    asyncio.run(run())


def produce(bootstrap: str, topic: str, records: Sequence[Record]) -> None:
    """Send (key, value) records to one topic and wait for every acknowledgement."""
    produce_keyed(bootstrap, [(topic, k, v) for k, v in records])


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


def produce_keyed(
    bootstrap: str, records: Sequence[tuple[str, bytes, bytes]]
) -> dict[tuple[str, int], int]:
    """Send (topic, key, value) records in order; return each partition's end offset."""

    async def run() -> dict[tuple[str, int], int]:
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, max_request_size=MAX_BYTES)
        await producer.start()
        ends: dict[tuple[str, int], int] = {}
        try:
            futures = [await producer.send(t, value=v, key=k) for t, k, v in records]
            for meta in await asyncio.gather(*futures):
                key = (meta.topic, meta.partition)
                ends[key] = max(ends.get(key, 0), meta.offset + 1)
        finally:
            await producer.stop()
        return ends

    return asyncio.run(run())


def committed(
    bootstrap: str, group: str, partitions: Sequence[tuple[str, int]]
) -> dict[tuple[str, int], int]:
    """The group's committed offsets (always pass the partitions: Tansu needs them).

    Asked again for up to 30 s while the broker answers "not yet" (a fresh Apache
    Kafka creates its offsets topic, and the group's coordinator, on first use).
    """
    from aiokafka.structs import TopicPartition

    async def ask() -> dict[TopicPartition, Any]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            tps = [TopicPartition(t, p) for t, p in partitions]
            return dict(await admin.list_consumer_group_offsets(group, partitions=tps))
        finally:
            await admin.close()

    async def run() -> dict[tuple[str, int], int]:
        deadline = time.monotonic() + 30
        while True:
            try:
                offsets = await ask()
                return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}
            except KafkaError as exc:
                if not exc.retriable or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.5)

    return asyncio.run(run())


def consume_all(bootstrap: str, topic: str, idle_s: float = 2.0) -> list[Any]:
    """Every record of ``topic`` from the beginning, until none arrives for ``idle_s``."""

    async def run() -> list[Any]:
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        out: list[Any] = []
        quiet_since = time.monotonic()
        try:
            while time.monotonic() - quiet_since < idle_s:
                batches = await consumer.getmany(timeout_ms=250)
                for records in batches.values():
                    out.extend(records)
                    quiet_since = time.monotonic()
        finally:
            await consumer.stop()
        return out

    return asyncio.run(run())
