"""Every Kafka topic Vane touches, and its codec.

Input topics and the dead-letter topic carry raw bytes: Vane decodes input
itself (``streams.intake.contract``) so that no malformed message can crash Faust's
deserialiser, and the dead-letter topic keeps the original bytes intact.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import faust
from faust.types import TopicT

from streams.intake.contract import Stream
from streams.settings import TopicSettings


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
