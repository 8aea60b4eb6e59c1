"""The bench's peer (Quix Streams) counts what Vane's store counts, on a small workload.

Runs the peer as ``make bench`` does (a child process on Tansu, its own group,
RocksDB state and changelog), reads its final counts back from its output topic,
and holds them to Vane's windows for the same records (applied in process to the
window store): every entity, every horizon, today's and yesterday's totals.
Skipped when quixstreams (the ``bench`` extra, also in ``dev``) is not installed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from streams.devtools.benchmark import inprocess, peer_bench, scorer, workload
from streams.devtools.benchmark.run import INPUTS
from streams.devtools.benchmark.stack import open_stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(peer_bench.available() is not None, reason=str(peer_bench.available())),
]
REQUIRED = ("paid", "quality_refunds", "negative_reviews", "pickups_on_time")


def test_the_peers_counts_equal_vanes_windows(tmp_path: Path) -> None:
    wl = workload.build(3_000, seed=3)
    with open_stack("tansu") as st:
        asyncio.run(workload.create_topics(st.kafka_bootstrap, INPUTS.values(), partitions=4))
        ends = asyncio.run(workload.produce(st.kafka_bootstrap, wl.records, INPUTS))
        target = scorer.target(st, INPUTS, tmp_path)
        run, counts = asyncio.run(peer_bench.run_peer(target, ends))
        asyncio.run(inprocess.apply_records(st.redis_url, "vane", wl.records))
        parity = asyncio.run(peer_bench.parity(st.redis_url, "vane", counts))
    assert parity.ok, parity.mismatches
    assert parity.entities == len(counts) > 50
    assert run.throughput.events > 0
    assert run.state_bytes > 0
    assert run.messages >= run.entities == len(counts)
    for entity_type in ("shop", "product", "creator"):
        seen = {
            name
            for (kind, _), days in counts.items()
            if kind == entity_type
            for row in days.values()
            for name, value in row.items()
            if value
        }
        assert set(REQUIRED) <= seen, (entity_type, set(REQUIRED) - seen)
