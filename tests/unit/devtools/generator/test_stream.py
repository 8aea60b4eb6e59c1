"""The default-size run as a whole: contract, coverage, ids, ordering, sizes."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from streams.intake.table import TYPES_BY_STREAM
from tests.unit.devtools.generator.conftest import STREAM_OF_TYPE, Run

ALL_TYPES = frozenset(STREAM_OF_TYPE)


def test_every_line_passed_the_contract(default_run: Run) -> None:
    # The fixture parsed every line with contract.parse on its own topic.
    assert len(default_run.events) == len(default_run.lines) == default_run.summary.events
    assert all(line.endswith(b"\n") and line.count(b"\n") == 1 for line in default_run.lines)


def test_every_type_is_present(default_run: Run) -> None:
    counts = Counter(event.type for event in default_run.events)
    assert set(counts) == ALL_TYPES
    assert len(ALL_TYPES) == 14
    assert counts == default_run.summary.by_type


def test_default_size_is_in_the_documented_band(default_run: Run) -> None:
    counts = default_run.summary.by_type
    assert 100_000 <= default_run.summary.events <= 200_000
    assert 25_000 <= counts["order.paid"] <= 45_000


def test_event_ids_are_unique(default_run: Run) -> None:
    ids = [event.event_id for event in default_run.events]
    assert len(set(ids)) == len(ids)


def test_both_timestamp_forms_are_used(default_run: Run) -> None:
    shipping = next(line for line in default_run.lines if b'"type":"shipment.' in line)
    orders = next(line for line in default_run.lines if b'"type":"order.' in line)
    assert b'+08:00"' in shipping
    assert b'+08:00"' not in orders


def test_nothing_at_or_after_the_horizon(default_run: Run) -> None:
    config = default_run.config
    assert all(config.start_ms <= e.ts_ms < config.end_ms for e in default_run.events)


def test_out_of_orderness_is_bounded_and_present(default_run: Run) -> None:
    bound = default_run.config.max_skew_ms
    latest, behind = 0, 0
    for event in default_run.events:
        assert event.ts_ms >= latest - bound, event.event_id
        behind += event.ts_ms < latest
        latest = max(latest, event.ts_ms)
    assert behind > 100  # the stream is not simply sorted


@pytest.mark.parametrize("stream", sorted(TYPES_BY_STREAM))
def test_each_topic_stays_in_time_order(default_run: Run, stream: str) -> None:
    times = [e.ts_ms for e in default_run.events if e.stream == stream]
    assert times == sorted(times)


def test_shapes_big_shops_long_tail_hot_products(default_run: Run) -> None:
    paid = [e.body for e in default_run.events if e.type == "order.paid"]
    by_shop = sorted(Counter(b["shop_id"] for b in paid).values(), reverse=True)
    assert by_shop[0] > 10 * by_shop[len(by_shop) // 2]  # a few big shops, a long tail
    by_product = Counter(b["product_id"] for b in paid)
    top_share = sum(n for _, n in by_product.most_common(len(by_product) // 100)) / len(paid)
    assert top_share > 0.1  # the top 1 % of products sell more than a tenth
    channels = Counter((b["channel"], b["creator_id"] is None) for b in paid)
    assert channels[("live", False)]
    assert channels[("live", True)]
    assert channels[("shelf", True)]
    assert channels[("video", True)]
    assert channels[("video", False)]
    assert not channels[("shelf", False)]


def _sessions(run: Run) -> dict[str, list[tuple[int, int]]]:
    """Creator id -> its sessions' (start, end), from live.started / live.ended."""
    starts, ends = {}, {}
    for e in run.events:
        if e.type == "live.started":
            starts[e.body["room_id"]] = (e.body["creator_id"], e.ts_ms)
        elif e.type == "live.ended":
            ends[e.body["room_id"]] = e.ts_ms
    spans: dict[str, list[tuple[int, int]]] = {}
    for room, (creator, start) in starts.items():
        if room in ends:
            spans.setdefault(creator, []).append((start, ends[room]))
    return {creator: sorted(pairs) for creator, pairs in spans.items()}


def test_a_creator_is_never_live_twice_at_once(default_run: Run) -> None:
    for pairs in _sessions(default_run).values():
        assert all(end < next_start for (_, end), (next_start, _) in itertools.pairwise(pairs))


def test_orders_burst_during_livestreams(default_run: Run) -> None:
    """Creators' live orders are paid while their room is live, in bursts."""
    sessions = _sessions(default_run)
    paid: dict[tuple[int, int], list[int]] = {}
    live = [
        e.body
        for e in default_run.events
        if e.type == "order.paid" and e.body["channel"] == "live" and e.body["creator_id"]
    ]
    for body in live:
        span = next(
            (s for s in sessions.get(body["creator_id"], []) if s[0] <= body["ts"] <= s[1]), None
        )
        if span is not None:
            paid.setdefault(span, []).append(body["ts"])
    assert sum(map(len, paid.values())) >= 0.95 * len(live)
    bursty = 0
    busy = [(span, times) for span, times in paid.items() if len(times) >= 30]
    for (start, end), times in busy:
        mean_per_10_min = len(times) * 600_000 / (end - start)
        peak = max(sum(t <= u < t + 600_000 for u in times) for t in times)
        bursty += peak >= 3 * mean_per_10_min
    assert busy
    assert bursty >= 0.8 * len(busy)


def test_throughput_is_reported(default_run: Run, capsys: pytest.CaptureFixture[str]) -> None:
    """Printed, not asserted: the machine decides. Ground truth and gzip not included."""
    summary = default_run.summary
    rate = summary.events / summary.seconds
    with capsys.disabled():
        print(f"\n  vane generate, defaults: {summary.events:,} events, {summary.seconds:.2f} s")
        print(f"  {rate:,.0f} events/s written; with ground truth {default_run.seconds:.2f} s")
