"""Every Kafka topic Vane touches, its codec, and what Vane needs of records and senders.

Input topics and the dead-letter topic carry raw bytes: Vane decodes input
itself (``streams.intake.contract``) so that no malformed message can crash Faust's
deserialiser, and the dead-letter topic keeps the original bytes intact.

The topics Vane creates itself get the cleanup policy their contract needs
(``WEIGHTS_CONFIG``, ``DLQ_CONFIG``); an existing topic is left as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

import faust
from faust.types import TopicT

from streams.events import Stream
from streams.settings import TopicSettings

log = logging.getLogger(__name__)
Headers = list[tuple[str, bytes]]

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

# docs/weight-topic.md: the latest message of every key is the entity's state, kept
# forever, so that a recommender rebuilds its table by reading from the beginning.
# An hour of history stays uncompacted (debugging); daily segments roll for the cleaner.
WEIGHTS_CONFIG: Mapping[str, str] = {
    "cleanup.policy": "compact",
    "min.compaction.lag.ms": str(HOUR_MS),
    "segment.ms": str(DAY_MS),
}
# Dead letters are for people to look at and replay: a week, then deleted.
DLQ_CONFIG: Mapping[str, str] = {
    "cleanup.policy": "delete",
    "retention.ms": str(7 * DAY_MS),
}


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
    return Topics(
        inputs=inputs,
        weights=_raw(app, names.weights, WEIGHTS_CONFIG),
        dlq=_raw(app, names.dlq, DLQ_CONFIG),
    )


def _raw(app: faust.App, name: str, config: Mapping[str, str] | None = None) -> TopicT:
    # internal=True: Faust creates the topic (with the configured partition count
    # and ``config``) when it does not exist yet, and leaves an existing one alone.
    return app.topic(
        name,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
        internal=True,
        config=dict(config or {}),
    )


def create_outputs_on_join(app: faust.App, topics: Topics) -> None:
    """Create the weight and dead-letter topics, with their configs, on the first assignment.

    Faust declares only the topics it consumes; a topic first named by a send would be
    created by the broker's auto-creation with the broker's defaults (no compaction).
    The assignment callback runs before any record is fetched, so before any publish.
    """
    pending = [topics.weights, topics.dlq]

    async def on_assigned(sender: Any, assigned: Any, **kwargs: Any) -> None:
        while pending:
            try:
                await pending[0].maybe_declare()
            except Exception as exc:  # never crash the rebalance; the next one tries again
                name = pending[0].get_topic_name()
                log.warning(
                    "cannot create topic %s with its config (%s): %s",
                    name,
                    type(exc).__name__,
                    exc,
                )
                return
            pending.pop(0)

    # mode's SignalHandlerT does not accept a plain ``async def (sender, *args, **kw)``.
    app.on_partitions_assigned.connect(cast(Any, on_assigned))
