"""Window store figures: memory per entity, round trips per event, apply throughput.

Runs against the embedded Valkey (or REDIS_URL when set). Prints figures and
ratios measured in this one run; asserts nothing about absolute speed.

    .venv/bin/python benchmarks/bench_store.py
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams import codec
from streams.contract import SourcedEvent, parse
from streams.embedded import EmbeddedStack
from streams.settings import RedisSettings, Secret
from streams.store import WindowStore
from tests.reference import random_body
from tests.samples import STREAM_OF_TYPE, sample

DAY_MS = 86_400_000
START_MS = 1_790_000_000_000


def busy_shop_day(day: int, per_day: int, rng: random.Random) -> list[dict[str, Any]]:
    """One day of a shop whose every counter moves: orders and their whole lifecycle."""
    out = []
    for i in range(per_day):
        paid = START_MS + day * DAY_MS + i * 60_000
        order = {
            "order_id": f"o{day}.{i}",
            "shop_id": "busy",
            "product_id": f"p{i % 5}",
            "creator_id": "cr1" if i % 3 else None,
            "paid_at": paid,
        }
        eid = f"{day}.{i}"
        out.append(
            sample("order.paid", event_id=f"pd{eid}", ts=paid, freight_fen=i % 2 * 500, **order)
        )
        out.append(
            sample(
                "shipment.collected",
                event_id=f"co{eid}",
                ts=paid + 3_600_000,
                ship_by=paid + rng.choice([0, 86_400_000]),
                **order,
            )
        )
        out.append(
            sample(
                "shipment.delivered",
                event_id=f"de{eid}",
                ts=paid + 2 * DAY_MS,
                promised_by=paid + rng.choice([DAY_MS, 3 * DAY_MS]),
                **order,
            )
        )
        if i % 5 == 0:
            out.append(
                sample(
                    "order.reviewed", event_id=f"rv{eid}", ts=paid + 3 * DAY_MS, rating=1, **order
                )
            )
            out.append(sample("refund.requested", event_id=f"rq{eid}", ts=paid + DAY_MS, **order))
            out.append(sample("order.cancelled", event_id=f"cx{eid}", ts=paid + 1000, **order))
            out.append(
                sample(
                    "shipment.exception",
                    event_id=f"ex{eid}",
                    ts=paid + DAY_MS,
                    carrier_fault=False,
                    **order,
                )
            )
            for by in ("merchant", "platform"):
                out.append(
                    sample(
                        "refund.resolved",
                        event_id=f"rs{by}{eid}",
                        ts=paid + 2 * DAY_MS,
                        requested_at=paid + DAY_MS,
                        resolved_by=by,
                        **order,
                    )
                )
    out.append(
        sample(
            "live.violation",
            event_id=f"vi{day}",
            ts=START_MS + day * DAY_MS,
            shop_id="busy",
            severity="minor",
        )
    )
    return out


def sourced(bodies: list[dict[str, Any]], offset0: int = 0) -> list[SourcedEvent]:
    events = [parse(STREAM_OF_TYPE[b["type"]], codec.dumps(b)) for b in bodies]
    return [SourcedEvent(e, e.stream.value, i % 4, offset0 + i) for i, e in enumerate(events)]


async def memory(url: str) -> None:
    store = await WindowStore.connect(
        RedisSettings(url=Secret(url), key_prefix=f"b{uuid.uuid4().hex[:8]}")
    )
    rng = random.Random(1)
    offset = 0
    for day in range(90):
        batch = sourced(busy_shop_day(day, 20, rng), offset)
        offset += len(batch)
        await store.apply(batch)
    shop = await store.memory_usage("shop", "busy")
    creator = await store.memory_usage("creator", "cr1")
    product = await store.memory_usage("product", "p0")
    as_of = (START_MS + 89 * DAY_MS + 28_800_000) // DAY_MS
    windows = (await store.read("shop", "busy", as_of)).windows
    zero = [c for c, v in windows.totals[90].items() if v == 0]
    print(
        f"memory, 90 days x 20 orders/day, every shop counter non-zero (zero: {zero or 'none'}):"
    )
    print(f"  shop    {shop:5d} bytes ({shop / 1024:.2f} KiB; target <= 2 KiB)")
    print(f"  creator {creator:5d} bytes")
    print(f"  product {product:5d} bytes")
    await store.close()


async def throughput(url: str, n: int = 20_000, batch_size: int = 1000) -> None:
    store = await WindowStore.connect(
        RedisSettings(url=Secret(url), key_prefix=f"b{uuid.uuid4().hex[:8]}")
    )
    rng = random.Random(2)
    events = sourced([random_body(rng, i, span_days=30) for i in range(n)])
    batches = [events[i : i + batch_size] for i in range(0, n, batch_size)]
    round_trips = updates = 0
    started = time.perf_counter()
    for batch in batches:
        result = await store.apply(batch)
        round_trips += result.round_trips
        updates += result.applied
    elapsed = time.perf_counter() - started
    print(
        f"apply: {n} events in batches of {batch_size}: {n / elapsed:,.0f} events/s, "
        f"{updates / n:.2f} entity updates/event, {round_trips / n:.4f} round trips/event"
    )
    await store.close()


def main() -> None:
    url = os.environ.get("REDIS_URL")
    if url:
        asyncio.run(memory(url))
        asyncio.run(throughput(url))
        return
    with EmbeddedStack() as stack:
        asyncio.run(memory(stack.redis_url))
        asyncio.run(throughput(stack.redis_url))


if __name__ == "__main__":
    main()
