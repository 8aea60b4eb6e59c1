"""One benchmark run, start to end: the workload, then one column per broker.

The workload is generated once (the same records for every column). Then, for
each broker (Tansu, then Apache Kafka when its jars are there), on its own
servers (``stack.open_stack``: the broker and Valkey on free loopback ports):
1. produce the workload once to four input topics of four partitions;
2. (first column only) in process: the contract's parse speed, the window
   store's apply speed and round trips, a busy entity's memory after 90 days;
3. the ceiling (aiokafka + orjson), the bare Faust agent (plain, and with Vane's
   Faust extensions), the full scorer on one worker and the peer (Quix Streams,
   ``peer.py``), each ``repeats`` times, interleaved, the fastest run kept (the
   machine is shared); the peer's counts checked against the scorer's windows;
   then the scorer on two workers: each run with its own consumer group;
4. latency at half the scorer's measured capacity, on fresh topics;
5. (first column only) scale: a million resident entities, their memory, the
   scorer beside them, day-close sweeps with 1 and 2 workers (``scale.py``).
"""

from __future__ import annotations

import asyncio
import gc
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streams.devtools.benchmark import (
    ceiling,
    inprocess,
    latency,
    peer_bench,
    process,
    scale,
    scorer,
    workload,
)
from streams.devtools.benchmark.figures import Throughput, steady
from streams.devtools.benchmark.stack import BenchStack, Broker, open_stack
from streams.events import Stream

Say = Callable[[str], None]
INPUTS = {s: f"bench-{s.value}" for s in Stream}
# Inherited settings would change what is measured: every run uses the defaults.
_SCRUBBED = ("VANE_", "KAFKA_BOOTSTRAP", "REDIS_URL")


@dataclass(frozen=True, slots=True)
class Options:
    events: int = 200_000
    repeats: int = 2  # runs of paths (1), (2), (2b), (3) and the peer; the fastest counts
    later_repeats: int = 1  # the same on every broker after the first
    latency_s: float = 20.0
    two_workers: bool = True
    profile_to: Path | None = None  # py-spy summary of the first 1-worker scorer run
    brokers: tuple[Broker, ...] = ("tansu",)
    peer: bool = True
    scale_entities: int = 1_000_000  # resident entities of stage (5); 0 skips it


def run(options: Options, say: Say = print) -> dict[str, Any]:
    """Run every phase on every broker; return the raw figures (``report.build`` shapes them)."""
    for name in [n for n in os.environ if n.startswith(_SCRUBBED)]:
        del os.environ[name]
    started = time.monotonic()
    raw: dict[str, Any] = {"options": options, "brokers": {}}
    say(f"building a workload of >= {options.events:,} events")
    wl = workload.build(options.events)
    raw["workload"] = wl
    # The workload stays alive all run: keep the collector from scanning it again
    # and again (it halved the in-process figures).
    gc.collect()
    gc.freeze()
    raw["contract"] = inprocess.contract(wl.records)
    peer_problem = peer_bench.available() if options.peer else "not asked for (--no-peer)"
    if peer_problem:
        say(f"the peer (Quix Streams) does not run: {peer_problem}")
    for i, broker in enumerate(options.brokers):
        repeats = options.repeats if i == 0 else options.later_repeats
        with tempfile.TemporaryDirectory(prefix="vane-bench-") as tmp, open_stack(broker) as st:
            column = _Column(st, Path(tmp), options, say, repeats, peer=peer_problem is None)
            if i == 0:
                raw["store"] = column.store_figures(wl)
            scale_entities = options.scale_entities if i == 0 else 0
            raw["brokers"][broker] = column.run(wl, scale_entities)
    raw["wall_s"] = time.monotonic() - started
    raw["load_average"] = os.getloadavg()
    return raw


