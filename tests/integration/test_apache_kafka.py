"""A real Apache Kafka broker from Maven jars (``make kafka``), no Docker.

What Tansu gets wrong is right here: ``end_offsets`` is the real end of the
log, and the idempotent producer starts. Skipped without the jars or Java 17+.
"""

from __future__ import annotations

import asyncio
import functools
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams.devtools.apache_kafka import ApacheKafka, ApacheKafkaError, java_problem, kafka_libs

pytestmark = pytest.mark.integration

MESSAGES = 100
PARTITIONS = 3


@functools.cache
def _why_skipped() -> str | None:
    if kafka_libs() is None:
        return "no Apache Kafka jars: run `make kafka` (needs Java 17+ and Maven)"
    problem = java_problem()
    return f"{problem}: the Apache Kafka test tier is skipped" if problem else None


@pytest.fixture(scope="module", autouse=True)
def _needs_apache_kafka() -> None:
    reason = _why_skipped()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def kafka() -> Iterator[ApacheKafka]:
    """One broker for the module's tests."""
    with ApacheKafka() as broker:
        yield broker


def _java_alive(pid: int) -> bool:
    """True while ``pid`` is a broker JVM (a reaped pid has no /proc entry)."""
    try:
        return b"kafka.Kafka" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


async def _create_topic(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()


async def _produce(bootstrap: str, topic: str, idempotent: bool = False) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=idempotent)
    await producer.start()
    try:
        for i in range(MESSAGES):
            await producer.send(topic, key=b"k%d" % (i % 7), value=b"%d" % i)
        await producer.flush()
    finally:
        await producer.stop()


async def _consume_and_commit(bootstrap: str, topic: str, group: str) -> list[tuple[bytes, int]]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    got: list[tuple[bytes, int]] = []
    deadline = time.monotonic() + 30
    try:
        while len(got) < MESSAGES and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                got += [(r.key or b"", int(r.value or b"-1")) for r in records]
        await consumer.commit()
    finally:
        await consumer.stop()
    return got


async def _committed(bootstrap: str, group: str, topic: str) -> dict[TopicPartition, int]:
    tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group, partitions=tps)
    finally:
        await admin.close()
    return {tp: meta.offset for tp, meta in offsets.items()}


async def _end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        ends: dict[TopicPartition, int] = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    return ends


def _topic() -> str:
    return f"apache-{uuid.uuid4().hex[:10]}"


def test_keyed_messages_round_trip_with_a_committed_group_offset(kafka: ApacheKafka) -> None:
    topic, group = _topic(), f"g-{uuid.uuid4().hex[:8]}"
    asyncio.run(_create_topic(kafka.bootstrap, topic))
    asyncio.run(_produce(kafka.bootstrap, topic))
    got = asyncio.run(_consume_and_commit(kafka.bootstrap, topic, group))
    assert sorted(v for _, v in got) == list(range(MESSAGES))
    for key in {k for k, _ in got}:  # one key, one partition: its order is kept
        values = [v for k, v in got if k == key]
        assert values == sorted(values)
    ends = asyncio.run(_end_offsets(kafka.bootstrap, topic))
    assert asyncio.run(_committed(kafka.bootstrap, group, topic)) == ends


def test_end_offsets_count_every_message(kafka: ApacheKafka) -> None:
    """Tansu answers ListOffsets with the last batch's base offset + 1; Kafka does not."""
    topic = _topic()
    asyncio.run(_create_topic(kafka.bootstrap, topic))
    asyncio.run(_produce(kafka.bootstrap, topic))
    assert sum(asyncio.run(_end_offsets(kafka.bootstrap, topic)).values()) == MESSAGES


def test_the_idempotent_producer_starts_and_writes(kafka: ApacheKafka) -> None:
    """InitProducerId works here (Tansu rejects it)."""
    topic = _topic()
    asyncio.run(_create_topic(kafka.bootstrap, topic))
    asyncio.run(_produce(kafka.bootstrap, topic, idempotent=True))
    assert sum(asyncio.run(_end_offsets(kafka.bootstrap, topic)).values()) == MESSAGES


def test_the_broker_reports_its_figures(kafka: ApacheKafka) -> None:
    assert kafka.bootstrap == f"127.0.0.1:{kafka.port}"
    assert 0 < kafka.start_s < 60
    assert kafka.log_dir.is_dir()
    assert 50 * 2**20 < kafka.rss_bytes() < 1024 * 2**20
    assert _java_alive(kafka.pid)


def test_no_java_process_outlives_the_context() -> None:
    with ApacheKafka() as broker:
        pid, tmp = broker.pid, broker.dir
        assert _java_alive(pid)
    assert not _java_alive(pid)
    assert not tmp.exists()
    assert broker.rss_bytes() == 0


def test_a_failed_start_leaves_no_java_process_behind() -> None:
    broker = ApacheKafka(start_timeout_s=0.5)
    with pytest.raises(ApacheKafkaError, match=r"no answer in 0\.5 s"), broker:
        pass
    assert broker.pid
    assert not _java_alive(broker.pid)


def test_a_broker_that_exits_at_start_says_why() -> None:
    broker = ApacheKafka({"authorizer.class.name": "vane.NoSuchAuthorizer"})
    with pytest.raises(ApacheKafkaError, match=r"(?s)broker exited 1.*NoSuchAuthorizer"), broker:
        pass
    assert broker.pid
    assert not _java_alive(broker.pid)
