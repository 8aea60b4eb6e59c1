"""The lag reader: the group's committed offsets, high watermarks, head records' times.

Every round it reads the group's committed offsets and, with one fetch at those
offsets, each partition's high watermark (from the fetch response: ListOffsets is
wrong on Tansu, INFRA.md) and the timestamp of the record at the committed
offset. ``streams.ops.lag_sampler`` turns the readings into lag and a status.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from streams.kafka.clients import client_options
from streams.settings import KafkaSettings

HEAD_FETCH_BYTES = 64 * 1024  # one record's timestamp is all we read per partition
LAYOUT_REFRESH_S = 30.0  # how often to look for new partitions of the input topics

Partition = TopicPartition  # (topic, partition), as the readings are keyed


@dataclass(frozen=True, slots=True)
class Reading:
    """What the reader learnt about one partition in one round."""

    committed: int  # committed offset, or the first available one when none is committed
    end: int  # high watermark
    head_ts_ms: int | None  # timestamp of the record at ``committed``, when lag > 0


class KafkaReader:
    """Reads committed offsets, then fetches once at them: high watermarks, head records."""

    def __init__(self, kafka: KafkaSettings, group: str, topics: Iterable[str]) -> None:
        self._options = client_options(kafka)
        self._group = group
        self._topics = sorted(set(topics))
        self._consumer: AIOKafkaConsumer | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._layout: dict[str, list[int]] = {}
        self._layout_at_s = float("-inf")

    async def read(self, timeout_s: float) -> dict[TopicPartition, Reading]:
        consumer, admin = await self._clients()
        tps = await self._partitions(consumer, admin)
        if not tps:
            return {}
        offsets = await admin.list_consumer_group_offsets(self._group, partitions=tps)
        committed = {tp: offsets[tp].offset if tp in offsets else -1 for tp in tps}
        return await self._fetch_heads(consumer, committed, timeout_s)

    async def close(self) -> None:
        consumer, admin, self._consumer, self._admin = self._consumer, self._admin, None, None
        if consumer is not None:
            await consumer.stop()
        if admin is not None:
            await admin.close()

    async def _clients(self) -> tuple[AIOKafkaConsumer, AIOKafkaAdminClient]:
        if self._consumer is None or self._admin is None:
            await self.close()
            consumer = AIOKafkaConsumer(
                **self._options,
                client_id="vane-lag",
                group_id=None,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                fetch_max_wait_ms=100,
                max_partition_fetch_bytes=HEAD_FETCH_BYTES,
            )
            self._consumer = consumer
            await consumer.start()
            self._admin = AIOKafkaAdminClient(**self._options, client_id="vane-lag")
            await self._admin.start()
        return self._consumer, self._admin

    async def _partitions(
        self, consumer: AIOKafkaConsumer, admin: AIOKafkaAdminClient
    ) -> list[TopicPartition]:
        now = time.monotonic()
        if now - self._layout_at_s > LAYOUT_REFRESH_S or len(self._layout) < len(self._topics):
            # All topics: naming ours would ask the broker to auto-create missing ones.
            described = await admin.describe_topics()
            self._layout = _layout(described, self._topics)
            self._layout_at_s = now
        tps = [TopicPartition(t, p) for t, parts in sorted(self._layout.items()) for p in parts]
        if set(tps) != consumer.assignment():
            consumer.assign(tps)
            consumer.pause(*tps)
        return tps

    async def _fetch_heads(
        self, consumer: AIOKafkaConsumer, committed: dict[TopicPartition, int], timeout_s: float
    ) -> dict[TopicPartition, Reading]:
        started_ms = int(time.time() * 1000)
        for tp, offset in committed.items():
            if offset >= 0:
                consumer.seek(tp, offset)
        unset = [tp for tp, offset in committed.items() if offset < 0]
        if unset:
            await consumer.seek_to_beginning(*unset)
        tps, heads = list(committed), dict[TopicPartition, Any]()
        consumer.resume(*tps)
        try:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline and _pending(consumer, committed, heads, started_ms):
                batches = await consumer.getmany(*tps, timeout_ms=100)
                for tp, records in batches.items():
                    heads.setdefault(tp, records[0])
        finally:
            consumer.pause(*tps)
        return _readings(consumer, committed, heads, started_ms)


def _layout(described: list[Any], wanted: Sequence[str]) -> dict[str, list[int]]:
    return {  # partition ids of the wanted topics that exist
        t["topic"]: sorted(p["partition"] for p in t["partitions"])
        for t in described
        if t["topic"] in wanted and t["error_code"] == 0 and t["partitions"]
    }


def _fresh(consumer: AIOKafkaConsumer, tp: TopicPartition, started_ms: int) -> bool:
    polled = consumer.last_poll_timestamp(tp)
    return polled is not None and polled >= started_ms


def _pending(
    consumer: AIOKafkaConsumer,
    committed: dict[TopicPartition, int],
    heads: dict[TopicPartition, Any],
    started_ms: int,
) -> bool:
    """True while a partition still owes us a fresh high watermark or its head record."""
    for tp, offset in committed.items():
        if not _fresh(consumer, tp, started_ms):
            return True
        if tp not in heads and (consumer.highwater(tp) or 0) > max(offset, 0):
            return True
    return False


def _readings(
    consumer: AIOKafkaConsumer,
    committed: dict[TopicPartition, int],
    heads: dict[TopicPartition, Any],
    started_ms: int,
) -> dict[TopicPartition, Reading]:
    out: dict[TopicPartition, Reading] = {}
    for tp, offset in committed.items():
        if not _fresh(consumer, tp, started_ms):
            continue  # no fresh high watermark this round: report nothing rather than stale
        end = consumer.highwater(tp) or 0
        head = heads.get(tp)
        start = offset if offset >= 0 else (head.offset if head is not None else end)
        out[tp] = Reading(start, end, head.timestamp if head is not None else None)
    return out
