"""From per-day batches to the written order: sorted by event time, then skewed.

1. ``by_time``: every event of day d's orders and sessions lies at or after the start
   of day d, so after drawing day d, everything before the start of day d+1 is final.
   A heap holds the rest (the pending tails of recent orders, serialised). Events at
   or after the horizon (the end of the last day) are dropped: the file is a snapshot
   of a live marketplace, so its last orders are still in flight.
2. ``skewed``: each topic reaches the consumer with its own lag, as separate producers
   do: ``arrival = max(previous arrival on the topic, ts + lag)``, lag a second or two,
   now and then a stall of up to ``max_skew_ms``. Lines are written by arrival. Within a
   topic the order stays by ts; across topics an event can come before another whose
   ts is smaller by at most ``max_skew_ms`` (arrival <= ts + max_skew_ms always).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable, Iterator
from typing import Final

from streams import codec
from streams.contract import Stream
from streams.generator.config import DAY_MS, GeneratorConfig
from streams.generator.marketplace import Marketplace
from streams.generator.schedule import Counters, day_events

#: One serialised event: (ts, tie-breaker, topic, type, JSON line with newline).
Item = tuple[int, int, Stream, str, bytes]

JITTER_MS: Final = 2_000
P_STALL: Final = 0.001  # per event: the topic's producer stalls


def by_time(config: GeneratorConfig, market: Marketplace) -> Iterator[Item]:
    """Every event before the horizon, in (ts, draw order) order."""
    pending: list[Item] = []
    counters, seq, dumps = Counters(), 0, codec.dumps
    for day in range(config.days):
        for ts, stream, body in day_events(config, market, day, counters):
            heapq.heappush(pending, (ts, seq, stream, body["type"], dumps(body) + b"\n"))
            seq += 1
        cut = min(config.start_ms + (day + 1) * DAY_MS, config.end_ms)
        while pending and pending[0][0] < cut:
            yield heapq.heappop(pending)


def skewed(items: Iterable[Item], seed: int, max_skew_ms: int) -> Iterator[Item]:
    """The items by arrival time (see the module docstring); deterministic per seed."""
    rng = random.Random(f"{seed}:arrival")
    arrived: dict[Stream, int] = {}
    waiting: list[tuple[int, int, Item]] = []
    for n, item in enumerate(items):
        ts, stream = item[0], item[2]
        arrival = max(arrived.get(stream, 0), ts + _lag(rng, max_skew_ms))
        arrived[stream] = arrival
        heapq.heappush(waiting, (arrival, n, item))
        while waiting and waiting[0][0] <= ts:  # later items arrive at or after this ts
            yield heapq.heappop(waiting)[2]
    while waiting:
        yield heapq.heappop(waiting)[2]


def _lag(rng: random.Random, max_skew_ms: int) -> int:
    if rng.random() < P_STALL:
        return rng.randint(max_skew_ms // 4, max_skew_ms)
    return rng.randint(0, min(JITTER_MS, max_skew_ms))
