"""The outbox under faults (issue 16, items 6 and 7): the last message per key is current.

Real Valkey and a real broker. Re-scorers run in process with a publisher over
aiokafka whose sends can be held (a stalled publisher coroutine, the zombie of
item 6), with wall clocks that can be skewed; a real worker process runs the
outbox scan for item 7. Every test ends with ``tests.weight_topic.check`` on the
whole topic and the last record of every key equal to the store's committed state.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from models import load_models
from streams import codec
from streams.events import EntityKey, SourcedEvent
from streams.intake.contract import parse
from streams.metrics import Metrics
from streams.scoring.outbox import OutboxScanner
from streams.scoring.rescorer import Rescorer
from streams.settings import RedisSettings, Secret
from streams.store import Commit, WindowStore
from streams.store.handle import StoreHandle
from tests import kafka_helpers as kafka
from tests import weight_topic
from tests.infra import Infra
from tests.reference import random_body
from tests.samples import STREAM_OF_TYPE
from tests.worker_process import WorkerProcess, topic_names, wait_until, worker_env

pytestmark = pytest.mark.integration

MODELS = load_models()
TAKEOVER_MS = 1_000  # in process: a short takeover age (the worker's is 10 s)


class HeldPublisher:
    """Sends to one topic; while ``hold`` is clear every send waits (a stalled publisher).

    ``die_after_ack``: the first acknowledged batch never returns (the publisher dies
    between its send and its post-send check).
    """

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self.producer, self.topic = producer, topic
        self.hold = asyncio.Event()
        self.hold.set()
        self.waiting = asyncio.Event()
        self.sent = 0
        self.die_after_ack = False

    async def send(
        self, *, key: bytes | None, value: bytes | None, headers: Any
    ) -> Awaitable[Any]:
        if not self.hold.is_set():
            self.waiting.set()
            await self.hold.wait()
        delivered = await self.producer.send(self.topic, value, key=key, headers=headers)
        self.sent += 1
        return asyncio.ensure_future(self._then(delivered)) if self.die_after_ack else delivered

    async def _then(self, delivered: Awaitable[Any]) -> Any:
        await delivered
        await asyncio.Event().wait()  # never returns: cancelled by the test (a death)


def _events(seed: int, count: int, first: int = 0) -> list[SourcedEvent]:
    """``count`` events; a later batch (``first`` > 0) 20 days later, so states move."""
    rng = random.Random(seed)
    bodies = [
        _later(random_body(rng, n, span_days=45), first) for n in range(first, first + count)
    ]
    return [
        SourcedEvent(parse(STREAM_OF_TYPE[b["type"]], codec.dumps(b)), "t", 0, n)
        for n, b in enumerate(bodies, start=first)
    ]


def _later(body: dict[str, Any], first: int) -> dict[str, Any]:
    shift = 20 * 86_400_000 if first else 0
    return {k: v + shift if isinstance(v, int) and v > 10**12 else v for k, v in body.items()}


class Stack:
    """One prefix in the session's Valkey, one weight topic, and re-scorers on them."""

    def __init__(self, infra: Infra, unique: str) -> None:
        self.infra, self.topic = infra, f"weights-{unique}"
        self.settings = RedisSettings(url=Secret(infra.redis_url), key_prefix=f"t{unique}")
        kafka.create_topics(infra.kafka_bootstrap, [self.topic])
        self.handles: list[StoreHandle] = []
        self.producers: list[AIOKafkaProducer] = []

    async def rescorer(self, **kwargs: Any) -> tuple[Rescorer, HeldPublisher, StoreHandle]:
        producer = AIOKafkaProducer(bootstrap_servers=self.infra.kafka_bootstrap)
        await producer.start()
        self.producers.append(producer)
        publisher = HeldPublisher(producer, self.topic)
        handle = StoreHandle(self.settings, Metrics())
        self.handles.append(handle)
        kwargs.setdefault("takeover_after_ms", TAKEOVER_MS)
        return Rescorer(handle, publisher, Metrics(), MODELS, **kwargs), publisher, handle

    async def close(self) -> None:
        for p in self.producers:
            await p.stop()
        for h in self.handles:
            await h.close()


async def _apply_and_rescore(
    handle: StoreHandle, rescorer: Rescorer, events: list[SourcedEvent]
) -> int:
    store = await handle.get()
    result = await store.apply(events)
    assert result.stream_time_ms is not None
    return await rescorer.rescore(result.entities, result.causes, result.stream_time_ms)


