"""Record batches whose header keys need not be UTF-8: a poison header becomes input.

Kafka defines a header key as a UTF-8 string, but brokers store what producers
send, and Go or librdkafka producers can send any bytes. aiokafka decodes each
key strictly while it iterates a fetched batch, so one such record raises
``UnicodeDecodeError`` out of the fetcher: the worker dies, and every restart
dies on the same uncommitted record.

``install()`` makes aiokafka's fetcher read batches through
``LenientMemoryRecords``: each batch is still parsed by aiokafka's C code; only a
batch whose parse fails on a header key is parsed again, from the same bytes,
by aiokafka's pure-Python parser with the key decoded with ``surrogateescape``.
The records already delivered from that batch are not delivered twice. A key
decoded that way keeps its bytes (``key.encode("utf-8", "surrogateescape")``
gives them back); the intake sees it and dead-letters the record as
``bad_header`` (``streams.intake.headers``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, SupportsIndex

from aiokafka.consumer import fetcher
from aiokafka.record.default_records import DefaultRecordBatch, _DefaultRecordBatchPy
from aiokafka.record.memory_records import MemoryRecords

_LOG_OVERHEAD = 12  # base offset (int64) + batch length (int32)


def install() -> None:
    """Make aiokafka's fetcher parse batches leniently (idempotent, process-wide)."""
    fetcher.MemoryRecords = LenientMemoryRecords


class LenientMemoryRecords:
    """aiokafka's ``MemoryRecords`` (the C one), keeping each batch's bytes for a re-parse."""

    __slots__ = ("_data", "_pos", "_records")

    def __init__(self, data: bytes) -> None:
        self._records = MemoryRecords(data)
        self._data = data
        self._pos = 0

    def size_in_bytes(self) -> int:
        return int(self._records.size_in_bytes())

    def has_next(self) -> bool:
        return bool(self._records.has_next())

    def next_batch(self) -> Any:
        batch = self._records.next_batch()
        start = self._pos
        length = int.from_bytes(self._data[start + 8 : start + _LOG_OVERHEAD], "big", signed=True)
        self._pos = start + _LOG_OVERHEAD + length
        if not isinstance(batch, DefaultRecordBatch):  # None, or a legacy batch: no headers
            return batch
        return LenientBatch(batch, memoryview(self._data)[start : self._pos])


class LenientBatch:
    """A v2 batch that re-parses itself leniently if a header key is not UTF-8."""

    __slots__ = ("_batch", "_raw")

    def __init__(self, batch: Any, raw: memoryview) -> None:
        self._batch = batch
        self._raw = raw

    def __getattr__(self, name: str) -> Any:
        return getattr(self._batch, name)

    def __next__(self) -> Any:  # control batches are read with next() once
        return next(self._batch)

    def __iter__(self) -> Iterator[Any]:
        delivered = -1
        try:
            for record in self._batch:
                delivered = record.offset
                yield record
        except UnicodeDecodeError:
            for record in _SurrogateKeysBatch(self._raw):
                if record.offset > delivered:
                    yield record


class _SurrogateKeysBatch(_DefaultRecordBatchPy):  # type: ignore[misc]  # untyped base
    """aiokafka's pure-Python batch, decoding header keys with ``surrogateescape``."""

    _buffer: bytearray

    def __iter__(self) -> _SurrogateKeysBatch:
        super().__iter__()  # decompresses into self._buffer
        self._buffer = _SurrogateBytes(self._buffer)
        return self


class _SurrogateBytes(bytearray):
    """Bytes whose slices decode with ``surrogateescape`` (the parser decodes header keys)."""

    def __getitem__(self, index: SupportsIndex | slice) -> Any:
        item = super().__getitem__(index)
        return _SurrogateBytes(item) if isinstance(index, slice) else item

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return bytearray.decode(self, encoding, "surrogateescape")
