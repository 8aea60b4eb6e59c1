"""A recommender-side consumer of Vane's weight topic: the latest weight per entity.

    python deploy/examples/recommender_consumer.py localhost:29092 traffic-weights

Every recommender instance keeps the whole table, so it reads every partition
from the beginning without a consumer group (like a global table). The topic
may be compacted: its last message per key is the entity's current state.
Rules (docs/weight-topic.md):

- key ``<entity_type>:<entity_id>``; value one JSON object, ``"schema": 1``;
- per key keep the message with the highest ``seq``; ignore a message whose seq
  is not higher than the one held (after a crash Vane may re-send a message:
  same seq, same bytes);
- an entity never seen has weight 1.00 and boost 1.00 (tier NEW).

Needs only aiokafka and the standard library.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer

log = logging.getLogger("recommender")
SCHEMA = 1
DEFAULT = {"tier": "NEW", "weight": 1.0, "boost": 1.0}


@dataclass
class WeightTable:
    """The latest message per key; ``apply`` is idempotent on seq."""

    latest: dict[str, dict[str, Any]] = field(default_factory=dict)
    ignored: int = 0

    def apply(self, key: bytes | None, value: bytes | None) -> bool:
        """Take one record; True when it changed the table."""
        if key is None:
            self.ignored += 1
            return False
        name = key.decode()
        if value is None:  # a tombstone: the entity is gone
            return self.latest.pop(name, None) is not None
        message = json.loads(value)
        if message.get("schema") != SCHEMA:
            log.warning("%s: schema %r not understood, skipped", name, message.get("schema"))
            self.ignored += 1
            return False
        held = self.latest.get(name)
        if held is not None and message["seq"] <= held["seq"]:
            self.ignored += 1  # a re-send or an older message: nothing new
            return False
        self.latest[name] = message
        return True

    def weight(self, entity_type: str, entity_id: str) -> tuple[str, float, float]:
        """(tier, weight, boost) to apply to this entity's traffic."""
        message = self.latest.get(f"{entity_type}:{entity_id}", DEFAULT)
        return message["tier"], message["weight"], message["boost"]


async def follow(
    bootstrap: str, topic: str, table: WeightTable, caught_up: asyncio.Event | None = None
) -> None:
    """Read every partition from the beginning, forever; set ``caught_up`` at the end."""
    # No group: every partition is ours, read from the earliest offset, nothing committed.
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    table.apply(record.key, record.value)
            if caught_up is not None and await _at_end(consumer):
                caught_up.set()
    finally:
        await consumer.stop()


async def _at_end(consumer: AIOKafkaConsumer) -> bool:
    """Every partition read up to the high watermark its last fetch reported."""
    tps = consumer.assignment()
    for tp in tps:
        highwater = consumer.highwater(tp)
        if highwater is None or await consumer.position(tp) < highwater:
            return False
    return bool(tps)


async def _main(bootstrap: str, topic: str) -> None:
    table, caught_up = WeightTable(), asyncio.Event()
    task = asyncio.create_task(follow(bootstrap, topic, table, caught_up))
    await caught_up.wait()
    log.info("caught up: %d entities", len(table.latest))
    for name, message in sorted(table.latest.items()):
        print(f"{name}\t{message['tier']}\tweight={message['weight']}\tseq={message['seq']}")
    await task


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(_main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "traffic-weights"))
