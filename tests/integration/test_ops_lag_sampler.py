"""The lag sampler alone against a real broker: figures, lag in seconds, and an outage.

Its own embedded broker, because the test pauses it (SIGSTOP) to play an outage:
Tansu, then Apache Kafka (the JVM paused the same way). On both, the end offset
the reader takes from the fetch response is the true end of the log (on Tansu,
``end_offsets`` is not: INFRA.md).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from streams.devtools.embedded import Broker, EmbeddedStack
from streams.kafka.lag_reader import KafkaReader
from streams.metrics import Metrics
from streams.ops.lag import LagRules, Status
from streams.ops.lag_sampler import LagSampler
from streams.settings import KafkaSettings
from tests import kafka_helpers as kafka

pytestmark = pytest.mark.integration

RULES = LagRules(interval_s=0.5, window=3, stop_after_s=60)
TICK_BOUND_S = 30.0  # generous: a tick on a paused broker must end, however slow the machine


async def _commit(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    # No auto-commit: closing would commit the consumer's position, the end of the log
    # on Apache Kafka (its "latest" reset is right), over the offset committed here.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    consumer.assign(list(offsets))
    try:
        await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()})
    finally:
        await consumer.stop()


async def _until_healthy(sampler: LagSampler, timeout_s: float) -> float:
    started = time.monotonic()
    while True:
        await sampler.tick()
        if not sampler._failing and sampler.views:
            return time.monotonic() - started
        assert time.monotonic() - started < timeout_s, "sampler did not recover"
        await asyncio.sleep(RULES.interval_s)


def test_sampler_reads_lag_and_survives_a_broker_outage(
    tmp_path: Path, embedded_broker: Broker
) -> None:
    with EmbeddedStack(tmp_path, broker=embedded_broker) as stack:
        bootstrap = stack.kafka_bootstrap
        kafka.create_topics(bootstrap, ["orders-x", "refunds-x"], partitions=2)
        kafka.produce(bootstrap, "orders-x", [(b"k0", b"old")])  # key k0 -> one partition
        time.sleep(1.0)
        kafka.produce(bootstrap, "orders-x", [(b"k0", b"new1"), (b"k0", b"new2")])
        tp = next(
            TopicPartition("orders-x", p)
            for p in (0, 1)
            if kafka.consume(bootstrap, "orders-x", 3, timeout_s=5)[0].partition == p
        )
        asyncio.run(_commit(bootstrap, "g", {tp: 1}))  # "old" is consumed, two wait
        reader = KafkaReader(
            KafkaSettings(bootstrap=bootstrap), "g", ["orders-x", "refunds-x", "nope"]
        )
        metrics = Metrics()
        sampler = LagSampler(reader, metrics, RULES, "g")

        async def scenario() -> None:
            await sampler.tick()
            assert len(sampler.views) == 4, "every partition of the existing topics"
            view = sampler.views[tp]
            assert (view.committed, view.end, view.lag, view.status) == (1, 3, 2, Status.OK)
            assert 0.0 < view.lag_seconds < TICK_BOUND_S * 10  # an age (of "new1"), not an epoch
            others = [v for k, v in sampler.views.items() if k != tp]
            assert all(v.lag == 0 and v.lag_seconds == 0.0 for v in others)

            assert stack.kafka_pid
            os.kill(stack.kafka_pid, signal.SIGSTOP)
            try:
                # A tick on a dead broker gives up by its own timeout: bounded, never hung.
                await asyncio.wait_for(sampler.tick(), timeout=TICK_BOUND_S)
                assert sampler._failing
            finally:
                os.kill(stack.kafka_pid, signal.SIGCONT)
            recovered_after = await _until_healthy(sampler, 30)
            print(f"sampler read Kafka again {recovered_after:.1f}s after the broker resumed")
            for _ in range(RULES.window):
                await sampler.tick()
                await asyncio.sleep(RULES.interval_s)
            # No consumer moves the committed offset while messages wait: STALL.
            assert sampler.views[tp].status is Status.STALL
            await reader.close()

        asyncio.run(scenario())