async def _commit_next(handle: StoreHandle, rescorer: Rescorer) -> int:
    """Commit and publish, as ``rescorer``, the next state of every entity with a
    published one: its tier moved (POOR <-> STANDARD), ``previous`` the state before."""
    store = await handle.get()
    commits, sends = [], []
    async for key in store.entities():
        raw = await store.committed_message(*key)
        if raw is None or await _pending(store, key):
            continue
        last = codec.loads(raw)
        tier, weight = ("STANDARD", 1.0) if last["tier"] != "STANDARD" else ("POOR", 0.5)
        nxt = {**last, "tier": tier, "weight": weight, "seq": last["seq"] + 1}
        nxt["previous"] = {f: last[f] for f in weight_topic.STATE}
        state = {"tier": tier, "weight": weight, "boost": last["boost"]}
        commits.append(Commit(key[0], key[1], last["seq"], state, codec.dumps(nxt)))
    seqs = await store.commit(commits, rescorer.owner)
    for c, seq in zip(commits, seqs, strict=True):
        if seq > 0:
            sends.append(((c.entity_type, c.entity_id), seq, c.message))
    await rescorer._publish(sends)
    return len(sends)


async def _committed(settings: RedisSettings, keys: list[str]) -> dict[str, int]:
    store = await WindowStore.connect(settings)
    try:
        out = {}
        for key in keys:
            entity_type, _, entity_id = key.partition(":")
            out[key] = int(
                await store._client.hget(store.state_key(entity_type, entity_id), "q") or 0
            )
        return out
    finally:
        await store.close()


def _assert_last_is_current(stack: Stack) -> dict[str, list[int]]:
    """check() holds, and every key's last record carries the store's committed seq."""
    records = kafka.consume_all(stack.infra.kafka_bootstrap, stack.topic, idle_s=1.5)
    weight_topic.check(records)
    seqs: dict[str, list[int]] = {}
    for r in records:
        seqs.setdefault(r.key.decode(), []).append(codec.loads(r.value)["seq"])
    committed = asyncio.run(_committed(stack.settings, list(seqs)))
    wrong = {k: s for k, s in seqs.items() if s[-1] != committed[k]}
    assert not wrong, f"last message not the current state: {wrong} vs {committed}"
    return seqs


@pytest.fixture
def stack(infra: Infra, unique: str) -> Stack:
    return Stack(infra, unique)


def test_a_zombie_publishers_late_send_is_followed_by_the_current_state(stack: Stack) -> None:
    """Item 6: A commits seq 1 and stalls past the takeover age; B takes over, re-sends 1,
    commits and sends 2; A's late 1 lands last, then A's check re-sends 2."""

    async def run() -> tuple[int, int]:
        a, pub_a, store_a = await stack.rescorer()
        b, _, store_b = await stack.rescorer()
        pub_a.hold.clear()
        zombie = asyncio.create_task(_apply_and_rescore(store_a, a, _events(1, 4000)))
        await asyncio.wait_for(pub_a.waiting.wait(), 30)  # A committed, its send is stalled
        await asyncio.sleep(TAKEOVER_MS / 1000 + 0.5)
        b_sent = await _apply_and_rescore(store_b, b, _events(2, 4000, first=4000))
        b_sent += await _commit_next(store_b, b)  # B commits and sends seq 2 of each
        pub_a.hold.set()  # A wakes up: its seq-1 copies land after B's seq 2
        await asyncio.wait_for(zombie, 30)
        resent = int(a._metrics.outbox_resends.labels("stale")._value.get())
        await stack.close()
        return b_sent, resent

    b_sent, stale = asyncio.run(run())
    seqs = _assert_last_is_current(stack)
    backwards = {k: s for k, s in seqs.items() if any(x > y for x, y in itertools.pairwise(s))}
    print(
        f"B published {b_sent}; A's stale sends repaired: {stale}; keys with a seq going "
        f"backwards on the topic (then repaired): {len(backwards)}",
        file=sys.stderr,
    )
    assert stale > 0, "the interleaving did not happen: the test proves nothing"
    assert backwards


