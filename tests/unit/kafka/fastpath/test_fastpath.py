"""Vane's Faust extensions: batch delivery, the lean monitor, uvloop, the transport alias.

The delivery loop is exercised on a stand-in consumer (only the attributes it
uses); the real thing runs in every worker test (tests/integration: crashes,
restarts, two workers sharing partitions).
"""

from __future__ import annotations

import asyncio
import inspect
from collections import defaultdict
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
import uvloop
from aiokafka import AIOKafkaConsumer
from faust.sensors.monitor import Monitor
from faust.transport import drivers
from faust.types import TP

from streams.kafka import fastpath
from streams.kafka.fastpath.consumer import BatchDrainConsumer, Transport, _ConsumerThread

TP0, TP1 = TP("orders", 0), TP("orders", 1)


@dataclass
class Message:
    tp: TP
    offset: int

    @property
    def topic(self) -> str:
        return self.tp.topic


@dataclass
class StandIn:
    """What ``BatchDrainConsumer._deliver`` touches of a Faust consumer."""

    stop_flow_after: int | None = None
    new_generation_after: int | None = None
    commit_every: int | None = None
    delivered: list[tuple[TP, int]] = field(default_factory=list)
    gaps: list[tuple[TP, int, int]] = field(default_factory=list)
    commits: int = 0

    def __post_init__(self) -> None:
        self.app = SimpleNamespace(
            consumer_generation_id=1, topics=SimpleNamespace(acks_enabled_for=lambda t: True)
        )
        self.flow_active = True
        self._read_offset: dict[TP, int | None] = defaultdict(lambda: None)
        self._commit_every = self.commit_every
        self._n_acked = 0

    async def callback(self, message: Message) -> None:
        self.delivered.append((message.tp, message.offset))
        self._n_acked += 1
        if len(self.delivered) == self.stop_flow_after:
            self.flow_active = False
        if len(self.delivered) == self.new_generation_after:
            self.app.consumer_generation_id += 1

    async def _add_gap(self, tp: TP, first: int, last: int) -> None:
        self.gaps.append((tp, first, last))

    async def commit(self) -> None:
        self.commits += 1


def deliver(consumer: StandIn, batch: list[Message]) -> None:
    pairs: Any = [(m.tp, m) for m in batch]
    asyncio.run(BatchDrainConsumer._deliver(consumer, pairs))  # type: ignore[arg-type]


def test_delivers_in_order_and_moves_read_offsets() -> None:
    consumer = StandIn()
    batch = [Message(TP0, 0), Message(TP1, 5), Message(TP0, 1), Message(TP1, 6)]
    deliver(consumer, batch)
    assert consumer.delivered == [(m.tp, m.offset) for m in batch]
    assert dict(consumer._read_offset) == {TP0: 1, TP1: 6}
    assert consumer.gaps == []


def test_skips_what_was_delivered_before() -> None:
    consumer = StandIn()
    consumer._read_offset[TP0] = 10
    deliver(consumer, [Message(TP0, 9), Message(TP0, 10), Message(TP0, 11)])
    assert consumer.delivered == [(TP0, 10), (TP0, 11)]


def test_records_a_gap_in_offsets() -> None:
    consumer = StandIn()
    deliver(consumer, [Message(TP0, 3), Message(TP0, 7)])
    assert consumer.gaps == [(TP0, 4, 7)]


@pytest.mark.parametrize("stop", ["stop_flow_after", "new_generation_after"])
def test_stops_when_a_rebalance_begins(stop: str) -> None:
    consumer = StandIn(**{stop: 2})
    deliver(consumer, [Message(TP0, i) for i in range(5)])
    assert consumer.delivered == [(TP0, 0), (TP0, 1)]
    assert consumer._read_offset[TP0] == 1  # the rest is fetched again after it


def test_commits_every_n_acks_as_faust_does() -> None:
    consumer = StandIn(commit_every=3)
    deliver(consumer, [Message(TP0, i) for i in range(7)])
    assert consumer.commits == 2
    assert len(consumer.delivered) == 7


def test_a_long_batch_yields_to_the_loop() -> None:
    consumer = StandIn()

    async def run() -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.ensure_future(ticker())
        await asyncio.sleep(0)
        pairs: Any = [(TP0, Message(TP0, i)) for i in range(1_000)]
        await BatchDrainConsumer._deliver(consumer, pairs)  # type: ignore[arg-type]
        task.cancel()
        return ticks

    assert asyncio.run(run()) >= 9


def test_the_scheme_selects_the_transport() -> None:
    fastpath.register_transport()
    assert drivers.by_url(f"{fastpath.SCHEME}://127.0.0.1:9092") is Transport
    assert drivers.by_url("kafka://127.0.0.1:9092") is not Transport
    assert Transport.Consumer is BatchDrainConsumer


def test_aiokafka_still_reads_the_fetch_wait_we_set() -> None:
    # _ConsumerThread sets this private attribute after Faust built the consumer.
    assert "self._fetch_max_wait_ms" in inspect.getsource(AIOKafkaConsumer.start)
    assert "_fetch_max_wait_ms = FETCH_MAX_WAIT_MS" in inspect.getsource(_ConsumerThread)


def test_lean_monitor_is_a_monitor_that_counts_no_messages() -> None:
    assert issubclass(fastpath.LeanMonitor, Monitor)
    for hook in (
        "on_message_in",
        "on_stream_event_in",
        "on_stream_event_out",
        "on_message_out",
        "track_tp_end_offset",
    ):
        assert getattr(fastpath.LeanMonitor, hook) is not getattr(Monitor, hook), hook
    kept = ("on_commit_completed", "on_send_initiated", "on_rebalance_start")
    for hook in kept:
        assert getattr(fastpath.LeanMonitor, hook) is getattr(Monitor, hook), hook


def test_use_uvloop_sets_the_policy() -> None:
    before = asyncio.get_event_loop_policy()
    try:
        fastpath.use_uvloop()
        fastpath.use_uvloop()
        assert isinstance(asyncio.get_event_loop_policy(), uvloop.EventLoopPolicy)
    finally:
        asyncio.set_event_loop_policy(before)
