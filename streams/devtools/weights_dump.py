"""Read the weight topic: ``vane weights``.

Each message is a record with its place on the topic, in time order across the
partitions (the broker's timestamp, then partition and offset), so that the last
lines are the latest changes:

    {"key": "shop:s1", "partition": 2, "offset": 17, "timestamp_ms": 1795312800123,
     "value": {"schema": 1, "entity_type": "shop", ...}}

``weight_records`` yields the topic up to its current end as one batch, then,
with ``follow``, every later fetch as a batch, until ``stop`` is set.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from streams import codec
from streams.kafka.clients import MAX_MESSAGE_BYTES, client_options, start
from streams.settings import Settings

FOLLOW_POLL_MS = 500


async def read_weight_topic(settings: Settings, timeout_s: float = 60.0) -> list[dict[str, Any]]:
    """Every message on the weight topic now, as records in time order."""
    async for batch in weight_records(settings, timeout_s=timeout_s):
        return batch
    return []


async def weight_records(
    settings: Settings,
    *,
    follow: bool = False,
    stop: asyncio.Event | None = None,
    timeout_s: float = 60.0,
) -> AsyncIterator[list[dict[str, Any]]]:
    """The topic to its current end (one batch), then with ``follow`` each new fetch.

    The end is each partition's high watermark as the fetch reports it (Tansu's
    ListOffsets is off by one batch, INFRA.md), seen once the partition is read.
    """
    topic = settings.topics.weights
    stop = stop or asyncio.Event()
    consumer = AIOKafkaConsumer(
        **client_options(settings.kafka),
        enable_auto_commit=False,
        max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
    )
    await start(consumer, settings.kafka)
    try:
        partitions = [TopicPartition(topic, p) for p in await _partitions(settings, topic)]
        if partitions:
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            yield await _drain(consumer, partitions, time.monotonic() + timeout_s, stop)
        while follow and partitions and not stop.is_set():
            fetched = await consumer.getmany(timeout_ms=FOLLOW_POLL_MS)
            if fetched:
                yield in_time_order(r for records in fetched.values() for r in records)
    finally:
        await consumer.stop()


def as_record(message: ConsumerRecord[bytes, bytes]) -> dict[str, Any]:
    """One message with its key, place and broker timestamp; the value decoded."""
    return {
        "key": message.key.decode(errors="replace") if message.key is not None else None,
        "partition": message.partition,
        "offset": message.offset,
        "timestamp_ms": message.timestamp,
        "value": codec.loads(message.value) if message.value is not None else None,
    }


def in_time_order(messages: Any) -> list[dict[str, Any]]:
    """Records sorted by (timestamp, partition, offset)."""
    records = [as_record(m) for m in messages]
    records.sort(key=lambda r: (r["timestamp_ms"], r["partition"], r["offset"]))
    return records


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
    consumer: AIOKafkaConsumer,
    partitions: list[TopicPartition],
    deadline: float,
    stop: asyncio.Event,
) -> list[dict[str, Any]]:
    out: list[ConsumerRecord[bytes, bytes]] = []
    done: set[TopicPartition] = set()
    while len(done) < len(partitions) and not stop.is_set():
        if time.monotonic() > deadline:
            raise TimeoutError(f"weight topic not read to its end ({len(done)}/{len(partitions)})")
        for records in (await consumer.getmany(timeout_ms=500)).values():
            out.extend(records)
        for tp in partitions:
            high = consumer.highwater(tp)
            if high is not None and await consumer.position(tp) >= high:
                done.add(tp)
    return in_time_order(out)
