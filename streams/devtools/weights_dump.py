"""Read the weight topic from the beginning to its current end: ``vane weights``."""

from __future__ import annotations

import time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

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
        partitions = [TopicPartition(topic, p) for p in await _partitions(settings, topic)]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        return await _drain(consumer, partitions, time.monotonic() + timeout_s)
    finally:
        await consumer.stop()


async def _partitions(settings: Settings, topic: str) -> list[int]:
    """The topic's partition ids ([] when it does not exist), from the brokers' metadata.

    All topics are described, none named, so that asking never auto-creates one; a
    consumer's own metadata would not do (unsubscribed, Kafka sends it no topics).
    """
    admin = AIOKafkaAdminClient(**client_options(settings.kafka))
    await start(admin, settings.kafka)
    try:
        described = await admin.describe_topics()
    finally:
        await admin.close()
    found = [t for t in described if t["topic"] == topic and t["error_code"] == 0]
    return sorted(p["partition"] for t in found for p in t["partitions"])


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
