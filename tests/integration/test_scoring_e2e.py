"""End to end: events drive a real worker; the weight topic and the final scores are right."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from models import load_models, round_half_even
from streams import codec
from streams.cli.sweep import wait_for_sweep
from streams.settings import RedisSettings, Secret
from streams.store import WindowStore
from tests import kafka_helpers as kafka
from tests import weight_topic
from tests.infra import Infra
from tests.reference import expected_states, random_body
from tests.samples import STREAM_OF_TYPE, key_of
from tests.worker_process import WorkerProcess, topic_names, wait_until, worker_env

pytestmark = pytest.mark.integration

EVENTS = 4000
MODELS = load_models()


def _scores_page(port: int, entity_type: str, entity_id: str) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/scores/{entity_type}/{entity_id}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


async def _sweep_and_list(url: str, prefix: str) -> list[tuple[str, str]]:
    store = await WindowStore.connect(RedisSettings(url=Secret(url), key_prefix=prefix))
    try:
        await wait_for_sweep(store, await store.request_sweep(), 120)
        return [key async for key in store.entities() if key[0] in MODELS]
    finally:
        await store.close()


def test_weight_updates_and_final_scores(infra: Infra, unique: str, tmp_path: Path) -> None:
    rng = random.Random(11)
    bodies = [random_body(rng, n, span_days=45) for n in range(EVENTS)]
    topics = topic_names(unique)
    kafka.create_topics(infra.kafka_bootstrap, list(topics.values()))
    env = worker_env(infra, unique, topics, tmp_path)
    records = [
        (topics[STREAM_OF_TYPE[b["type"]].value], key_of(b), codec.dumps(b)) for b in bodies
    ]

    with WorkerProcess(env, tmp_path / "worker.log") as worker:
        ends = kafka.produce_keyed(infra.kafka_bootstrap, records)
        group = env["VANE_APP_ID"]

        def done() -> bool:
            return kafka.committed(infra.kafka_bootstrap, group, list(ends)) == ends

        wait_until(done, 120, interval_s=0.5, what="every event consumed and committed")
        entities = asyncio.run(_sweep_and_list(infra.redis_url, env["VANE_REDIS_KEY_PREFIX"]))
        pages = {key: _scores_page(worker.web_port, *key) for key in entities}
        missing = urllib.request.Request(f"http://127.0.0.1:{worker.web_port}/scores/shop/nope")
        with pytest.raises(urllib.error.HTTPError) as not_found:
            urllib.request.urlopen(missing, timeout=5)
        worker.assert_running()

    assert not_found.value.code == 404
    assert json.loads(not_found.value.read())["error"] == "not_found"
    records = kafka.consume_all(infra.kafka_bootstrap, topics["weights"])
    last = weight_topic.check(records)
    assert last, "some entities changed tier"
    rated = sum(1 for p in pages.values() if p["score"] is not None)
    print(
        f"{len(records)} weight updates for {len(last)} keys; {len(pages)} entities, {rated} rated"
    )
    expected = expected_states(bodies)
    assert set(expected) == set(pages)
    for key, page in pages.items():
        want = expected[key]
        got = page["score_exact"]
        assert (got is None) == (want.score is None), key
        if want.score is not None:
            assert abs(got - want.score) <= 1e-9, (key, got, want)
        # Rulebook v2: exactly one tier per history (§7 against yesterday's band).
        assert page["tier"] == want.tier, (key, page["tier"], want)
        assert (page["weight"], page["boost"]) == (
            round_half_even(want.weight),
            round_half_even(want.boost),
        )
        published = last.get(f"{key[0]}:{key[1]}")
        state = {f: page["published"][f] for f in ("tier", "weight", "boost")}
        if published is None:
            assert state == {"tier": "NEW", "weight": 1.0, "boost": 1.0}, key
        else:
            assert state == {f: published[f] for f in ("tier", "weight", "boost")}, key
            assert page["published"]["seq"] == published["seq"]
        assert (page["tier"], page["weight"], page["boost"]) == tuple(state.values()), key

    # vane explain --json says the same as /scores, for a few entities.
    sample_keys = sorted(pages)[:: max(1, len(pages) // 5)]
    cli_env = {**os.environ, **env}
    for key in sample_keys:
        out = subprocess.run(
            [sys.executable, "-m", "streams.cli", "explain", *key, "--json"],
            capture_output=True, text=True, env=cli_env, check=True, timeout=60,
        )  # fmt: skip
        assert json.loads(out.stdout) == pages[key], key
