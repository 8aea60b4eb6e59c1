"""Guarantees under duplicates, disorder and hostile input, each against a real worker.

The reference is ``vane score-file`` on the clean events (in process, no Kafka
or Redis); the stream must end in the same state (docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path

import pytest

from streams.cli.sweep import wait_for_sweep
from streams.devtools.generator import GeneratorConfig
from streams.events import Stream
from streams.intake.routing import route
from streams.settings import RedisSettings, Secret
from streams.store import WindowStore
from tests import kafka_helpers as kafka
from tests.fuzz import malformed
from tests.infra import Infra
from tests.pipeline import (
    Rows,
    assert_same_final_state,
    market_with_expectation,
    replay_and_snapshot,
    rows,
    vane,
)
from tests.worker_process import WorkerProcess, topic_names, wait_until, worker_env

pytestmark = pytest.mark.integration

MARKET = GeneratorConfig(days=20, shops=15, creators=8, orders_per_day=150, seed=3)
MALFORMED = 10_000


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[bytes], Rows]:
    """The clean events and score-file's final state for them."""
    return market_with_expectation(tmp_path_factory.mktemp("clean"), MARKET)


def test_every_event_twice_ends_in_the_same_state(
    infra: Infra, unique: str, tmp_path: Path, clean: tuple[list[bytes], Rows]
) -> None:
    lines, expected = clean
    doubled = tmp_path / "doubled.jsonl"
    doubled.write_bytes(b"\n".join(line for line in lines for _ in range(2)) + b"\n")
    got, _ = replay_and_snapshot(infra, unique, tmp_path, doubled)
    assert_same_final_state(got, expected)


def test_shuffled_events_end_in_the_same_scores(
    infra: Infra, unique: str, tmp_path: Path, clean: tuple[list[bytes], Rows]
) -> None:
    lines, expected = clean
    shuffled = list(lines)
    random.Random(5).shuffle(shuffled)  # across and within partitions, up to 20 days apart
    path = tmp_path / "shuffled.jsonl"
    path.write_bytes(b"\n".join(shuffled) + b"\n")
    got, _ = replay_and_snapshot(infra, unique, tmp_path, path)
    assert_same_final_state(got, expected)


def test_malformed_flood_is_dead_lettered_and_changes_nothing(
    infra: Infra, unique: str, tmp_path: Path, clean: tuple[list[bytes], Rows]
) -> None:
    lines, expected = clean
    topics = topic_names(unique)
    names = {s: topics[s.value] for s in Stream}
    rng = random.Random(9)
    valid = [(r.topic, r.key, r.value) for r in (route(line, names) for line in lines)]
    bad = [(names[s], rng.randbytes(8), raw) for s, raw in malformed(rng, MALFORMED)]
    records = valid + bad
    rng.shuffle(records)
    kafka.create_topics(infra.kafka_bootstrap, list(topics.values()))
    env = worker_env(infra, unique, topics, tmp_path)

    with WorkerProcess(env, tmp_path / "worker.log") as worker:
        ends = kafka.produce_keyed(infra.kafka_bootstrap, records)

        def consumed() -> bool:
            return kafka.committed(infra.kafka_bootstrap, env["VANE_APP_ID"], list(ends)) == ends

        wait_until(consumed, 240, interval_s=0.5, what="every message consumed")
        asyncio.run(_sweep(infra.redis_url, env["VANE_REDIS_KEY_PREFIX"]))
        vane("snapshot", "--out", str(tmp_path / "got.jsonl"), env=env)
        worker.assert_running()

    letters = kafka.consume_all(infra.kafka_bootstrap, topics["dlq"], idle_s=3)
    assert len(letters) == MALFORMED
    assert Counter(r.value for r in letters) == Counter(raw for _, _, raw in bad), "bytes intact"
    reasons = Counter(dict(r.headers)["vane.reason"].decode() for r in letters)
    print(f"{MALFORMED} malformed messages dead-lettered: {dict(reasons)}")
    assert_same_final_state(rows(tmp_path / "got.jsonl"), expected)


async def _sweep(url: str, prefix: str) -> None:
    store = await WindowStore.connect(RedisSettings(url=Secret(url), key_prefix=prefix))
    try:
        await wait_for_sweep(store, await store.request_sweep(), 120)
    finally:
        await store.close()
