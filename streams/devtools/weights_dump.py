"""Read the weight topic from the beginning to its current end: ``vane weights``."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from streams import codec
from streams.kafka.clients import MAX_MESSAGE_BYTES, client_options, start
from streams.settings import Settings


async def read_weight_topic(settings: Settings, timeout_s: float = 60.0) -> list[dict[str, Any]]:
    """Every message on the weight topic now, per partition in offset order.

    The end is each partition's high watermark as the fetch reports it (Tansu's
    ListOffsets is off by one batch, INFRA.md), seen once the partition is read.
    """
    topic = settings.topics.weights
    consumer = AIOKafkaConsumer(
        **client_options(settings.kafka),
        enable_auto_commit=False,
        max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
    )
    await start(consumer, settings.kafka)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(await _partitions(consumer, topic))]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        return await _drain(consumer, partitions, time.monotonic() + timeout_s)
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(20):
        found = consumer.partitions_for_topic(topic)
        if found:
            return set(found)
        await consumer.topics()  # refreshes metadata
        await asyncio.sleep(0.1)
    return set()


async def _drain(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition], deadline: float
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    done: set[TopicPartition] = set()
    while len(done) < len(partitions):
        if time.monotonic() > deadline:
            raise TimeoutError(f"weight topic not read to its end ({len(done)}/{len(partitions)})")
        for records in (await consumer.getmany(timeout_ms=500)).values():
            out.extend(codec.loads(r.value) for r in records)
        for tp in partitions:
            high = consumer.highwater(tp)
            if high is not None and await consumer.position(tp) >= high:
                done.add(tp)
    return out
