"""The ceiling: aiokafka ``getmany`` and orjson decoding, nothing else."""

from __future__ import annotations

import time
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer

from streams import codec
from streams.devtools.benchmark.figures import Throughput

FETCH_BYTES = 8 * 1024 * 1024


async def consume_decode(
    bootstrap: str, topics: Sequence[str], total: int, group: str
) -> Throughput:
    """Read ``total`` records from the start of ``topics`` and decode each value."""
    consumer = AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=FETCH_BYTES,
        fetch_max_bytes=FETCH_BYTES,
    )
    await consumer.start()
    try:
        loads, seen = codec.loads, 0
        # The first fetch (group join, first request) is decoded but not timed.
        batches = await consumer.getmany(timeout_ms=10_000, max_records=10_000)
        first = [r for records in batches.values() for r in records]
        for record in first:
            loads(record.value)
        seen, batches = len(first), {}
        started_t, started_cpu = time.perf_counter(), time.process_time()
        while True:
            for records in batches.values():
                for record in records:
                    loads(record.value)
                seen += len(records) if records else 0
            if seen >= total:
                break
            batches = await consumer.getmany(timeout_ms=10_000, max_records=10_000)
            if not batches:
                raise TimeoutError(f"ceiling: {seen}/{total} records after 10 s of silence")
        return Throughput(
            seen - len(first), time.perf_counter() - started_t, time.process_time() - started_cpu
        )
    finally:
        await consumer.stop()
