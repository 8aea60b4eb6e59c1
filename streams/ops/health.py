"""Probes for orchestrators: ``/health`` (the process is alive) and ``/ready``.

``/ready`` answers 200 only when all three hold, else 503 with what failed:

- ``partitions``: the worker has joined its consumer group (it received an
  assignment, possibly empty when there are more workers than partitions) and
  is not in the middle of a rebalance;
- ``kafka``: a bootstrap broker answers an ApiVersions request;
- ``redis``: the Redis server at the configured URL answers PING (after AUTH
  when a password is configured).

The checks speak the wire protocols over ``asyncio`` streams with a short
timeout: no client library, so a probe can never hang on a client's retries.
"""

from __future__ import annotations

import asyncio
import ssl
import struct
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import unquote, urlsplit

import faust
from faust.web import Request, Response, View

from streams.kafka.clients import ssl_context
from streams.metrics import Metrics
from streams.settings import KafkaSettings, RedisSettings, Settings
from streams.topics import Topics

CHECK_TIMEOUT_S = 1.0
_API_VERSIONS = 18
_CORRELATION_ID = 0x5641_4E45  # "VANE"

Check = Callable[[], Awaitable[bool]]


@dataclass(slots=True)
class Membership:
    """What the group told this worker: joined yet, and how many partitions it holds."""

    joined: bool = False
    assigned: set[Any] = field(default_factory=set)

    async def on_assigned(self, sender: Any, *args: Any, **kwargs: Any) -> None:
        self.joined = True
        self.assigned = set(args[0])

    async def on_revoked(self, sender: Any, *args: Any, **kwargs: Any) -> None:
        self.assigned -= set(args[0])


async def kafka_answers(kafka: KafkaSettings, timeout_s: float = CHECK_TIMEOUT_S) -> bool:
    """True when one of the bootstrap brokers answers ApiVersions (v0)."""
    tls = kafka.security_protocol in ("SSL", "SASL_SSL")
    context = ssl_context(kafka) if tls else None
    for server in kafka.bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        if await _with_timeout(_api_versions(host, int(port), context), timeout_s):
            return True
    return False


async def _api_versions(host: str, port: int, context: ssl.SSLContext | None) -> bool:
    reader, writer = await asyncio.open_connection(host, port, ssl=context)
    try:
        client_id = b"vane-ready"
        body = struct.pack(">hhih", _API_VERSIONS, 0, _CORRELATION_ID, len(client_id))
        writer.write(struct.pack(">i", len(body) + len(client_id)) + body + client_id)
        await writer.drain()
        size, correlation, error = struct.unpack(">iih", await reader.readexactly(10))
        return bool(correlation == _CORRELATION_ID and error == 0 and size >= 6)
    finally:
        writer.close()


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
        auth = _auth_command(redis, url.username, url.password)
        for command in ([auth] if auth else []) + [["PING"]]:
            writer.write(_resp(command))
            await writer.drain()
            reply = await reader.readline()
        return reply.startswith(b"+PONG")
    finally:
        writer.close()


def _auth_command(redis: RedisSettings, user: str | None, password: str | None) -> list[str]:
    if redis.password is not None:
        password = redis.password.reveal()
    elif password is not None:
        password = unquote(password)
    if not password:
        return []
    return ["AUTH", unquote(user), password] if user else ["AUTH", password]


def _resp(args: Sequence[str]) -> bytes:
    """A command in RESP: ``_resp(['PING']) == b'*1\\r\\n$4\\r\\nPING\\r\\n'``."""
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


async def _with_timeout(check: Awaitable[bool], timeout_s: float) -> bool:
    try:
        return await asyncio.wait_for(check, timeout_s)
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
        return False


async def readiness(
    app: faust.App, membership: Membership, checks: dict[str, Check]
) -> dict[str, bool]:
    """Every readiness condition by name (see the module docstring)."""
    names = list(checks)
    answers = await asyncio.gather(*(checks[name]() for name in names))
    joined = membership.joined and not getattr(app, "rebalancing", False)
    return {"partitions": joined, **dict(zip(names, answers, strict=True))}


def register(app: faust.App, settings: Settings, metrics: Metrics, topics: Topics) -> None:
    """Add ``/health`` and ``/ready`` to the worker's web server."""
    membership = Membership()
    # mode's SignalHandlerT does not accept a plain ``async def (sender, *args, **kw)``.
    app.on_partitions_assigned.connect(cast(Any, membership.on_assigned))
    app.on_partitions_revoked.connect(cast(Any, membership.on_revoked))
    checks: dict[str, Check] = {
        "kafka": lambda: kafka_answers(settings.kafka),
        "redis": lambda: redis_answers(settings.redis),
    }

    @app.page("/health")
    class HealthPage(View):
        async def get(self, request: Request, **kwargs: Any) -> Response:
            return self.json({"status": "alive"})

    @app.page("/ready")
    class ReadyPage(View):
        async def get(self, request: Request, **kwargs: Any) -> Response:
            checks_now = await readiness(app, membership, checks)
            ready = all(checks_now.values())
            body = {"ready": ready, "checks": checks_now, "partitions": len(membership.assigned)}
            return self.json(body, status=200 if ready else 503)
