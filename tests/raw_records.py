"""Produce records whose header keys are arbitrary bytes, as Go or librdkafka producers can.

aiokafka's producer takes header keys as ``str`` and encodes them as UTF-8, so
it cannot send a key that is not UTF-8. This builds the record batch itself
(aiokafka's pure-Python batch builder, handed keys that encode to the raw bytes)
and sends it in a plain Produce request through aiokafka's client: a real
record on a real broker, nothing mocked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.produce import ProduceRequest
from aiokafka.record.default_records import _DefaultRecordBatchBuilderPy
from aiokafka.structs import TopicPartition

RawHeaders = Sequence[tuple[bytes, bytes | None]]
RawRecord = tuple[bytes | None, bytes | None, RawHeaders]  # key, value, headers


class _RawKey(str):
    """A header key that "encodes" to the given bytes, whatever they are."""

    raw: bytes

    def __new__(cls, raw: bytes) -> _RawKey:
        key = super().__new__(cls, raw.decode("latin-1"))
        key.raw = raw
        return key

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return self.raw


def batch(records: Sequence[RawRecord], timestamp_ms: int | None = None) -> bytes:
    """One uncompressed v2 record batch holding ``records`` in order."""
    builder = _DefaultRecordBatchBuilderPy(2, 0, 0, -1, -1, -1, 64 * 1024 * 1024)
    for i, (key, value, headers) in enumerate(records):
        raw_headers = [(_RawKey(k), v) for k, v in headers]
        meta = builder.append(i, timestamp_ms, key, value, raw_headers)  # type: ignore[arg-type]
        assert meta is not None, "batch full"
    return bytes(builder.build())


def produce_raw(bootstrap: str, topic: str, partition: int, records: Sequence[RawRecord]) -> int:
    """Append ``records`` to one partition as one batch; return the base offset."""

    async def run() -> int:
        client = AIOKafkaClient(bootstrap_servers=bootstrap)
        await client.bootstrap()
        try:
            await client._wait_on_metadata(topic)
            leader = client.cluster.leader_for_partition(TopicPartition(topic, partition))
            request = ProduceRequest(None, -1, 30_000, [(topic, [(partition, batch(records))])])
            response = await client.send(leader, request)
            (_, [(_, error, offset, *_)]) = response.topics[0]
            assert error == 0, f"produce error {error}"
            return int(offset)
        finally:
            await client.close()

    return asyncio.run(run())
