"""Probes for orchestrators: ``/health`` (the process is alive) and ``/ready``.

``/ready`` answers 200 only when all three hold, else 503 with what failed:

- ``partitions``: the worker has joined its consumer group (it received an
  assignment, possibly empty when there are more workers than partitions) and
  is not in the middle of a rebalance;
- ``kafka``: a bootstrap broker answers an ApiVersions request;
- ``redis``: the Redis server at the configured URL answers PING (after AUTH
  when a password is configured), over one connection kept between probes;
- ``store``: the window store's calls succeed: false from a failed call (Redis
  away, out of memory, read-only after a failover, ...) until one succeeds, while
  the worker retries with backoff (PING alone passes on a full or demoted server).

The probes (``streams.kafka.probe``, ``streams.store.probe``) speak the wire
protocols over ``asyncio`` streams with a short timeout: no client library, so
a probe can never hang on a client's retries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, cast

import faust
from faust.web import Request, Response, View

from streams.kafka.probe import kafka_answers
from streams.metrics import Metrics
from streams.settings import Settings
from streams.store.handle import StoreHandle
from streams.store.probe import RedisProbe
from streams.topics import Topics

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


async def readiness(
    app: faust.App, membership: Membership, checks: dict[str, Check]
) -> dict[str, bool]:
    """Every readiness condition by name (see the module docstring)."""
    names = list(checks)
    answers = await asyncio.gather(*(checks[name]() for name in names))
    joined = membership.joined and not getattr(app, "rebalancing", False)
    return {"partitions": joined, **dict(zip(names, answers, strict=True))}


def register(
    app: faust.App, settings: Settings, metrics: Metrics, topics: Topics, store: StoreHandle
) -> None:
    """Add ``/health`` and ``/ready`` to the worker's web server."""
    membership = Membership()
    # mode's SignalHandlerT does not accept a plain ``async def (sender, *args, **kw)``.
    app.on_partitions_assigned.connect(cast(Any, membership.on_assigned))
    app.on_partitions_revoked.connect(cast(Any, membership.on_revoked))
    redis = RedisProbe(settings.redis)

    async def store_works() -> bool:
        return not store.failing

    checks: dict[str, Check] = {
        "kafka": lambda: kafka_answers(settings.kafka),
        "redis": redis.answers,
        "store": store_works,
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
