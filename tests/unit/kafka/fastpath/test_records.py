"""Fetched batches with header keys that are not UTF-8: parsed, not raised (pure logic:
aiokafka's own parsers on batches built with aiokafka's own builder)."""

from __future__ import annotations

import random

import pytest
from aiokafka.record.memory_records import MemoryRecords

from streams.kafka.fastpath.records import LenientMemoryRecords
from tests.raw_records import RawRecord, batch

BAD = b"\xff\xfe"


def records(data: bytes) -> list[tuple[int, bytes | None, list[tuple[bytes, bytes | None]]]]:
    out = []
    memory = LenientMemoryRecords(data)
    while memory.has_next():
        for r in memory.next_batch():
            keys = [(k.encode("utf-8", "surrogateescape"), v) for k, v in r.headers]
            out.append((r.offset, r.value, keys))
    return out


def with_offsets(*batches: bytes) -> bytes:
    """Concatenate batches, giving each the base offset after the previous one."""
    out, base = b"", 0
    for b in batches:
        count = int.from_bytes(b[57:61], "big")
        out += base.to_bytes(8, "big") + b[8:]
        base += count
    return out


def test_aiokafka_alone_raises_on_a_key_that_is_not_utf8() -> None:
    memory = MemoryRecords(batch([(b"k", b"v", [(BAD, b"x")])]))
    with pytest.raises(UnicodeDecodeError):
        list(memory.next_batch())  # type: ignore[union-attr]


def test_a_bad_key_is_decoded_losslessly_and_each_record_delivered_once() -> None:
    raw: list[RawRecord] = [
        (b"k", b"v0", [(b"ok", b"1")]),
        (b"k", b"v1", [(b"a", None), (BAD, b"x"), (b"", b"")]),
        (b"k", b"v2", []),
    ]
    data = with_offsets(batch(raw), batch([(None, b"v3", [(b"\xc3\x28", None)])]))
    assert records(data) == [
        (0, b"v0", [(b"ok", b"1")]),
        (1, b"v1", [(b"a", None), (BAD, b"x"), (b"", b"")]),
        (2, b"v2", []),
        (3, b"v3", [(b"\xc3\x28", None)]),
    ]


@pytest.mark.parametrize("seed", range(20))
def test_fuzzed_headers_round_trip(seed: int) -> None:
    rng = random.Random(seed)
    raw: list[RawRecord] = []
    for i in range(rng.randrange(1, 30)):
        headers = [
            (
                rng.randbytes(rng.randrange(0, 20)),
                rng.choice([None, rng.randbytes(rng.randrange(50))]),
            )
            for _ in range(rng.choice([0, 1, 3, 50]))
        ]
        raw.append((None, f"v{i}".encode(), headers))
    got = records(batch(raw))
    assert got == [(i, v, list(h)) for i, (_, v, h) in enumerate(raw)]
