"""The Kafka probe: does a broker answer an ApiVersions (v0) request? No client library.

One request frame, one check of the reply's header, spoken over a socket with a
short timeout, so that a probe can never hang on a client's retries. ``/ready``
asks ``kafka_answers`` (asyncio, TLS when configured); the embedded stack, while
it waits for its broker, asks ``answers_blocking``.

    >>> answered(b"\\x00\\x00\\x00\\x06VANE\\x00\\x00")
    True
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
from collections.abc import Awaitable
from typing import Final

from streams.kafka.clients import ssl_context
from streams.settings import KafkaSettings

CHECK_TIMEOUT_S: Final = 1.0
API_VERSIONS: Final = 18
CORRELATION_ID: Final = 0x5641_4E45  # "VANE"
HEADER_BYTES: Final = 10  # size, correlation id, error code


def request(client_id: bytes) -> bytes:
    """An ApiVersions v0 request frame, length prefix included."""
    body = struct.pack(">hhih", API_VERSIONS, 0, CORRELATION_ID, len(client_id)) + client_id
    return struct.pack(">i", len(body)) + body


def answered(header: bytes) -> bool:
    """Whether a reply's first bytes are our ApiVersions answer, without error."""
    if len(header) < HEADER_BYTES:
        return False
    size, correlation, error = struct.unpack(">iih", header[:HEADER_BYTES])
    return bool(correlation == CORRELATION_ID and error == 0 and size >= 6)


async def kafka_answers(kafka: KafkaSettings, timeout_s: float = CHECK_TIMEOUT_S) -> bool:
    """True when one of the bootstrap brokers answers ApiVersions (v0)."""
    tls = kafka.security_protocol in ("SSL", "SASL_SSL")
    context = ssl_context(kafka) if tls else None
    for server in kafka.bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        if await _with_timeout(_ask(host, int(port), context), timeout_s):
            return True
    return False


async def _with_timeout(check: Awaitable[bool], timeout_s: float) -> bool:
    try:
        return await asyncio.wait_for(check, timeout_s)
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
        return False


async def _ask(host: str, port: int, context: ssl.SSLContext | None) -> bool:
    reader, writer = await asyncio.open_connection(host, port, ssl=context)
    try:
        writer.write(request(b"vane-ready"))
        await writer.drain()
        return answered(await reader.readexactly(HEADER_BYTES))
    finally:
        writer.close()


def answers_blocking(port: int, host: str = "127.0.0.1", timeout_s: float = 1.0) -> bool:
    """The same question on a blocking socket (plain TCP): for start-up waits."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(request(b"vane-stack"))
            return answered(sock.recv(HEADER_BYTES))
    except OSError:
        return False
