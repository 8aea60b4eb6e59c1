"""Headers are input: fuzzed header keys, values and counts reach a real worker.

A record whose header key is not UTF-8 (Go and librdkafka producers can send one)
used to raise inside the fetcher and kill the worker, and every restart died on
the same uncommitted record. Now it is dead-lettered as ``bad_header`` with its
bytes, and every other record is consumed and counted.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from streams import codec
from tests import kafka_helpers as kafka
from tests.infra import Infra
from tests.raw_records import RawHeaders, RawRecord, produce_raw
from tests.samples import sample
from tests.worker_process import WorkerProcess, topic_names, wait_until, worker_env

pytestmark = pytest.mark.integration

BAD_KEYS = [b"\xff", b"\xfe\xff", b"trace\xc3\x28", b"\xed\xa0\x80", b"\x80" * 300, b"ok\xf8"]


def _text_key(rng: random.Random) -> bytes:
    fixed = [b"", b"traceparent", b"vane.reason", "é字".encode(), b"\x00nul", b"k" * 1000]
    return rng.choice([*fixed, rng.randbytes(8).hex().encode()])


def _value(rng: random.Random) -> bytes | None:
    return rng.choice([None, b"", rng.randbytes(rng.randrange(1, 64)), b"\xff" * 4096])


def _headers(rng: random.Random, poison: bool) -> RawHeaders:
    headers = [(_text_key(rng), _value(rng)) for _ in range(rng.choice([0, 1, 2, 5, 100]))]
    if poison:
        headers.insert(rng.randrange(len(headers) + 1), (rng.choice(BAD_KEYS), _value(rng)))
    return headers


def test_fuzzed_headers_poison_is_dead_lettered_and_the_rest_counted(
    infra: Infra, unique: str, tmp_path: Path
) -> None:
    rng = random.Random(16)
    topics = topic_names(unique)
    kafka.create_topics(infra.kafka_bootstrap, list(topics.values()), partitions=1)
    env = worker_env(infra, unique, topics, tmp_path)
    records: list[tuple[RawRecord, bool]] = []
    for i in range(400):
        poison = rng.random() < 0.25
        body = codec.dumps(sample("order.paid", event_id=f"h{i}", order_id=f"o{i}"))
        records.append(((f"o{i}".encode(), body, _headers(rng, poison)), poison))

    with WorkerProcess(env, tmp_path / "worker.log") as worker:
        for chunk in (records[i : i + 37] for i in range(0, len(records), 37)):
            produce_raw(infra.kafka_bootstrap, topics["orders"], 0, [r for r, _ in chunk])
        end = {(topics["orders"], 0): len(records)}

        def consumed() -> bool:
            try:
                return kafka.committed(infra.kafka_bootstrap, env["VANE_APP_ID"], list(end)) == end
            except Exception:  # the group's coordinator is not there yet (Apache Kafka)
                return False

        wait_until(consumed, 120, interval_s=0.5, what="every record consumed")
        worker.assert_running()
        counted = worker.metrics()[
            ("vane_events_total", (("topic", topics["orders"]), ("type", "order.paid")))
        ]

    poisoned = [r for r, poison in records if poison]
    letters = kafka.consume_all(infra.kafka_bootstrap, topics["dlq"], idle_s=2)
    reasons = Counter(dict(r.headers)["vane.reason"] for r in letters)
    print(f"{len(records)} records, {len(poisoned)} with a bad header key: {dict(reasons)}")
    assert reasons == {b"bad_header": len(poisoned)}
    assert counted == len(records) - len(poisoned)
    for letter, (key, value, headers) in zip(letters, poisoned, strict=True):
        assert (letter.key, letter.value) == (key, value), "key and value intact"
        raw = [v for k, v in letter.headers if k == "vane.raw_header_key"]
        assert raw == [k for k, _ in headers if k in BAD_KEYS], "the bad key's bytes kept"
