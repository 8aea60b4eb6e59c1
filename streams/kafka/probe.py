"""The Kafka probe: does a broker answer an ApiVersions (v0) request? No client library.

One request frame, one check of the reply's header, spoken over a socket with a
short timeout, so that a probe can never hang on a client's retries. ``/ready``
asks ``kafka_answers`` (asyncio, TLS when configured); the embedded stack, while
it waits for its broker, asks ``answers_blocking``. Before a client starts,
``refuse_non_kafka`` fails at once when the bootstrap addresses accept a
connection but do not speak Kafka (a Redis or HTTP port): aiokafka itself would
wait out its request timeout (40 s) there and then say only ``TimeoutError``.

    >>> answered(b"\\x00\\x00\\x00\\x06VANE\\x00\\x00")
    True
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import struct
from collections.abc import Awaitable
from typing import Final, Literal

from streams.errors import KafkaUnavailable
from streams.kafka.tls import ssl_context
from streams.settings import KafkaSettings

CHECK_TIMEOUT_S: Final = 1.0
API_VERSIONS: Final = 18
CORRELATION_ID: Final = 0x5641_4E45  # "VANE"
HEADER_BYTES: Final = 10  # size, correlation id, error code
NOT_KAFKA_AFTER_S: Final = 5.0  # a broker answers ApiVersions in milliseconds
TLS_RECORDS: Final = (0x15, 0x16)  # alert, handshake: a TLS listener's reply

Peer = Literal["kafka", "silent", "not kafka", "unknown"]
NOT_KAFKA: Final = {
    "silent": "stays silent for {}s after a Kafka request",
    "not kafka": "answers a Kafka request with something else",
}


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


def peer_of(reply: bytes) -> Peer:
    """What the first bytes of a reply to our request say the peer is.

    Any error code counts as Kafka (a broker may refuse v0 with UNSUPPORTED_VERSION
    in a v0 reply); a short reply, or a TLS record (a TLS listener), is undecided:
    ``peer_of(b"HTTP/1.0 400 Bad Request")`` is ``"not kafka"``.
    """
    if len(reply) < 8 or (reply[0] in TLS_RECORDS and reply[1] == 3):
        return "unknown"
    return "kafka" if struct.unpack(">i", reply[4:8])[0] == CORRELATION_ID else "not kafka"


async def refuse_non_kafka(kafka: KafkaSettings, timeout_s: float = NOT_KAFKA_AFTER_S) -> None:
    """Raise KafkaUnavailable when no bootstrap address may be Kafka, and one is surely not.

    An address is surely not Kafka when it accepts the connection (and TLS, when
    configured) but then stays silent for ``timeout_s`` or replies with something
    else. Refusals, TLS or SASL trouble and hang-ups are left to the client,
    which says what they are.
    """
    context = _context(kafka)
    servers = [s.strip() for s in kafka.bootstrap.split(",")]
    peers = await asyncio.gather(*(_peer(s, context, timeout_s) for s in servers))
    wrong = [(s, p) for s, p in zip(servers, peers, strict=True) if p in NOT_KAFKA]
    if "kafka" in peers or not wrong:
        return
    where, peer = wrong[0]
    raise KafkaUnavailable(
        f"cannot use kafka at {kafka.bootstrap}: {where} accepts connections but "
        f"{NOT_KAFKA[peer].format(f'{timeout_s:g}')}: is it another server's port?"
    )


async def _peer(server: str, context: ssl.SSLContext | None, timeout_s: float) -> Peer | None:
    """None: no connection (the client will report it)."""
    host, _, port = server.rpartition(":")
    try:
        connecting = asyncio.open_connection(host, int(port), ssl=context)
        reader, writer = await asyncio.wait_for(connecting, timeout_s)
    except (TimeoutError, OSError, ValueError):
        return None
    try:
        writer.write(request(b"vane-check"))
        await writer.drain()
        return peer_of(await asyncio.wait_for(reader.readexactly(8), timeout_s))
    except TimeoutError:
        return "silent"
    except asyncio.IncompleteReadError as exc:  # a hang-up: TLS wanted, or a closed port
        return peer_of(exc.partial)
    except OSError:
        return "unknown"
    finally:
        writer.close()


def _context(kafka: KafkaSettings) -> ssl.SSLContext | None:
    return ssl_context(kafka) if kafka.security_protocol in ("SSL", "SASL_SSL") else None


async def kafka_answers(kafka: KafkaSettings, timeout_s: float = CHECK_TIMEOUT_S) -> bool:
    """True when one of the bootstrap brokers answers ApiVersions (v0)."""
    context = _context(kafka)
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