class _Column:
    """Every path on one broker's servers."""

    def __init__(
        self, st: BenchStack, workdir: Path, options: Options, say: Say, repeats: int, peer: bool
    ) -> None:
        self.st, self.workdir, self.options = st, workdir, options
        self.repeats, self.peer = repeats, peer
        self.say: Say = lambda line: say(f"[{st.broker}] {line}")

    def store_figures(self, wl: workload.Workload) -> inprocess.StoreFigures:
        self.say("in-process figures (store)")
        return asyncio.run(inprocess.store(self.st.redis_url, wl.records))

    def run(self, wl: workload.Workload, scale_entities: int = 0) -> dict[str, Any]:
        started, say = time.monotonic(), self.say
        raw: dict[str, Any] = {"repeats": self.repeats}
        bootstrap = self.st.kafka_bootstrap
        asyncio.run(workload.create_topics(bootstrap, INPUTS.values(), partitions=4))
        t0 = time.monotonic()
        ends = asyncio.run(workload.produce(bootstrap, wl.records, INPUTS))
        raw["produce_per_s"] = len(wl.records) / (time.monotonic() - t0)
        total = sum(ends.values())
        say(f"produced {total:,} events")
        for i in range(self.repeats):
            self._round(raw, ends, i)
        if "peer" in raw:
            prefix, counts = raw.pop("scorer_prefix"), raw.pop("peer_counts")
            raw["parity"] = asyncio.run(peer_bench.parity(self.st.redis_url, prefix, counts))
            say(f"parity of the peer's counts with Vane's windows: {raw['parity']}")
        if self.options.two_workers:
            say("(3b) full scorer: 2 vane worker processes, one group")
            two = scorer.target(self.st, INPUTS, self.workdir)
            raw["scorer_2"] = asyncio.run(scorer.run_workers(two, ends, workers=2))
        rate, seconds = raw["scorer"].throughput.per_s / 2, self.options.latency_s
        say(f"latency: event -> weight update at {rate:,.0f} events/s for {seconds:g}s")
        day = workload.live_day(int(rate * seconds) + latency.WARMUP_EVENTS)
        raw["latency_workload"] = day
        lat = scorer.target(self.st, {s: f"lat-{s.value}" for s in Stream}, self.workdir)
        raw["latency"] = asyncio.run(latency.measure(lat, day.records, rate, seconds))
        if scale_entities:
            raw["scale"] = scale.run(self.st, INPUTS, self.workdir, ends, wl, scale_entities, say)
        raw["wall_s"] = time.monotonic() - started
        return raw

    def _round(self, raw: dict[str, Any], ends: Mapping[tuple[str, int], int], i: int) -> None:
        run, say, st = f"run {i + 1}/{self.repeats}", self.say, self.st
        say(f"(1) ceiling: aiokafka getmany + orjson, {run}")
        topics, total = list(INPUTS.values()), sum(ends.values())
        _keep_fastest(raw, "ceiling", asyncio.run(
            ceiling.consume_decode(st.kafka_bootstrap, topics, total, f"bench-ceiling-{i}")
        ))  # fmt: skip
        say(f"(2) bare Faust agent, decode only (plain Faust), {run}")
        _keep_fastest(raw, "bare", asyncio.run(self._bare(ends, fast=False)))
        say(f"(2b) bare Faust agent + Vane's Faust extensions (streams.kafka.fastpath), {run}")
        _keep_fastest(raw, "bare_fast", asyncio.run(self._bare(ends, fast=True)))
        say(f"(3) full scorer: vane worker, 1 process, {run}")
        one = scorer.target(st, INPUTS, self.workdir)
        profile_to = self.options.profile_to if i == 0 and st.broker == "tansu" else None
        scored = asyncio.run(scorer.run_workers(one, ends, workers=1, profile_to=profile_to))
        if "scorer" not in raw or scored.throughput.per_s > raw["scorer"].throughput.per_s:
            raw["scorer"], raw["scorer_prefix"] = scored, one.prefix
        if self.peer:
            say(f"(P) the peer: Quix Streams, the same counters in RocksDB, {run}")
            target = scorer.target(st, INPUTS, self.workdir)
            peer_run, counts = asyncio.run(peer_bench.run_peer(target, ends))
            if "peer" not in raw or peer_run.throughput.per_s > raw["peer"].throughput.per_s:
                raw["peer"], raw["peer_counts"] = peer_run, counts

    async def _bare(self, ends: Mapping[tuple[str, int], int], *, fast: bool) -> Throughput:
        t = scorer.target(self.st, INPUTS, self.workdir)
        env = t.env() | ({"VANE_BENCH_FASTPATH": "1"} if fast else {})
        child = process.bare_faust(env, self.workdir / f"bare-{t.run}.log")
        try:
            samples = await process.follow(
                self.st.kafka_bootstrap, t.group, ends, [child], scorer.TIMEOUT_S
            )
        finally:
            child.stop()
        return steady(samples, sum(ends.values()))


def _keep_fastest(raw: dict[str, Any], key: str, th: Throughput) -> None:
    if key not in raw or th.per_s > raw[key].per_s:
        raw[key] = th
