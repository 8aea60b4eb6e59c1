"""The weight topic read by its consumers: the example recommender consumer and kcat,
and compacted by Apache Kafka's log cleaner.

Hand-written schema-v1 messages (SCORING.md §9, docs/weight-topic.md) on a real
broker: a first message, a change, an identical re-send after a "crash", an
older message re-sent late, and a second entity. The example keeps the latest
state per key; kcat (librdkafka, C) proves a non-Python client reads the topic.
On Apache Kafka the real cleaner compacts a weight topic (Tansu has no cleaner).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import subprocess
import time
from types import ModuleType
from typing import Any

import pytest

from streams import codec
from tests import kafka_helpers as kafka
from tests.deploy.examples import recommender_consumer
from tests.infra import Infra
from tests.weight_topic import VALIDATOR, check
from tests.worker_process import wait_until

pytestmark = pytest.mark.integration

NEW = {"tier": "NEW", "weight": 1.0, "boost": 1.0, "score": None, "display": None}


def message(key: str, seq: int, state: dict[str, Any], previous: dict[str, Any]) -> bytes:
    entity_type, entity_id = key.split(":")
    body = {
        "schema": 1,
        "entity_type": entity_type,
        "entity_id": entity_id,
        **state,
        "previous": previous,
        "reasons": [
            {"indicator": "quality_refund_rate", "value": 0.031, "sub": 42.0, "points_lost": 4.64}
        ],
        "model": {"name": entity_type, "version": "1"},
        "as_of": "2026-11-22T10:00:00.000+08:00",
        "as_of_ms": 1795312800000 + seq,
        "cause": f"ev-{seq}",
        "seq": seq,
    }
    VALIDATOR.validate(body)
    return codec.dumps(body)


def weight_records() -> list[tuple[bytes, bytes]]:
    standard = {"tier": "STANDARD", "weight": 1.0, "boost": 1.0, "score": 79.5, "display": 4.59}
    good = {"tier": "GOOD", "weight": 1.1, "boost": 1.0, "score": 84.12, "display": 4.68}
    first = message("shop:s1", 1, standard, NEW)
    second = message("shop:s1", 2, good, standard)
    creator = message("creator:c1", 1, standard, NEW)
    return [
        (b"shop:s1", first),
        (b"creator:c1", creator),
        (b"shop:s1", second),
        (b"shop:s1", second),  # re-sent after a crash: same seq, same bytes
        (b"shop:s1", first),  # an older message re-sent late: ignored
    ]


@pytest.fixture
def weight_topic(infra: Infra, unique: str) -> str:
    topic = f"weights-{unique}"
    kafka.create_topics(infra.kafka_bootstrap, [topic])
    kafka.produce(infra.kafka_bootstrap, topic, weight_records())
    return topic


async def _follow_until_caught_up(example: ModuleType, bootstrap: str, topic: str) -> Any:
    table, caught_up = example.WeightTable(), asyncio.Event()
    task = asyncio.create_task(example.follow(bootstrap, topic, table, caught_up))
    try:
        await asyncio.wait_for(caught_up.wait(), 30)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return table


def test_example_consumer_keeps_the_latest_weight_per_entity(
    infra: Infra, weight_topic: str
) -> None:
    example = recommender_consumer()
    table = asyncio.run(_follow_until_caught_up(example, infra.kafka_bootstrap, weight_topic))
    assert table.weight("shop", "s1") == ("GOOD", 1.1, 1.0)
    assert table.weight("creator", "c1") == ("STANDARD", 1.0, 1.0)
    assert table.weight("product", "never-seen") == ("NEW", 1.0, 1.0)
    assert table.ignored == 2
    # The table holds each key's highest seq, whatever landed last: this topic ends on a
    # late stale copy (Vane repairs that by re-sending the current message; the example
    # must not depend on it). Vane's own guarantees (tests/weight_topic.check) hold for
    # the topic without the late copy.
    records = kafka.consume(infra.kafka_bootstrap, weight_topic, len(weight_records()))
    highest: dict[str, dict[str, Any]] = {}
    for record in records:
        body, key = codec.loads(record.value), record.key.decode()
        if key not in highest or body["seq"] > highest[key]["seq"]:
            highest[key] = body
    assert table.latest == {key: highest[key] for key in table.latest}
    late = records[max(i for i, r in enumerate(records) if r.key == b"shop:s1")]
    assert codec.loads(late.value)["seq"] == 1, "the stale copy landed last, as produced"
    assert check([r for r in records if r is not late]) == highest


LEGACY = ["-X", "api.version.request=false", "-X", "broker.version.fallback=0.9.0"]


def kcat_read(kcat: str, infra: Infra, topic: str) -> list[dict[str, Any]]:
    """Every record of ``topic`` as kcat's JSON envelopes (key, payload, partition...).

    librdkafka 2.0 cannot parse Tansu 0.6's ApiVersions v3 and ListOffsets v0 answers:
    there, skip the version query (assume the 0.9 protocol). Offset 0 rather than the
    logical "beginning" needs no ListOffsets. Apache Kafka needs no flags (and refuses
    the 0.9 protocol's fetch, which it no longer serves).
    """
    flags = LEGACY if infra.tansu else []
    argv = [kcat, *flags, "-C", "-b", infra.kafka_bootstrap, "-t", topic]
    done = subprocess.run([*argv, "-o", "0", "-e", "-q", "-J"], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    return [json.loads(line) for line in done.stdout.decode().splitlines() if line]


def test_kcat_reads_the_weight_topic(infra: Infra, weight_topic: str) -> None:
    kcat = shutil.which("kcat") or shutil.which("kafkacat")
    if kcat is None:
        pytest.skip("kcat is not installed and could not be: `make tools` installs it (apt-get)")
    got = kcat_read(kcat, infra, weight_topic)
    sent = weight_records()
    assert sorted((r["key"], r["payload"]) for r in got) == sorted(
        (k.decode(), v.decode()) for k, v in sent
    )
    for record in got:
        body = json.loads(record["payload"])
        VALIDATOR.validate(body)
        assert record["key"] == f"{body['entity_type']}:{body['entity_id']}"


# Small segments that roll after 100 ms, cleaned as soon as 1 % of the log is dirty.
COMPACTED = {
    "cleanup.policy": "compact",
    "segment.ms": "100",
    "segment.bytes": str(1024 * 1024),  # the least Apache Kafka 4 accepts
    "min.cleanable.dirty.ratio": "0.01",
    "min.compaction.lag.ms": "0",
    "delete.retention.ms": "100",
}
ENTITIES, UPDATES = 6, 60
CLEANER_WAIT_S = 90.0  # bounded: the cleaner runs every 0.5 s (log.cleaner.backoff.ms)


def updates() -> list[tuple[bytes, bytes]]:
    """UPDATES state changes per entity, round by round (STANDARD and GOOD in turn)."""
    standard = {"tier": "STANDARD", "weight": 1.0, "boost": 1.0, "score": 79.5, "display": 4.59}
    good = {"tier": "GOOD", "weight": 1.1, "boost": 1.0, "score": 84.12, "display": 4.68}
    out = []
    for seq in range(1, UPDATES + 1):
        state = standard if seq % 2 else good
        previous = NEW if seq == 1 else (good if seq % 2 else standard)
        for n in range(ENTITIES):
            key = f"shop:c{n}"
            out.append((key.encode(), message(key, seq, state, previous)))
    return out


def _cleaned(records: list[Any], sentinel: int) -> list[Any] | None:
    """The records before the sentinel once each key is left there once, else None."""
    before = [r for r in records if r.offset < sentinel]
    keys = [r.key for r in before]
    return before if len(keys) == len(set(keys)) else None


def test_the_log_cleaner_leaves_the_last_message_per_key(infra: Infra, unique: str) -> None:
    if infra.tansu:
        pytest.skip("Tansu 0.6 has no log cleaner: compaction is tested on Apache Kafka")
    topic = f"weights-compacted-{unique}"
    kafka.create_topics(infra.kafka_bootstrap, [topic], partitions=1, configs=COMPACTED)
    sent = updates()
    for start in range(0, len(sent), ENTITIES * 10):  # ten rounds per segment, about
        kafka.produce(infra.kafka_bootstrap, topic, sent[start : start + ENTITIES * 10])
        time.sleep(0.15)
    # A last message rolls the segment of the last updates: all of them are cleanable.
    sentinel = message("creator:sentinel", 1, {**NEW, "tier": "GOOD", "weight": 1.1}, NEW)
    kafka.produce(infra.kafka_bootstrap, topic, [(b"creator:sentinel", sentinel)])
    total = len(sent) + 1

    def compacted() -> list[Any] | None:
        records = kafka.consume_all(infra.kafka_bootstrap, topic, idle_s=0.5)
        ends = [r.offset for r in records if r.key == b"creator:sentinel"]
        return _cleaned(records, ends[-1]) if ends else None

    kept = wait_until(compacted, CLEANER_WAIT_S, 1.0, "the log cleaner to compact the topic")
    print(f"the cleaner left {len(kept)} of {total - 1} updates before the last message")
    last = dict(sent)  # the current state: each key's last message
    assert {r.key: r.value for r in kept} == last
    for record in kept:
        VALIDATOR.validate(codec.loads(record.value))
