"""A Faust aiokafka transport whose consumer delivers each fetched batch in one task.

Faust's ``Consumer._drain_messages`` hands every message to the conductor with
``wait_first(callback(message), suspend_flow.wait())``: four tasks, an
``asyncio.wait`` and three cancellations per message, so that a rebalance
(``suspend_flow``) can interrupt a delivery that waits on a full buffer or on
flow control. ``BatchDrainConsumer`` keeps that guarantee per fetched batch
instead: the batch is delivered message by message inside one task raced
against ``suspend_flow``, and the loop stops at the first message after the flow
stopped or the group generation changed. Everything else (fetching, offsets,
gaps, acks, commits, seeking after a rebalance) is Faust's own code.

The transport is selected by the consumer URL scheme: ``vane-kafka://host:port``
in the ``broker_consumer`` setting, registered by ``register_transport()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

from faust.transport import drivers
from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as faust_aiokafka

from streams.kafka.fastpath import records

SCHEME = "vane-kafka"
YIELD_EVERY = 100  # messages between two sleep(0), as Faust's own loop does
# How long the broker may hold a fetch that has too little data. Faust hard-codes
# 1,500 ms; Tansu holds a fetch that long even while records arrive (measured:
# p50 387 ms from produce to fetch at 1,500 ms, 29 ms at 100 ms, 6 ms at 10 ms),
# which would put ~0.5 s into every event's latency. A real Kafka broker answers
# as soon as data is there, so this only costs idle fetches (20 a second at most).
FETCH_MAX_WAIT_MS = 50


def register_transport() -> None:
    """Make ``vane-kafka://`` URLs select this transport (idempotent).

    Also makes fetched batches tolerate header keys that are not UTF-8
    (``records.install``): a poison header must reach the intake, not kill the fetcher.
    """
    drivers.TRANSPORTS.aliases[SCHEME] = f"{__name__}:Transport"
    records.install()


class _ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's consumer thread, with a shorter broker-side fetch wait."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Read by AIOKafkaConsumer.start() when it builds its fetcher.
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class BatchDrainConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer, delivering each fetched batch in one task."""

    def _new_consumer_thread(self) -> Any:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    async def _drain_messages(self, fetcher: Any) -> None:
        consumer_should_stop = self._stopped.is_set
        fetcher_should_stop = fetcher._stopped.is_set
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                self.diag.set_flag(CONSUMER_FETCHING)
                batch = [pair async for pair in self.getmany(timeout=1.0)]
                await self.sleep(0)
                if batch and not self.should_stop:
                    await self.wait_first(self._deliver(batch), self.suspend_flow.wait())
                self.diag.unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                self.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            self.diag.unset_flag(CONSUMER_FETCHING)

    async def _deliver(self, batch: Sequence[tuple[Any, Any]]) -> None:
        """Faust's per-message steps (gap, commit, callback, read offset), in order."""
        callback = self.callback
        read_offsets = self._read_offset
        acks_enabled_for = self.app.topics.acks_enabled_for
        commit_every = self._commit_every
        generation_id = self.app.consumer_generation_id
        for i, (tp, message) in enumerate(batch):
            if not self.flow_active or self.app.consumer_generation_id != generation_id:
                return  # the rest is fetched again after the rebalance
            if i and i % YIELD_EVERY == 0:
                await asyncio.sleep(0)
            offset = message.offset
            r_offset = read_offsets[tp]
            if r_offset is not None and offset < r_offset:
                continue  # already delivered (Faust drops these too)
            if r_offset and offset - r_offset > 1 and acks_enabled_for(message.topic):
                await self._add_gap(tp, r_offset + 1, offset)
            if commit_every is not None and self._n_acked >= commit_every:
                self._n_acked = 0
                await self.commit()
            await callback(message)
            read_offsets[tp] = offset


class Transport(faust_aiokafka.Transport):
    """Faust's aiokafka transport with ``BatchDrainConsumer`` as its consumer."""

    Consumer = cast(Any, BatchDrainConsumer)
