"""The worker creates its weight and dead-letter topics with the configs their contracts need.

docs/weight-topic.md tells the recommender to rebuild its table by reading the
compacted weight topic from the beginning: the topic must be compacted on the
broker, not by good intentions. Checked with DescribeConfigs on both brokers
(Tansu reports the configs a topic was created with; Apache Kafka reports them
with their source, beside its defaults).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from streams.events import Stream
from streams.topics import DLQ_CONFIG, WEIGHTS_CONFIG
from tests import kafka_helpers as kafka
from tests.infra import Infra
from tests.worker_process import WorkerProcess, topic_names, wait_until, worker_env

pytestmark = pytest.mark.integration


def described(bootstrap: str, topics: list[str]) -> dict[str, dict[str, str]]:
    """Each existing topic's configs as the broker reports them; {} for a missing topic."""

    async def run() -> dict[str, dict[str, str]]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            existing = set(await admin.list_topics())
            asked = [ConfigResource(ConfigResourceType.TOPIC, t) for t in topics if t in existing]
            if not asked:
                return {}
            out: dict[str, dict[str, str]] = {}
            for response in await admin.describe_configs(asked):
                for error, _, _, name, entries in response.resources:
                    assert error == 0, (name, error)
                    out[name] = {entry[0]: entry[1] for entry in entries}
            return out
        finally:
            await admin.close()

    return asyncio.run(run())


def test_worker_creates_a_compacted_weight_topic_and_a_dead_letter_topic_with_retention(
    infra: Infra, unique: str, tmp_path: Path
) -> None:
    topics = topic_names(unique)
    # Only the inputs exist: the worker must create the two topics it publishes to.
    kafka.create_topics(infra.kafka_bootstrap, [topics[s.value] for s in Stream])
    outputs = [topics["weights"], topics["dlq"]]
    assert described(infra.kafka_bootstrap, outputs) == {}
    env = worker_env(infra, unique, topics, tmp_path)

    with WorkerProcess(env, tmp_path / "worker.log") as worker:

        def both_created() -> dict[str, dict[str, str]] | None:
            worker.assert_running()
            got = described(infra.kafka_bootstrap, outputs)
            return got if len(got) == 2 else None

        configs = wait_until(both_created, timeout_s=60, interval_s=0.5, what="both topics")

    weights, dlq = configs[topics["weights"]], configs[topics["dlq"]]
    assert {k: weights.get(k) for k in WEIGHTS_CONFIG} == dict(WEIGHTS_CONFIG)
    assert weights["cleanup.policy"] == "compact"
    assert {k: dlq.get(k) for k in DLQ_CONFIG} == dict(DLQ_CONFIG)
    assert int(dlq["retention.ms"]) == 7 * 24 * 3600 * 1000


def test_an_existing_weight_topic_is_left_as_it_is(
    infra: Infra, unique: str, tmp_path: Path
) -> None:
    """Faust never alters a topic that exists: an operator's own settings win."""
    topics = topic_names(unique)
    kafka.create_topics(infra.kafka_bootstrap, [topics[s.value] for s in Stream])
    own = {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000"}
    kafka.create_topics(infra.kafka_bootstrap, [topics["weights"]], configs=own)
    env = worker_env(infra, unique, topics, tmp_path)
    with WorkerProcess(env, tmp_path / "worker.log") as worker:
        wait_until(
            lambda: described(infra.kafka_bootstrap, [topics["dlq"]]),
            timeout_s=60,
            interval_s=0.5,
            what="the dead-letter topic",
        )
        worker.assert_running()
    weights = described(infra.kafka_bootstrap, [topics["weights"]])[topics["weights"]]
    assert weights["min.compaction.lag.ms"] == "60000"
