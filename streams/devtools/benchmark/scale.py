"""(5) Scale: a million resident entities: their memory, the scorer beside them, the sweep.

1. ``population`` makes ``n`` entities in a marketplace's proportions (87.9 %
   products, 7.1 % shops, 5.0 % creators: 2.5 M products over 200 k shops and
   140 k creators, scaled), each with a 90-day history of pre-summed day rows,
   registers, a category and the watermarks it was reached from;
   ``WindowStore.preload`` writes them through ``apply.lua`` itself (the layout
   the scorer writes), 1,000 per round trip, and lists them in the entity index.
2. Redis memory per entity: ``used_memory`` growth over the load / n (windows
   hashes, their running sums and the index), plus the mean state hash of the
   entities a sweep published (``MEMORY USAGE`` of a sample, per type).
3. The scorer on the same workload with the million resident, against a fresh run
   beside only the workload's ~1.4 k entities; in both the clock is preset to the
   workload's end and that day recorded swept, so no sweep runs in either.
4. The day-close sweep: one request (``vane sweep``'s), swept by 1 worker for up
   to ``SWEEP_WINDOW_S``, then by 2 workers (the shards left) for as long:
   entities/s from the workers' ``vane_sweep_entities_total``, and the 2-vs-1
   ratio. Every entity publishes its first state here (a day close publishes only
   those whose tier moved), so these rates are a floor; a window too short to
   finish is said so, and a full 1M day close is extrapolated from the rate. (With
   few entities the first sweep finishes: then both are timed again on a day
   close of unchanged entities.)
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from models.counting import COUNTERS
from streams.devtools.benchmark import probe, process, scorer
from streams.devtools.benchmark.stack import BenchStack
from streams.devtools.benchmark.workload import Workload
from streams.events import Stream
from streams.intake.contract import parse
from streams.settings import RedisSettings, Secret
from streams.store import WindowStore, day_of
from streams.store.encoding import Preload, topic_watermark_field

Say = Callable[[str], None]
PROPORTIONS = (("product", 0.879), ("shop", 0.071), ("creator", 0.050))
LOAD_BATCH = 1000
SAMPLE = 2000  # entities whose MEMORY USAGE is read, per type
SWEEP_WINDOW_S = 60.0
# Active days in 90 and counter sizes: a typical product sells on a few days, a shop
# on most, a creator streams a few times a week.
ACTIVE_DAYS = {"product": (1, 20), "shop": (30, 90), "creator": (10, 40)}
ROW_SCALE = {"product": 2, "shop": 20, "creator": 8}  # orders (or streams) a day, at most
ROW_POOL = 256  # distinct day rows per type, drawn from (generating each is the cost)


@dataclass(frozen=True, slots=True)
class SweepRun:
    workers: int
    entities: int
    seconds: float
    finished: bool  # the day was recorded within the window
    first_states: bool  # the swept entities published their first state (else unchanged)

    @property
    def per_s(self) -> float:
        return self.entities / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class ScaleRun:
    entities: int
    load_s: float
    bytes_per_entity_windows: float  # windows hashes + index, used_memory growth / n
    bytes_per_entity: float  # plus the mean state hash of a published entity
    sampled_bytes: dict[str, float]  # MEMORY USAGE means per type (windows + state)
    scorer_small: scorer.ScorerRun  # beside the workload's own entities only
    scorer_large: scorer.ScorerRun  # beside n more
    sweeps: list[SweepRun]


def population(n: int, as_of_day: int, seed: int = 11) -> Iterator[Preload]:
    """``n`` entities in ``PROPORTIONS``, each with a history ending on ``as_of_day``."""
    rng = random.Random(seed)
    rows = {t: [_day(rng, t, ROW_SCALE[t]) for _ in range(ROW_POOL)] for t, _ in PROPORTIONS}
    marks = {
        s: [topic_watermark_field(s, p, f"bench-{s.value}", 0) for p in range(4)] for s in Stream
    }
    done = 0
    for entity_type, share in PROPORTIONS:
        count = n - done if entity_type == PROPORTIONS[-1][0] else round(n * share)
        done += count
        for i in range(count):
            name = f"{entity_type[0]}{i:07d}"
            yield _entity(rng, entity_type, name, as_of_day, marks, rows[entity_type])


def _entity(
    rng: random.Random,
    entity_type: str,
    entity_id: str,
    as_of_day: int,
    marks: Mapping[Stream, list[str]],
    pool: list[dict[str, int]],
) -> Preload:
    low, high = ACTIVE_DAYS[entity_type]
    days = rng.sample(range(as_of_day - 89, as_of_day + 1), rng.randint(low, high))
    rows = {d: pool[rng.randrange(ROW_POOL)] for d in days}
    if entity_type == "creator":
        streams = [Stream.LIVESTREAM, Stream.ORDERS]
    else:
        streams = [Stream.ORDERS, Stream.SHIPPING, Stream.REFUNDS]
    fields = [m for s in streams for m in marks[s][: 1 + rng.randrange(4)]]
    if entity_type == "product":
        ts = (as_of_day - 1) * 86_400_000
        registers = {"listing_quality": (ts, rng.randrange(101)), "brand_authorized": (ts, 1)}
        return Preload(
            entity_type, entity_id, rows, registers, {"category": f"g{rng.randrange(500)}"}, fields
        )
    return Preload(entity_type, entity_id, rows, watermarks=fields)


def _day(rng: random.Random, entity_type: str, scale: int) -> dict[str, int]:
    orders = 1 + rng.randrange(scale)
    out: dict[str, int] = {}
    for name in COUNTERS[entity_type]:
        if name.endswith("_fen"):
            out[name] = orders * rng.randrange(2_000, 20_000)
        elif name.endswith("_ms"):
            out[name] = orders * rng.randrange(600_000, 7_200_000)
        elif name == "viewer_minutes":
            out[name] = orders * rng.randrange(50, 500)
        elif name in ("paid", "pickups", "deliveries", "quantity"):
            out[name] = orders
        elif name.endswith("on_time"):
            out[name] = max(0, orders - rng.randrange(2))
        elif rng.random() < 0.1:
            out[name] = 1
    return out


async def load(redis_url: str, prefix: str, n: int, end_ms: int, say: Say) -> float:
    """Preload ``n`` entities under ``prefix``, stream time ``end_ms`` (its day swept)."""
    store = await WindowStore.connect(RedisSettings(url=Secret(redis_url), key_prefix=prefix))
    started = time.perf_counter()
    try:
        batch: list[Preload] = []
        loaded = 0
        for entity in population(n, day_of(end_ms)):
            batch.append(entity)
            if len(batch) >= LOAD_BATCH:
                await store.preload(batch, day_of(end_ms))
                loaded += len(batch)
                batch = []
                if loaded % 100_000 == 0:
                    rate = loaded / (time.perf_counter() - started)
                    say(f"loaded {loaded:,} of {n:,} entities ({rate:,.0f}/s)")
        await store.preload(batch, day_of(end_ms))
        await store.preset_clock(end_ms, swept=True)
    finally:
        await store.close()
    return time.perf_counter() - started


def sampled_bytes(st: BenchStack, prefix: str) -> tuple[dict[str, float], float]:
    """``MEMORY USAGE`` means per type over the first ``SAMPLE`` of each (windows hash
    plus state hash, where published), and the mean state hash of those published."""
    store = WindowStore(client=None, settings=RedisSettings(key_prefix=prefix))  # type: ignore[arg-type]
    out: dict[str, float] = {}
    states: list[int] = []
    for entity_type, _ in PROPORTIONS:
        ids = [f"{entity_type[0]}{i:07d}" for i in range(SAMPLE)]
        windows = probe.memory_usage(
            st.redis_port, [store.entity_key(entity_type, i) for i in ids]
        )
        state = probe.memory_usage(st.redis_port, [store.state_key(entity_type, i) for i in ids])
        out[entity_type] = (sum(windows) + sum(state)) / len(ids)
        states += [s for s in state if s]
    return out, sum(states) / len(states) if states else 0.0


async def sweep(
    t: scorer.Target, workers: int, say: Say, *, request: int | None, first: bool
) -> SweepRun:
    """Start ``workers`` workers on ``t``; sweep (asking for one unless ``request`` is
    given) until the day is recorded or ``SWEEP_WINDOW_S`` has passed."""
    children = [
        process.vane_worker(t.env(), t.workdir / f"sweep-{t.run}-{workers}-{i}.log")
        for i in range(workers)
    ]
    store = await WindowStore.connect(
        RedisSettings(url=Secret(t.stack.redis_url), key_prefix=t.prefix)
    )
    try:
        await _up(children)
        before = _swept(children)
        if request is None:
            request = await store.request_sweep()
        started = time.monotonic()
        finished = False
        while time.monotonic() - started < SWEEP_WINDOW_S:
            if (await store.sweep_status()).handled >= request:
                finished = True
                break
            for child in children:
                child.check_alive()
            await asyncio.sleep(0.25)
        seconds = time.monotonic() - started
        entities = int(_swept(children) - before)
    finally:
        await store.close()
        for child in children:
            child.stop()
    run = SweepRun(workers, entities, seconds, finished, first)
    say(
        f"sweep with {workers} worker(s): {entities:,} entities in {seconds:.1f}s "
        f"({run.per_s:,.0f}/s{'' if finished else ', window over before the day was done'})"
    )
    return run


def _swept(children: list[process.Child]) -> float:
    return sum(
        scorer.metrics_of(c.web_port).get("vane_sweep_entities_total", 0.0) for c in children
    )


async def _up(children: list[process.Child], timeout_s: float = 60.0) -> None:
    """Until every child serves /metrics, then a few seconds for the group to settle."""
    deadline = time.monotonic() + timeout_s
    for child in children:
        while not scorer.metrics_of(child.web_port):
            child.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError("a worker did not serve /metrics within 60s")
            await asyncio.sleep(0.5)
    await asyncio.sleep(3.0)


async def _last_request(st: BenchStack, prefix: str) -> int:
    store = await WindowStore.connect(RedisSettings(url=Secret(st.redis_url), key_prefix=prefix))
    try:
        return (await store.sweep_status()).requested
    finally:
        await store.close()


def workload_end_ms(wl: Workload) -> int:
    return max(parse(r.stream, r.value).ts_ms for r in wl.records)


def run(
    st: BenchStack,
    inputs: Mapping[Stream, str],
    workdir: Path,
    ends: Mapping[tuple[str, int], int],
    wl: Workload,
    n: int,
    say: Say,
) -> ScaleRun:
    """The whole stage (one worker's figures, then the sweeps)."""
    # Both runs as of the workload's last day, that day recorded swept: the same work
    # (no day-close sweeps in either), beside none or beside n resident entities.
    end_ms = workload_end_ms(wl)
    say("(5) scale: the scorer beside the workload's entities only (reference)")
    alone = scorer.target(st, inputs, workdir)
    asyncio.run(load(st.redis_url, alone.prefix, 0, end_ms, say))
    small = asyncio.run(scorer.run_workers(alone, ends, workers=1))
    big = scorer.target(st, inputs, workdir)
    say(f"(5) scale: loading {n:,} entities")
    used0 = probe.info(st.redis_port)["used_memory"]
    load_s = asyncio.run(load(st.redis_url, big.prefix, n, end_ms, say))
    used1 = probe.info(st.redis_port)["used_memory"]
    say(f"loaded in {load_s:.1f}s: {(used1 - used0) / n:,.0f} bytes per entity")
    say(f"(5) scale: the scorer beside {n:,} resident entities")
    large = asyncio.run(scorer.run_workers(big, ends, workers=1, entity_bytes=False))
    one = asyncio.run(sweep(big, 1, say, request=None, first=True))
    if one.finished:  # few entities: all have their state now; time unchanged day closes
        one = asyncio.run(sweep(big, 1, say, request=None, first=False))
        two = asyncio.run(sweep(big, 2, say, request=None, first=False))
    else:  # the same sweep, the shards left
        request = asyncio.run(_last_request(st, big.prefix))
        two = asyncio.run(sweep(big, 2, say, request=request, first=True))
    sampled, state_bytes = sampled_bytes(st, big.prefix)
    return ScaleRun(
        entities=n,
        load_s=load_s,
        bytes_per_entity_windows=(used1 - used0) / n,
        bytes_per_entity=(used1 - used0) / n + state_bytes,
        sampled_bytes=sampled,
        scorer_small=small,
        scorer_large=large,
        sweeps=[one, two],
    )
