"""Every error Vane raises on purpose, in one tree, with its policy as data.

    VaneError
    ├── ConfigError          a setting is missing or malformed (start-up)
    ├── MalformedEvent       an input message breaks the event contract
    ├── StackError           the embedded Kafka/Redis stack failed to start
    ├── Interrupted          a retry loop gave up: the worker stops or its partitions move
    ├── KafkaUnavailable     Kafka unreachable, or refused our TLS/SASL credentials (retriable)
    ├── PublishRejected      the broker (or client) refused a record for good, e.g. too large
    └── StoreError           the window store's Redis failed a call
        ├── StoreUnavailable Redis away or in a passing state: OOM, READONLY, ... (retriable)
        │   └── ScriptsMissing   the server lost Vane's Lua scripts (restarted): reload
        └── StoreRejected    Redis refused the call itself (a script bug): dead-letter the batch

Library errors are translated at the boundary with ``raise ... from exc``
(``streams.store.connection.guarded``, ``streams.kafka.publish.guarded``).
``retriable`` says whether trying the same call again can succeed: the callers
retry those with capped exponential backoff (``backoff_s``) until they succeed
or the worker stops. ``dead_letter_reason`` names the reason under which the
input events of a batch that met a non-retriable error are dead-lettered.
``kind`` is a short stable label (a metric label): the server's error code
(``OOM``, ``READONLY``, ...) or ``connection``, ``timeout``, ``script``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

FIRST_BACKOFF_S = 0.2
MAX_BACKOFF_S = 5.0
POLL_S = 0.1  # how often a backoff pause looks at ``stopping``


def backoff_s(attempt: int) -> float:
    """Capped exponential backoff: 0.2 s, 0.4 s, 0.8 s, ... at most 5 s (attempt from 1)."""
    return float(min(FIRST_BACKOFF_S * 2 ** max(attempt - 1, 0), MAX_BACKOFF_S))


def never() -> bool:
    """The ``stopping`` of a caller that never stops (tools, tests)."""
    return False


async def pause(seconds: float, stopping: Callable[[], bool]) -> None:
    """Sleep ``seconds`` between two attempts, or raise ``Interrupted`` once ``stopping()``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        if stopping():
            raise Interrupted("gave up retrying: the worker is stopping or rebalancing")
        left = deadline - loop.time()
        if left <= 0:
            return
        await asyncio.sleep(min(POLL_S, left))


class VaneError(Exception):
    """Base of all errors Vane raises on purpose."""

    retriable: bool = False
    dead_letter_reason: str | None = None

    def __init__(self, message: str = "", *, kind: str = "other") -> None:
        super().__init__(message)
        self.kind = kind


class ConfigError(VaneError):
    """A setting is missing or malformed; the message names the variable."""


class MalformedEvent(VaneError):
    """An input message breaks the event contract (SCORING.md §2).

    ``reason`` is a stable machine-readable code (see ``streams.events.Reason``);
    ``detail`` is a short human explanation naming the field.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}", kind=reason)
        self.reason = reason
        self.detail = detail


class StackError(VaneError):
    """The embedded stack (Tansu, Valkey) could not be started."""


class Interrupted(VaneError):
    """A retry loop gave up because the worker is stopping or rebalancing.

    What the interrupted batch did not finish is left unacknowledged, so Kafka
    re-delivers it (to this worker or another); applying is idempotent.
    """


class KafkaUnavailable(VaneError):
    """Kafka cannot be reached, or refused our TLS or SASL credentials (retriable)."""

    retriable = True


class PublishRejected(VaneError):
    """The broker or the client refused a record for good (``too_large``: over the size limit)."""

    def __init__(self, message: str, *, kind: str, too_large: bool = False) -> None:
        super().__init__(message, kind=kind)
        self.too_large = too_large


class StoreError(VaneError):
    """The window store's Redis failed a call."""


class StoreUnavailable(StoreError):
    """Redis cannot be reached, or is in a state that passes (OOM, READONLY, ...); try again."""

    retriable = True


class ScriptsMissing(StoreUnavailable):
    """The Redis server lost Vane's Lua scripts (a restart): load them, then retry."""


class StoreRejected(StoreError):
    """Redis refused the call itself (a Lua runtime error, wrong arity, WRONGTYPE).

    Retrying cannot help: the batch's events go to the dead-letter topic.
    """

    dead_letter_reason = "internal_error"
