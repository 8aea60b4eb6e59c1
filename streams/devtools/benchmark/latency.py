"""Event to weight update latency at a fixed offered rate.

The workload is the last of five days of the same marketplace
(``workload.live_day``), so that stream time stays within a day as it does
live. The worker runs on fresh topics. A warm-up slice is produced and consumed
first (group joined, scripts loaded); then the next events are produced at the
offered rate, each event_id's send time noted. A weight update names the event
that triggered it (``cause``, the last event applied to the entity by the
round that re-scored it), and its Kafka timestamp is when the worker sent it:
the latency is the difference (same machine, same clock). Day-close updates
have no event cause and are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from streams import codec
from streams.devtools.benchmark import process, workload
from streams.devtools.benchmark.figures import percentile
from streams.devtools.benchmark.scorer import TIMEOUT_S, Target, read_topic

WARMUP_EVENTS = 2_000


@dataclass(frozen=True, slots=True)
class LatencyRun:
    offered_per_s: float
    events: int
    updates: int  # weight updates caused by a timed event
    latencies_s: list[float]

    def p(self, q: float) -> float:
        return percentile(self.latencies_s, q)


async def measure(
    t: Target, records: Sequence[workload.Record], rate: float, duration_s: float
) -> LatencyRun:
    bootstrap = t.stack.kafka_bootstrap
    await workload.create_topics(bootstrap, t.inputs.values(), partitions=4)
    warmup = records[:WARMUP_EVENTS]
    timed = records[WARMUP_EVENTS : WARMUP_EVENTS + int(rate * duration_s)]
    child = process.vane_worker(t.env(), t.workdir / f"worker-{t.run}.log")
    sent_at: dict[str, float] = {}
    try:
        ends = await workload.produce(bootstrap, warmup, t.inputs)
        await process.follow(bootstrap, t.group, ends, [child], TIMEOUT_S)
        more = await workload.produce(bootstrap, timed, t.inputs, rate=rate, sent_at=sent_at)
        ends = {tp: max(ends.get(tp, 0), end) for tp, end in {**ends, **more}.items()}
        await process.follow(bootstrap, t.group, ends, [child], TIMEOUT_S)
    finally:
        child.stop()
    latencies = []
    for record in await read_topic(bootstrap, t.weights):
        cause = codec.loads(record.value).get("cause")
        if cause in sent_at:
            latencies.append(record.timestamp / 1000 - sent_at[cause])
    return LatencyRun(rate, len(timed), len(latencies), latencies)
