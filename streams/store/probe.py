"""The Redis probe: does a Redis-protocol server answer PING? A few RESP bytes, no client.

``/ready`` asks ``redis_answers`` (asyncio, TLS for ``rediss://``, AUTH with the
credentials the store uses: ``RedisSettings.credentials``), with a short timeout
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
    url = urlsplit(redis.url.reveal())
    if url.scheme == "unix":
        reader, writer = await asyncio.open_unix_connection(url.path)
    else:
        context = ssl.create_default_context(cafile=redis.ssl_ca_file)
        tls = context if url.scheme == "rediss" else None
        reader, writer = await asyncio.open_connection(url.hostname, url.port or 6379, ssl=tls)
    try:
        auth = auth_command(redis)
        for command_args in ([auth] if auth else []) + [["PING"]]:
            writer.write(resp(command_args))
            await writer.drain()
            reply = await reader.readline()
        return reply.startswith(b"+PONG")
    finally:
        writer.close()


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
