"""The Redis probe: does a Redis-protocol server answer PING? A few RESP bytes, no client.

``/ready`` asks a ``RedisProbe`` (``redis_answers`` over one kept connection;
asyncio, TLS for ``rediss://``, AUTH with the credentials the store uses:
``RedisSettings.credentials``), with a short timeout
so that a probe can never hang on a client's retries. The embedded stack and the
tests ask ``answers_at`` (blocking, no AUTH: a server that wants a password
answers ``NOAUTH``, which is an answer) and run start-up chores (cluster
forming) with ``command``.

    >>> resp(["PING"])
    b'*1\\r\\n$4\\r\\nPING\\r\\n'
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Sequence
from typing import Final
from urllib.parse import urlsplit

from streams.settings import RedisSettings

CHECK_TIMEOUT_S: Final = 1.0


def resp(args: Sequence[str]) -> bytes:
    """A command in RESP: ``resp(['PING']) == b'*1\\r\\n$4\\r\\nPING\\r\\n'``."""
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def auth_command(redis: RedisSettings) -> list[str]:
    """The AUTH the store would send (none when there is no password)."""
    user, password = redis.credentials()
    if not password:
        return []
    return ["AUTH", user, password] if user else ["AUTH", password]


async def redis_answers(redis: RedisSettings, timeout_s: float = CHECK_TIMEOUT_S) -> bool:
    """True when the Redis server at the configured URL answers PING."""
    return await _with_timeout(_ping(redis), timeout_s)


async def _ping(redis: RedisSettings) -> bool:
    conn = await _open(redis)
    try:
        auth = auth_command(redis)
        for command_args in ([auth] if auth else []) + [["PING"]]:
            reply = await _command(conn, command_args)
        return reply.startswith(b"+PONG")
    finally:
        conn[1].close()


class RedisProbe:
    """``redis_answers`` over one connection kept open between probes.

    ``/ready`` is polled every few seconds by every orchestrator and scraper: a new
    connection per probe would churn the server's clients. The connection is
    opened (and authenticated) on first use and dropped after any failure or
    timeout, so the next probe starts clean.
    """

    def __init__(self, redis: RedisSettings, timeout_s: float = CHECK_TIMEOUT_S) -> None:
        self._redis = redis
        self._timeout_s = timeout_s
        self._conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._lock = asyncio.Lock()

    async def answers(self) -> bool:
        async with self._lock:
            ok = await _with_timeout(self._ping(), self._timeout_s)
            if not ok:
                self.close()
            return ok

    async def _ping(self) -> bool:
        if self._conn is None:
            self._conn = await _open(self._redis)
            auth = auth_command(self._redis)
            if auth and not (await _command(self._conn, auth)).startswith(b"+OK"):
                return False
        return (await _command(self._conn, ["PING"])).startswith(b"+PONG")

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn[1].close()


async def _open(redis: RedisSettings) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    url = urlsplit(redis.url.reveal())
    if url.scheme == "unix":
        return await asyncio.open_unix_connection(url.path)
    context = ssl.create_default_context(cafile=redis.ssl_ca_file)
    tls = context if url.scheme == "rediss" else None
    return await asyncio.open_connection(url.hostname, url.port or 6379, ssl=tls)


async def _command(
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], args: Sequence[str]
) -> bytes:
    reader, writer = conn
    writer.write(resp(args))
    await writer.drain()
    return await reader.readline()


async def _with_timeout(check: Awaitable[bool], timeout_s: float) -> bool:
    try:
        return await asyncio.wait_for(check, timeout_s)
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
        return False


def answers_at(host: str, port: int, timeout_s: float = 1.0) -> bool:
    """True when a Redis-protocol server at host:port answers PING (no AUTH)."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(resp(["PING"]))
            return sock.recv(64).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def command(port: int, *args: str, timeout_s: float = 2.0) -> bytes:
    """Send one command to a Redis-protocol server on loopback; return the raw reply.

    Enough for start-up chores (cluster slot assignment); not a client.
    """
    with socket.create_connection(("127.0.0.1", port), timeout=timeout_s) as sock:
        sock.sendall(resp(args))
        reply = sock.recv(65536)
        if reply.startswith(b"$"):
            size = int(reply[1 : reply.index(b"\r\n")])
            while len(reply) < size + len(str(size)) + 5:
                reply += sock.recv(65536)
    return reply
