"""Redis refusing writes while a real worker runs: every error class has a policy.

A dedicated embedded Valkey per test is driven into the fault with the server's
own commands: ``CONFIG SET maxmemory`` with ``noeviction`` (every write answers
OOM) and ``REPLICAOF`` a primary that does not answer (every write answers
READONLY; the data stays, unlike a replica that syncs). The worker must retry
with backoff while ``/ready`` says not ready, never crash, stop within the grace
period when told to, and end in exactly the state of the events once the server
is healthy again. A script that fails on the server (WRONGTYPE inside apply.lua)
dead-letters its batch as ``internal_error`` and consumption goes on.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio

from streams import codec
from streams.devtools.supervision import free_port
from streams.settings import RedisSettings, Secret
from streams.store import WindowStore
from streams.store.probe import command
from tests import kafka_helpers as kafka
from tests.infra import Infra
from tests.reference import Expected, random_body, read_all, reference
from tests.samples import STREAM_OF_TYPE, key_of, sample
from tests.servers import RestartableValkey
from tests.worker_process import WorkerProcess, topic_names, wait_until, worker_env

pytestmark = pytest.mark.integration

GRACE_S = 30.0  # docker-compose's stop_grace_period, Kubernetes' default
EVENTS = 400


def ready(worker: WorkerProcess) -> dict[str, Any] | None:
    """/ready's body (None when the worker does not answer)."""
    url = f"http://127.0.0.1:{worker.web_port}/ready"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return dict(json.loads(response.read()))
    except urllib.error.HTTPError as exc:
        return dict(json.loads(exc.read()))
    except OSError:
        return None


def retries(worker: WorkerProcess, error: str) -> float:
    return worker.metrics().get(("vane_redis_retries_total", (("error", error),)), 0.0)


class Run:
    """One test's topics, group, key prefix, events and the worker environment."""

    def __init__(self, infra: Infra, redis_url: str, unique: str, tmp: Path) -> None:
        self.infra, self.tmp, self.redis_url = infra, tmp, redis_url
        self.topics = topic_names(unique)
        kafka.create_topics(infra.kafka_bootstrap, list(self.topics.values()))
        served = Infra(infra.kafka_bootstrap, redis_url, infra.kafka_origin, "dedicated")
        self.env = worker_env(served, unique, self.topics, tmp) | {"VANE_MAX_BATCH": "50"}
        self.ends: dict[tuple[str, int], int] = {}
        self.bodies: list[dict[str, Any]] = []
        self.workers = 0

    def produce(self, bodies: list[dict[str, Any]]) -> None:
        records = [
            (self.topics[STREAM_OF_TYPE[b["type"]].value], key_of(b), codec.dumps(b))
            for b in bodies
        ]
        for key, end in kafka.produce_keyed(self.infra.kafka_bootstrap, records).items():
            self.ends[key] = max(self.ends.get(key, 0), end)
        self.bodies += bodies

    def worker(self) -> WorkerProcess:
        self.workers += 1
        return WorkerProcess(self.env, self.tmp / f"worker-{self.workers}.log")

    def committed(self) -> dict[tuple[str, int], int]:
        group = self.env["VANE_APP_ID"]
        return kafka.committed(self.infra.kafka_bootstrap, group, list(self.ends))

    def consumed(self) -> bool:
        try:
            return self.committed() == self.ends
        except Exception:  # a broker still electing its group coordinator
            return False

    def final_state(self) -> tuple[Expected, Expected]:
        """(what the store holds, what the events say)."""
        as_of, expected = reference(self.bodies)
        prefix = self.env["VANE_REDIS_KEY_PREFIX"]
        return asyncio.run(_read_store(self.redis_url, prefix, as_of)), expected


async def _read_store(url: str, prefix: str, as_of: int) -> Expected:
    store = await WindowStore.connect(RedisSettings(url=Secret(url), key_prefix=prefix))
    try:
        return await read_all(store, as_of)
    finally:
        await store.close()


