"""From per-day draws to the written order: sorted by event time, then skewed.

1. ``by_time``: every event drawn for day d (its orders and sessions) lies at or after
   the start of day d, so once day d is drawn, day d's bucket of events is complete:
   it is sorted by (ts, draw order) and passed on. Later buckets hold the pending
   tails of recent orders, serialised. Events at or after the horizon (the end of the
   last day) are dropped: the file is a snapshot of a live marketplace, so its last
   orders are still in flight.
2. ``skewed``: each topic reaches the consumer with its own lag, as separate producers
   do: ``arrival = max(previous arrival on the topic, ts + lag)``, lag under two
   seconds, now and then a stall of up to ``max_skew_ms``. Lines are written by
   (arrival, ts order). Within a topic the order stays by ts; across topics an event
   can come before another whose ts is smaller by at most ``max_skew_ms``, since
   ts <= arrival <= ts + max_skew_ms.
"""

from __future__ import annotations

import random
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Final

from streams import codec
from streams.devtools.generator.config import DAY_MS, GeneratorConfig
from streams.devtools.generator.draw import between
from streams.devtools.generator.marketplace import Marketplace
from streams.devtools.generator.schedule import Counters, day_events
from streams.events import Stream

#: One serialised event: (ts, tie-breaker, topic, type, JSON line with newline).
Item = tuple[int, int, Stream, str, bytes]

JITTER_MS: Final = 2_000
P_STALL: Final = 0.001  # per event: the topic's producer stalls


def by_time(config: GeneratorConfig, market: Marketplace) -> Iterator[tuple[int, list[Item]]]:
    """Per day: (the day's end, every event of the day in (ts, draw order) order)."""
    buckets: dict[int, list[Item]] = defaultdict(list)
    counters, seq, dumps = Counters(), 0, codec.dumps
    start, days = config.start_ms, config.days
    for day in range(days):
        for ts, stream, body in day_events(config, market, day, counters):
            bucket = (ts - start) // DAY_MS
            if bucket < days:
                buckets[bucket].append((ts, seq, stream, body["type"], dumps(body) + b"\n"))
            seq += 1
        batch = buckets.pop(day, [])
        batch.sort()
        yield start + (day + 1) * DAY_MS, batch


def skewed(
    batches: Iterable[tuple[int, list[Item]]], seed: int, max_skew_ms: int
) -> Iterator[Item]:
    """The items by arrival (see the module docstring); deterministic per seed.

    Everything in a batch has its ts before the batch's end and every later item arrives
    at or after its own ts, so what arrives before the end can be written; the rest
    waits for the next batch.
    """
    rng = random.Random(f"{seed}:arrival")
    uniform, jitter_ms = rng.random, min(JITTER_MS, max_skew_ms)
    arrived = dict.fromkeys(Stream, 0)
    waiting: list[tuple[int, int, Item]] = []
    n = 0
    for end, batch in batches:
        for item in batch:
            u = uniform()
            lag = int(u * jitter_ms) if u >= P_STALL else _stall(rng, max_skew_ms)
            arrival = max(arrived[item[2]], item[0] + lag)
            arrived[item[2]] = arrival
            waiting.append((arrival, n, item))
            n += 1
        waiting.sort()
        due = bisect_left(waiting, (end,))
        yield from (ready[2] for ready in waiting[:due])
        del waiting[:due]
    yield from (ready[2] for ready in waiting)


def _stall(rng: random.Random, max_skew_ms: int) -> int:
    """The producer stalls: this event (and those queued behind it) arrive late."""
    return between(rng, max_skew_ms // 4, max_skew_ms + 1)
