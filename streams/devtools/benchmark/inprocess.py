"""Figures measured in this process: the contract's parse speed and the window store's.

These are the figures of the former ``benchmarks/bench_contract.py`` and
``benchmarks/bench_store.py``: decode + validate events/s, window-store apply
events/s and round trips per event, and the memory of one busy entity after 90
days (the worst case for the 2 KiB target).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from streams import codec
from streams.devtools.benchmark.workload import Record
from streams.devtools.generator import GeneratorConfig, generate
from streams.devtools.generator.config import DAY_MS
from streams.events import SourcedEvent
from streams.intake.contract import parse
from streams.settings import RedisSettings, Secret
from streams.store import WindowStore

BATCH = 1000


@dataclass(frozen=True, slots=True)
class ContractFigures:
    decode_per_s: float
    parse_per_s: float


@dataclass(frozen=True, slots=True)
class StoreFigures:
    apply_per_s: float
    round_trips_per_event: float
    entity_updates_per_event: float
    busy_shop_bytes: int
    busy_product_bytes: int
    busy_creator_bytes: int
    busy_shop_orders_per_day: int
    dedupe_bytes_per_event: float = 0.0  # MEMORY USAGE of the markers / events applied
    dedupe_round_trips_per_batch: float = 0.0  # the markers' pipeline: one, any slot count


def contract(records: Sequence[Record], runs: int = 3) -> ContractFigures:
    """Best of ``runs`` passes of JSON decoding alone, and of ``parse`` (decode + validate)."""
    pairs = [(r.stream, r.value) for r in records]

    def best(step: object) -> float:
        fastest = float("inf")
        for _ in range(runs):
            started = time.perf_counter()
            for stream, raw in pairs:
                step(stream, raw)  # type: ignore[operator]
            fastest = min(fastest, time.perf_counter() - started)
        return len(pairs) / fastest

    return ContractFigures(best(lambda _s, raw: codec.loads(raw)), best(parse))


async def store(redis_url: str, records: Sequence[Record], events: int = 40_000) -> StoreFigures:
    """Apply ``events`` workload events in batches of 1,000; then a 90-day busy shop."""
    sample = [_sourced(r, i) for i, r in enumerate(records[:events])]
    st = await _connect(redis_url)
    try:
        round_trips = updates = batches = 0
        started = time.perf_counter()
        for i in range(0, len(sample), BATCH):
            result = await st.apply(sample[i : i + BATCH])
            round_trips += result.round_trips
            updates += result.applied
            batches += 1
        elapsed = time.perf_counter() - started
        markers = await st.marker_bytes()
    finally:
        await st.close()
    busy = await _busy_entities(redis_url)
    n = len(sample)
    # Of each batch's round trips, the last is the scripts' pipeline; the rest the markers'.
    marker_trips = (round_trips - batches) / batches
    return StoreFigures(
        n / elapsed, round_trips / n, updates / n, *busy, markers / n, marker_trips
    )


async def apply_records(redis_url: str, prefix: str, records: Sequence[Record]) -> None:
    """Apply ``records`` to a store under ``prefix``, in batches of 1,000 (Vane's windows
    without a worker: what the peer's parity test compares with)."""
    sample = [_sourced(r, i) for i, r in enumerate(records)]
    st = await WindowStore.connect(RedisSettings(url=Secret(redis_url), key_prefix=prefix))
    try:
        for i in range(0, len(sample), BATCH):
            await st.apply(sample[i : i + BATCH])
    finally:
        await st.close()


async def _busy_entities(redis_url: str, orders_per_day: int = 20) -> tuple[int, int, int, int]:
    """One shop with ``orders_per_day`` orders for 90 days: its, a product's, a creator's bytes."""
    start = (int(time.time() * 1000) // DAY_MS - 95) * DAY_MS
    config = GeneratorConfig(
        days=90, shops=1, creators=1, orders_per_day=orders_per_day, start_ms=start
    )
    lines = [(stream, line) for stream, line in generate(config)]
    events = [SourcedEvent(parse(s, line), s.value, 0, i) for i, (s, line) in enumerate(lines)]
    st = await _connect(redis_url)
    try:
        for i in range(0, len(events), BATCH):
            await st.apply(events[i : i + BATCH])
        sizes: dict[str, int] = {}
        async for entity_type, entity_id in st.entities():
            size = await st.memory_usage(entity_type, entity_id)
            sizes[entity_type] = max(sizes.get(entity_type, 0), size)
    finally:
        await st.close()
    return sizes.get("shop", 0), sizes.get("product", 0), sizes.get("creator", 0), orders_per_day


async def _connect(redis_url: str) -> WindowStore:
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    return await WindowStore.connect(RedisSettings(url=Secret(redis_url), key_prefix=prefix))


def _sourced(record: Record, index: int) -> SourcedEvent:
    event = parse(record.stream, record.value)
    return SourcedEvent(event, record.stream.value, index % 4, index)
