"""The ApiVersions probe's verdicts, against small local peers over real sockets."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Callable

import pytest

from streams.errors import KafkaUnavailable
from streams.kafka.probe import CORRELATION_ID, peer_of, refuse_non_kafka
from streams.settings import KafkaSettings

KAFKA_REPLY = struct.pack(">iih", 6, CORRELATION_ID, 0)
UNSUPPORTED = struct.pack(">iih", 6, CORRELATION_ID, 35)  # still a broker speaking


@pytest.mark.parametrize(
    ("reply", "peer"),
    [
        (KAFKA_REPLY, "kafka"),
        (UNSUPPORTED, "kafka"),
        (b"HTTP/1.0 400 Bad Request\r\n", "not kafka"),
        (b"-ERR unknown command\r\n", "not kafka"),
        (b"\x15\x03\x03\x00\x02\x02\x46\x00", "unknown"),  # a TLS alert: TLS wanted
        (b"\x00\x00", "unknown"),  # a short reply, then a hang-up
    ],
)
def test_what_a_reply_says_the_peer_is(reply: bytes, peer: str) -> None:
    assert peer_of(reply) == peer


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], object]


async def _serve(handler: Handler) -> AsyncIterator[KafkaSettings]:
    async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read(64)
            result = handler(reader, writer)
            if asyncio.iscoroutine(result):
                await result
            await writer.drain()
        finally:
            writer.close()

    server = await asyncio.start_server(run, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield KafkaSettings(bootstrap=f"127.0.0.1:{port}")


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(5)


def _http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\n")


def _kafka(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(KAFKA_REPLY)


def _hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


async def _verdict(handler: Handler) -> str | None:
    async for kafka in _serve(handler):
        try:
            await refuse_non_kafka(kafka, timeout_s=0.5)
        except KafkaUnavailable as exc:
            return str(exc)
    return None


@pytest.mark.parametrize(
    ("handler", "fragment"),
    [
        (_silent, "stays silent for 0.5s after a Kafka request"),
        (_http, "answers a Kafka request with something else"),
        (_kafka, None),
        (_hang_up, None),  # left to the client, which says why (TLS, SASL, ...)
    ],
)
def test_only_a_peer_that_is_surely_not_kafka_is_refused(
    handler: Handler, fragment: str | None
) -> None:
    message = asyncio.run(_verdict(handler))
    if fragment is None:
        assert message is None
    else:
        assert message is not None
        assert fragment in message


def test_a_refused_connection_is_left_to_the_client() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        closed = probe.getsockname()[1]
    asyncio.run(refuse_non_kafka(KafkaSettings(bootstrap=f"127.0.0.1:{closed}"), 0.5))


def test_one_kafka_address_among_the_bootstrap_is_enough() -> None:
    async def run() -> None:
        async for kafka in _serve(_kafka):
            with socket.create_server(("127.0.0.1", 0)) as silent:
                other = silent.getsockname()[1]
                both = KafkaSettings(bootstrap=f"127.0.0.1:{other},{kafka.bootstrap}")
                await refuse_non_kafka(both, timeout_s=0.5)

    asyncio.run(run())
