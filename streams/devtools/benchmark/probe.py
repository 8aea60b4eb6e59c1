"""Read-only questions to the benchmark's Valkey over RESP: INFO and MEMORY USAGE.

Not a client (``streams.store`` is the only one): enough to read server figures
the store does not expose, many commands pipelined on one socket, in the RESP of
``streams.store.probe``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Sequence

from streams.store.probe import resp

Reply = int | bytes | None


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self._sock, self._buf = sock, b""

    def _line(self) -> bytes:
        while b"\r\n" not in self._buf:
            self._more()
        line, self._buf = self._buf.split(b"\r\n", 1)
        return line

    def _more(self) -> None:
        chunk = self._sock.recv(1 << 16)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self._buf += chunk

    def reply(self) -> Reply:
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            while len(self._buf) < size + 2:
                self._more()
            data, self._buf = self._buf[:size], self._buf[size + 2 :]
            return data
        if kind in (b"+", b"-"):
            return rest
        raise ValueError(f"unexpected reply {line[:40]!r}")


def commands(port: int, calls: Iterable[Sequence[str]], batch: int = 500) -> list[Reply]:
    """Send ``calls`` pipelined (``batch`` at a time); their replies in order."""
    replies: list[Reply] = []
    pending = list(calls)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        reader = _Reader(sock)
        for i in range(0, len(pending), batch):
            chunk = pending[i : i + batch]
            sock.sendall(b"".join(resp(c) for c in chunk))
            replies.extend(reader.reply() for _ in chunk)
    return replies


def info(port: int) -> dict[str, int]:
    """The integer fields of INFO (every section)."""
    (text,) = commands(port, [["INFO", "everything"]])
    out: dict[str, int] = {}
    lines = text.decode().splitlines() if isinstance(text, bytes) else []
    for line in lines:
        name, sep, value = line.partition(":")
        if sep and value.strip().isdigit():
            out[name] = int(value)
    return out


def memory_usage(port: int, keys: Sequence[str]) -> list[int]:
    """Bytes of each key (0 for a missing one)."""
    replies = commands(port, [["MEMORY", "USAGE", key, "SAMPLES", "0"] for key in keys])
    return [r if isinstance(r, int) else 0 for r in replies]
