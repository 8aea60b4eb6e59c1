"""Publishing: aiokafka's errors translated at the boundary, transient ones retried.

``guarded`` turns a library error into ``KafkaUnavailable`` (retriable: the
connection, a timeout, a leader moving) or ``PublishRejected`` (not: a record over
the size limit, an authorization failure). ``retrying`` sends until it succeeds,
backing off (``streams.errors.backoff_s``) on retriable errors and giving up
(``Interrupted``) when the worker stops; a ``PublishRejected`` is the caller's to
handle (streams.intake.deadletter, streams.scoring.rescorer).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka import errors as kafka_errors

from streams.errors import KafkaUnavailable, PublishRejected, backoff_s, never, pause

log = logging.getLogger(__name__)
T = TypeVar("T")

_TRANSIENT = (kafka_errors.KafkaTimeoutError, asyncio.TimeoutError, OSError)


async def guarded(call: Awaitable[T]) -> T:
    """Await a send (or its delivery), translating library errors.

    Faust wraps the producer's errors (``ProducerSendError`` from aiokafka's): the
    policy follows the aiokafka error found in the chain of causes.
    """
    try:
        return await call
    except Exception as exc:
        cause = _library_cause(exc)
        if cause is None:
            raise
        raise translate(cause) from exc


def _library_cause(exc: BaseException | None) -> BaseException | None:
    while exc is not None:
        if isinstance(exc, (kafka_errors.KafkaError, *_TRANSIENT)):
            return exc
        exc = exc.__cause__
    return None


def translate(exc: BaseException) -> KafkaUnavailable | PublishRejected:
    """Retriable (``KafkaUnavailable``) or not (``PublishRejected``), by aiokafka's own flag."""
    kind = type(exc).__name__
    if isinstance(exc, kafka_errors.MessageSizeTooLargeError):
        return PublishRejected(f"kafka: record too large: {exc}", kind=kind, too_large=True)
    if getattr(exc, "retriable", False) or isinstance(exc, _TRANSIENT):
        return KafkaUnavailable(f"kafka {kind}: {exc}", kind=kind)
    return PublishRejected(f"kafka refused the record: {kind}: {exc}", kind=kind)


async def retrying(
    send: Callable[[], Awaitable[T]],
    *,
    stopping: Callable[[], bool] = never,
    on_retry: Callable[[KafkaUnavailable], None] = lambda exc: None,
) -> T:
    """``send()`` until it succeeds; raises ``PublishRejected`` or ``Interrupted``."""
    attempt = 0
    while True:
        try:
            return await guarded(send())
        except KafkaUnavailable as exc:
            attempt += 1
            on_retry(exc)
            log.warning("publish failed, retrying in %.1fs: %s", backoff_s(attempt), exc)
            await pause(backoff_s(attempt), stopping)
