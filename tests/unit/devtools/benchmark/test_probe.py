"""The RESP reader the benchmark uses for INFO and MEMORY USAGE, on a socket pair."""

from __future__ import annotations

import socket

from streams.devtools.benchmark.probe import _Reader
from streams.store.probe import resp as _encode


def test_encode_is_a_resp_array() -> None:
    assert _encode(["MEMORY", "USAGE", "k"]) == b"*3\r\n$6\r\nMEMORY\r\n$5\r\nUSAGE\r\n$1\r\nk\r\n"


def test_reader_parses_each_reply_kind_across_chunks() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(b":42\r\n$-1\r\n$5\r\nhel")
        theirs.sendall(b"lo\r\n+OK\r\n-ERR no\r\n")
        reader = _Reader(ours)
        assert [reader.reply() for _ in range(5)] == [42, None, b"hello", b"OK", b"ERR no"]
