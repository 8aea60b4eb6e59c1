"""``streams.store.messages``: a weight message kept in listpack-sized pieces, exactly."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.store import connection, messages

# A message as streams.scoring.weights.build writes it (a product with 3 reasons).
MESSAGE = (
    b'{"schema":1,"entity_type":"product","entity_id":"p-000123","tier":"GOOD","weight":1.1,'
    b'"boost":1.0,"score":84.12,"display":4.68,"previous":{"tier":"STANDARD","weight":1.0,'
    b'"boost":1.0,"score":79.37,"display":4.21},"reference":{"tier":"STANDARD","score":79.37},'
    b'"reasons":[{"indicator":"quality_refund_rate","value":0.031217,"sub":42.0,'
    b'"points_lost":4.64},{"indicator":"negative_review_rate","value":0.012,"sub":81.5,'
    b'"points_lost":1.85},{"indicator":"price_index","value":1.07,"sub":90.25,'
    b'"points_lost":0.78}],"model":{"name":"product","version":"2"},'
    b'"as_of":"2026-11-22T10:00:00.000+08:00","as_of_ms":1795312800000,'
    b'"cause":"o-00012345.paid","seq":7}'
)


@given(st.binary(max_size=2000))
def test_pack_then_unpack_gives_the_same_bytes(message: bytes) -> None:
    pieces = messages.pack(message)
    assert messages.unpack(b"".join(pieces)) == message
    if len(pieces) > 1 or len(pieces[0]) <= messages.PIECE:
        assert len(pieces) <= messages.MAX_PIECES
        assert all(len(p) <= messages.PIECE for p in pieces)


def test_a_message_fits_a_few_listpack_entries() -> None:
    pieces = messages.pack(MESSAGE)
    assert len(pieces) <= 3, [len(p) for p in pieces]  # 648 bytes as JSON
    assert all(len(p) <= messages.PIECE for p in pieces)


def test_a_message_too_long_for_the_pieces_is_kept_whole() -> None:
    noise = random.Random(1).randbytes(400).hex().encode()  # deflate cannot shrink it much
    long = MESSAGE.replace(b"o-00012345.paid", noise)
    pieces = messages.pack(long)
    assert len(pieces) == 1
    assert len(pieces[0]) > messages.PIECE * messages.MAX_PIECES
    assert messages.unpack(pieces[0]) == long


def test_an_older_plain_message_reads_as_is() -> None:
    assert messages.unpack(MESSAGE) == MESSAGE


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown format"):
        messages.unpack(b"\x02abc")


def test_the_scripts_read_and_clear_the_same_fields() -> None:
    reader = connection.script_text("claim")
    assert "-- include:" not in reader
    listed = re.search(r'HMGET", KEYS\[1\], ((?:"m\d*"(?:, )?)+)\)', reader)
    assert listed is not None
    assert tuple(re.findall(r'"(m\d*)"', listed.group(1))) == messages.FIELDS
    assert connection.script_text("published").count("local function message()") == 1
    commit = connection.script_text("commit")
    assert f"local MAX_PIECES = {messages.MAX_PIECES} " in commit
