"""Every Kafka topic Vane touches, its codec, and what Vane needs of records and senders.

Input topics and the dead-letter topic carry raw bytes: Vane decodes input
itself (``streams.intake.contract``) so that no malformed message can crash Faust's
deserialiser, and the dead-letter topic keeps the original bytes intact.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import faust
from faust.types import TopicT

from streams.events import Stream
from streams.settings import TopicSettings

Headers = list[tuple[str, bytes]]


class SourceMessage(Protocol):
    """What Vane needs of a consumed Kafka record (Faust's ``Message`` has it)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Any


class Publisher(Protocol):
    """Sends one record; the returned awaitable resolves once it is delivered."""

    async def send(
        self, *, key: bytes | None, value: bytes | None, headers: Headers
    ) -> Awaitable[Any]: ...


async def send_all(
    publisher: Publisher, records: Iterable[tuple[bytes | None, bytes | None, Headers]]
) -> None:
    """Send every (key, value, headers) in order, then wait until the broker has them all."""
    pending = [await publisher.send(key=k, value=v, headers=h) for k, v, h in records]
    for delivered in pending:
        await delivered


@dataclass(frozen=True, slots=True)
class Topics:
    """The worker's topics: one per input stream, the weight topic, the DLQ."""

    inputs: Mapping[Stream, TopicT]
    weights: TopicT
    dlq: TopicT


def input_topic_names(names: TopicSettings) -> dict[Stream, str]:
    """Kafka topic name of each input stream, from the settings."""
    return {stream: getattr(names, stream.value) for stream in Stream}


def declare_topics(app: faust.App, names: TopicSettings) -> Topics:
    """Declare every topic on the app; missing ones are created at start."""
    inputs = {stream: _raw(app, name) for stream, name in input_topic_names(names).items()}
    return Topics(inputs=inputs, weights=_raw(app, names.weights), dlq=_raw(app, names.dlq))


def _raw(app: faust.App, name: str) -> TopicT:
    # internal=True: Faust creates the topic (with the configured partition
    # count) when it does not exist yet, and leaves an existing one alone.
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        internal=True,
    )