def bodies(seed: int, start: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [random_body(rng, n) for n in range(start, start + count)]


def ok(reply: bytes) -> None:
    assert reply.startswith(b"+OK"), reply


def test_out_of_memory_retries_not_ready_then_resumes_exactly(
    infra: Infra, unique: str, tmp_path: Path, valkey: RestartableValkey
) -> None:
    run = Run(infra, valkey.url, unique, tmp_path)
    run.produce(bodies(1, 0, EVENTS))
    with run.worker() as worker:
        wait_until(run.consumed, 90, interval_s=0.5, what="the first events consumed")
        wait_until(lambda: (ready(worker) or {}).get("ready"), 30, what="/ready")
        ok(command(valkey.port, "CONFIG", "SET", "maxmemory-policy", "noeviction"))
        ok(command(valkey.port, "CONFIG", "SET", "maxmemory", "1"))
        run.produce(bodies(1, EVENTS, EVENTS))
        body = wait_until(
            lambda: (b := ready(worker)) is not None and not b["ready"] and b, 30, what="503"
        )
        assert body["checks"]["store"] is False
        assert body["checks"]["redis"] is True  # PING passes on a full server
        wait_until(lambda: retries(worker, "OOM") >= 3, 30, what="OOM retries counted")
        assert run.committed() != run.ends, "nothing written while Redis refuses writes"
        worker.assert_running()
        ok(command(valkey.port, "CONFIG", "SET", "maxmemory", "0"))
        wait_until(run.consumed, 90, interval_s=0.5, what="every event consumed after OOM")
        wait_until(lambda: (ready(worker) or {}).get("ready"), 30, what="/ready again")
        oom = retries(worker, "OOM")
        worker.assert_running()
    got, expected = run.final_state()
    print(f"OOM: {oom:.0f} retries; {len(run.bodies)} events; {len(expected)} entities exact")
    assert got == expected


def test_read_only_replica_then_sigterm_stops_in_grace_and_nothing_is_lost(
    infra: Infra, unique: str, tmp_path: Path, valkey: RestartableValkey
) -> None:
    run = Run(infra, valkey.url, unique, tmp_path)
    run.produce(bodies(2, 0, EVENTS))
    worker = run.worker().start()
    try:
        wait_until(run.consumed, 90, interval_s=0.5, what="the first events consumed")
        # A primary that does not answer: the server turns replica, keeps its data
        # and answers READONLY to every write (a failover that demoted it).
        ok(command(valkey.port, "REPLICAOF", "127.0.0.1", str(free_port())))
        run.produce(bodies(2, EVENTS, EVENTS))
        wait_until(lambda: retries(worker, "READONLY") >= 3, 30, what="READONLY retries")
        assert (ready(worker) or {"ready": True})["ready"] is False
        before = run.committed()
        assert before != run.ends
        worker.assert_running()
        stopping_at = time.monotonic()
        assert worker.process is not None
        process = worker.process
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=GRACE_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the worker did not stop within {GRACE_S}s:\n{worker.log()}")
        stop_s = time.monotonic() - stopping_at
        assert code == 0, worker.log()
    finally:
        worker.stop()
    ok(command(valkey.port, "REPLICAOF", "NO", "ONE"))
    with run.worker() as second:
        wait_until(run.consumed, 120, interval_s=0.5, what="every event consumed by a restart")
        second.assert_running()
    got, expected = run.final_state()
    print(f"READONLY: SIGTERM to exit {stop_s:.1f}s; {len(expected)} entities exact")
    assert got == expected


def test_a_script_error_dead_letters_the_batch_and_consumption_goes_on(
    infra: Infra, unique: str, tmp_path: Path
) -> None:
    run = Run(infra, infra.redis_url, unique, tmp_path)
    prefix = run.env["VANE_REDIS_KEY_PREFIX"]
    ids = {"order_id": "o-poison", "shop_id": "s-poison", "product_id": "p-poison"}
    ids |= {"creator_id": "c-poison", "category_id": "cat-poison"}
    when = {"ts": "2026-10-01T10:00:00+08:00", "paid_at": "2026-10-01T10:00:00+08:00"}
    poison = sample("order.paid", "e-poison", **ids, **when)
    # The shop's windows hash is a string: apply.lua's HINCRBY answers WRONGTYPE.
    poisoned = f"{prefix}:{{shop:s-poison}}"
    asyncio.run(_set_string(infra.redis_url, poisoned))
    with run.worker() as worker:
        run.produce([poison])
        letters = wait_until(
            lambda: kafka.consume(infra.kafka_bootstrap, run.topics["dlq"], 1, timeout_s=2),
            60,
            what="the batch in the dead-letter topic",
        )
        headers = dict(letters[0].headers)
        assert headers["vane.reason"] == b"internal_error"
        assert b"WRONGTYPE" in headers["vane.detail"], headers
        good = bodies(3, 1, EVENTS)
        run.produce(good)
        wait_until(run.consumed, 90, interval_s=0.5, what="the events after the poison consumed")
        worker.assert_running()
        counted = worker.metrics()
    labels = (("reason", "internal_error"), ("topic", run.topics["orders"]))
    dead = counted.get(("vane_dead_letters_total", labels), 0.0)
    assert dead == 1
    run.bodies = good
    asyncio.run(_delete(infra.redis_url, poisoned))
    got, expected = run.final_state()
    # The poison's other entities (product, creator, category) may hold it in part.
    assert {k: v for k, v in got.items() if "poison" not in k[1]} == expected


async def _delete(url: str, key: str) -> None:
    client = redis.asyncio.Redis.from_url(url)
    try:
        await client.delete(key)
    finally:
        await client.aclose()


async def _set_string(url: str, key: str) -> None:
    client = redis.asyncio.Redis.from_url(url)
    try:
        await client.set(key, "not a hash")
    finally:
        await client.aclose()
