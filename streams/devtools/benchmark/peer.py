"""The peer: Vane's counting job written as a Quix Streams application (issue 17).

What a team would write instead of Vane, with the same counting rules taken
literally from Vane's code: each input message is validated by Vane's contract
(``streams.intake.contract.parse``; malformed ones are dropped) and counted by
``models.counting.contributions`` on its ``streams.events.anchor_day``.

1. Per input topic: one record per (entity, anchor day) with its counter deltas,
   keyed by entity, to ``<group>-contributions`` (four partitions): the
   repartition ``group_by`` would do, written as one ``to_topic`` so that the
   four topics feed one keyed stream and one state store.
2. From that topic, a stateful step: per entity, RocksDB state keyed by anchor
   day holding that day's counters (Quix's default store, with its changelog
   topic; Quix's default at-least-once guarantee: Tansu serves no transactions).
3. A sink flushed at every checkpoint (each commit interval): one message per
   entity whose counters changed in it, to ``<group>-counters``, with the
   changed days' counters as they now are.

Nothing is scored, no tier is decided. Settings are Vane's (``VANE_*``): topics,
group (``VANE_APP_ID``), commit interval, session timeouts; the state lives in
``<VANE_DATA_DIR>/peer-state``. Run as a child process:

    VANE_APP_ID=g KAFKA_BOOTSTRAP=... VANE_BENCH_BROKER=tansu \
        python -m streams.devtools.benchmark.peer
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from models.counting import contributions
from streams import codec
from streams.devtools.benchmark.peer_bench import (
    BROKER_ENV,
    PARTITIONS,
    STATE_DIR,
    contributions_topic,
    counters_topic,
)
from streams.errors import MalformedEvent
from streams.events import Stream, anchor_day
from streams.intake.contract import parse
from streams.settings import Settings
from streams.topics import input_topic_names

with warnings.catch_warnings():
    # quixstreams imports authlib's httpx client, which warns on import.
    warnings.simplefilter("ignore", DeprecationWarning)
    from confluent_kafka import Producer
    from quixstreams import Application, State
    from quixstreams.models import HeadersTuples, TopicConfig
    from quixstreams.models.topics.manager import TopicManager
    from quixstreams.sinks import BaseSink

# librdkafka cannot parse Tansu's ApiVersions v3 answer (docs/weight-topic.md): give it
# the feature set of a Kafka 2.0 broker (record batches, CreateTopics, DescribeConfigs).
TANSU_CLIENT = {"api.version.request": False, "broker.version.fallback": "2.0.0"}


def split(stream: Stream, raw: bytes) -> list[dict[str, Any]]:
    """Stage 1: the (entity, anchor day, counter deltas) records of one input message."""
    try:
        event = parse(stream, raw)
    except MalformedEvent:
        return []
    day = anchor_day(event.anchor_ms)
    return [
        {"t": c.entity_type, "i": c.entity_id, "d": day, "c": c.counts}
        for c in contributions(event.type, event.body)
        if c.counts
    ]


def entity_key(record: dict[str, Any]) -> str:
    return f"{record['t']}:{record['i']}"


def count(record: dict[str, Any], state: State[str, dict[str, int]]) -> dict[str, Any]:
    """Stage 2: add one record's deltas to its entity's day in the state; that day now."""
    day = str(record["d"])
    counters: dict[str, int] = state.get(day) or {}
    for name, delta in record["c"].items():
        counters[name] = counters.get(name, 0) + delta
    state.set(day, counters)
    return {"t": record["t"], "i": record["i"], "d": day, "c": counters}


class ChangedEntities(BaseSink):
    """Stage 3: the latest counters of each changed entity, produced at each checkpoint."""

    def __init__(self, config: dict[str, Any], topic: str) -> None:
        super().__init__()
        self._config, self._topic = config, topic
        self._pending: dict[str, dict[str, Any]] = {}
        self._producer: Producer | None = None

    def setup(self) -> None:
        self._producer = Producer({**self._config, "linger.ms": 5})

    def add(
        self,
        value: Any,
        key: Any,
        timestamp: int,
        headers: HeadersTuples,
        topic: str,
        partition: int,
        offset: int,
    ) -> None:
        entity = self._pending.setdefault(
            key, {"entity_type": value["t"], "entity_id": value["i"], "days": {}}
        )
        entity["days"][value["d"]] = value["c"]

    def flush(self) -> None:
        producer = self._producer
        if producer is None or not self._pending:
            return
        for key, message in self._pending.items():
            producer.produce(self._topic, key=key.encode(), value=codec.dumps(message))
            producer.poll(0)
        self._pending.clear()
        if producer.flush(30) > 0:
            raise RuntimeError("peer: counter messages not delivered in 30 s")


def create_app(settings: Settings, broker: str) -> Application:
    """The three stages on Vane's topics and timings."""
    kafka, group = settings.kafka, settings.worker.app_id
    client = TANSU_CLIENT if broker == "tansu" else {}
    if broker == "tansu":
        _default_retention()
    consumer = {
        **client,
        "session.timeout.ms": int(kafka.session_timeout_s * 1000),
        "heartbeat.interval.ms": int(kafka.heartbeat_interval_s * 1000),
    }
    app = Application(
        broker_address=kafka.bootstrap,
        consumer_group=group,
        auto_offset_reset="earliest",
        commit_interval=kafka.commit_interval_s,
        consumer_extra_config=consumer,
        producer_extra_config=dict(client),
        state_dir=Path(settings.worker.data_dir) / STATE_DIR,
        loglevel="WARNING",
    )
    shared = app.topic(
        contributions_topic(group),
        key_serializer="str",
        value_serializer="json",
        key_deserializer="str",
        value_deserializer="json",
        config=TopicConfig(num_partitions=PARTITIONS, replication_factor=1),
    )
    for stream, name in input_topic_names(settings.topics).items():
        topic = app.topic(name, key_deserializer="bytes", value_deserializer="bytes")
        app.dataframe(topic).apply(_splitter(stream), expand=True).to_topic(shared, key=entity_key)
    sink = ChangedEntities({"bootstrap.servers": kafka.bootstrap, **client}, counters_topic(group))
    app.dataframe(shared).apply(count, stateful=True).sink(sink)
    return app


def _splitter(stream: Stream) -> Callable[[bytes], list[dict[str, Any]]]:
    return lambda raw: split(stream, raw)


def _default_retention() -> None:
    """Tansu's DescribeConfigs names no ``retention.ms``, which Quix needs to derive the
    changelog's config from its source topic: take Kafka's default (keep forever)."""
    configure = TopicManager._configure_topic

    def with_retention(self: TopicManager, topic: Any, broker_topic: Any) -> Any:
        configured = configure(self, topic, broker_topic)
        extra = configured.broker_config.extra_config
        extra.setdefault("retention.ms", "-1")
        extra.setdefault("retention.bytes", "-1")
        return configured

    TopicManager._configure_topic = with_retention  # type: ignore[method-assign]


def main() -> None:
    logging.getLogger("quixstreams").setLevel(logging.WARNING)
    create_app(Settings.from_env(), os.environ.get(BROKER_ENV, "tansu")).run()


if __name__ == "__main__":
    main()