def test_a_skewed_wall_clock_takes_nothing_over(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 6, clock skew: B's wall clock 15 s ahead must not make A's fresh entries look
    abandoned (ages are Redis TIME): no takeover, no re-send, A publishes its own."""

    async def run() -> int:
        a, pub_a, store_a = await stack.rescorer(takeover_after_ms=10_000)
        b, _, store_b = await stack.rescorer(takeover_after_ms=10_000)
        pub_a.hold.clear()
        slow = asyncio.create_task(_apply_and_rescore(store_a, a, _events(3, 4000)))
        await asyncio.wait_for(pub_a.waiting.wait(), 30)
        _skew_wall_clocks(monkeypatch, 15_000)
        await _apply_and_rescore(store_b, b, _events(4, 4000, first=4000))
        takeovers = int(b._metrics.outbox_resends.labels("takeover")._value.get())
        pub_a.hold.set()
        await asyncio.wait_for(slow, 30)
        await _apply_and_rescore(store_b, b, [])  # nothing new; B re-reads nothing
        await stack.close()
        return takeovers

    takeovers = asyncio.run(run())
    seqs = _assert_last_is_current(stack)
    assert takeovers == 0
    assert all(s == sorted(set(s)) for s in seqs.values()), "no re-send: each seq once, in order"


def _skew_wall_clocks(monkeypatch: pytest.MonkeyPatch, skew_ms: int) -> None:
    """Every ``wall_clock_ms`` the worker's modules can call runs ``skew_ms`` ahead."""
    from streams import semantics

    real = semantics.wall_clock_ms
    for name, module in list(sys.modules.items()):
        if name.startswith("streams") and getattr(module, "wall_clock_ms", None) is real:
            monkeypatch.setattr(module, "wall_clock_ms", lambda: real() + skew_ms)


def test_a_publisher_that_dies_after_its_late_send_is_repaired_by_the_recheck(
    stack: Stack,
) -> None:
    """Item 6, the publisher dies between its stale send and its check: the takeover's
    re-check (here 3 s after the takeover) re-sends the current state."""

    async def run() -> int:
        a, pub_a, store_a = await stack.rescorer()
        b, _, store_b = await stack.rescorer(recheck_after_ms=3_000)
        pub_a.hold.clear()
        pub_a.die_after_ack = True
        zombie = asyncio.create_task(_apply_and_rescore(store_a, a, _events(5, 4000)))
        await asyncio.wait_for(pub_a.waiting.wait(), 30)
        await asyncio.sleep(TAKEOVER_MS / 1000 + 0.5)
        await _apply_and_rescore(store_b, b, _events(6, 4000, first=4000))
        await _commit_next(store_b, b)
        sent_before = pub_a.sent
        pub_a.hold.set()
        await wait_async(lambda: pub_a.sent > sent_before, 30)
        await asyncio.sleep(1.0)  # acknowledged, and A "dies" before its check
        zombie.cancel()
        scanner = OutboxScanner(store_b, b)
        for _ in range(100):  # the live worker's timer, every 0.2 s here
            await scanner.tick()
            if int(b._metrics.outbox_resends.labels("recheck")._value.get()):
                break
            await asyncio.sleep(0.2)
        await stack.close()
        return int(b._metrics.outbox_resends.labels("recheck")._value.get())

    rechecks = asyncio.run(run())
    seqs = _assert_last_is_current(stack)
    print(f"re-checks re-sent: {rechecks}; keys: {len(seqs)}", file=sys.stderr)
    assert rechecks > 0


async def wait_async(predicate: Any, timeout_s: float) -> None:
    async with asyncio.timeout(timeout_s):
        while not predicate():
            await asyncio.sleep(0.05)


def test_a_stranded_outbox_entry_is_published_by_a_live_worker(
    infra: Infra, unique: str, tmp_path: Path
) -> None:
    """Item 7: a worker commits and dies before publishing; a live worker's outbox scan
    publishes every entry within a bounded wait (takeover age 10 s + scans every 2 s)."""
    topics = topic_names(unique)
    kafka.create_topics(infra.kafka_bootstrap, list(topics.values()))
    env = worker_env(infra, unique, topics, tmp_path)
    settings = RedisSettings(url=Secret(infra.redis_url), key_prefix=env["VANE_REDIS_KEY_PREFIX"])
    stack = Stack.__new__(Stack)
    stack.infra, stack.topic, stack.settings = infra, topics["weights"], settings
    stack.handles, stack.producers = [], []

    async def crash() -> int:
        a, pub_a, store_a = await stack.rescorer(takeover_after_ms=10_000)
        pub_a.hold.clear()
        dead = asyncio.create_task(_apply_and_rescore(store_a, a, _events(7, 4000)))
        await asyncio.wait_for(pub_a.waiting.wait(), 30)
        dead.cancel()  # committed, never sent: the worker died
        store = await store_a.get()
        pending = sum(
            [1 for key in [k async for k in store.entities()] if await _pending(store, key)]
        )
        await stack.close()
        return pending

    pending = asyncio.run(crash())
    assert pending > 0
    with WorkerProcess(env, tmp_path / "worker.log") as worker:
        wait_until(
            lambda: asyncio.run(_count_pending(settings)) == 0,
            60,
            interval_s=0.5,
            what="the stranded outbox entries published",
        )
        worker.assert_running()
    seqs = _assert_last_is_current(stack)
    print(f"stranded: {pending}; keys on the topic: {len(seqs)}", file=sys.stderr)
    assert len(seqs) == pending


async def _pending(store: WindowStore, key: EntityKey) -> bool:
    return bool(await store._client.hexists(store.state_key(*key), "p"))


async def _count_pending(settings: RedisSettings) -> int:
    store = await WindowStore.connect(settings)
    try:
        return sum([1 for k in [k async for k in store.entities()] if await _pending(store, k)])
    finally:
        await store.close()
