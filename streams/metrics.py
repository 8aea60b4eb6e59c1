"""Every Prometheus metric Vane exports, created in one place.

Conventions: base units (seconds, bytes), ``_total`` for counters, labels with
small fixed value sets (topic, type, reason). One ``Metrics`` per worker, with
its own registry (so that tests can build several side by side) holding the
process, platform and GC collectors that prometheus_client's default registry
has (``process_*``, ``python_*``). Consumer lag follows kafka-lag-exporter's
names and labels (``kafka_consumergroup_group_lag{group, topic, partition}``,
``..._lag_seconds``, and the group's worst ``..._group_max_lag``/``_seconds``),
so dashboards and alerts written for it work on Vane; docs/operations.md says
what differs.
"""

from __future__ import annotations

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.exposition import choose_encoder


class Metrics:
    """The worker's metrics; ``exposition()`` renders them for ``/metrics``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            self.registry.register(collector)
        self.events = Counter(
            "vane_events",
            "Input events that passed the event contract, by source topic and type.",
            ["topic", "type"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "vane_dead_letters",
            "Input messages routed to the dead-letter topic, by source topic and reason.",
            ["topic", "reason"],
            registry=self.registry,
        )

        self.duplicates = Counter(
            "vane_duplicates",
            "Upstream duplicates dropped (same event_id at another offset).",
            registry=self.registry,
        )
        self.redelivered = Counter(
            "vane_redelivered_updates",
            "Entity updates skipped because they were applied before (redelivery).",
            registry=self.registry,
        )
        self.offset_rewinds = Counter(
            "vane_offset_rewinds",
            "Events skipped because their offset is at or below their entity's watermark while "
            "no dedupe marker vouches for a redelivery: the offsets went backwards (a group "
            "reset, or a recreated topic without a new VANE_TOPIC_GENERATION).",
            ["topic", "partition"],
            registry=self.registry,
        )
        self.redis_round_trips = Counter(
            "vane_redis_round_trips",
            "Pipelined round trips to Redis made to apply batches.",
            registry=self.registry,
        )
        self.redis_errors = Counter(
            "vane_redis_errors",
            "Failed attempts to reach Redis (each retried with backoff).",
            registry=self.registry,
        )
        self.redis_retries = Counter(
            "vane_redis_retries",
            "Failed Redis calls retried with backoff, by error class (OOM, READONLY, connection).",
            ["error"],
            registry=self.registry,
        )
        self.publish_errors = Counter(
            "vane_publish_errors",
            "Failed publishes to the dead-letter or weight topic, by topic, error and outcome "
            "(retried, truncated, dropped, left_in_outbox).",
            ["topic", "error", "outcome"],
            registry=self.registry,
        )
        self.outbox_resends = Counter(
            "vane_outbox_resends",
            "Weight updates sent again by the outbox: takeover (its writer seemed dead), "
            "recheck (after a takeover), stale (a send landed after a newer message).",
            ["reason"],
            registry=self.registry,
        )
        self.sweep_leases_lost = Counter(
            "vane_sweep_leases_lost",
            "Day-close sweeps stopped because a shard's sweep lease could not be renewed.",
            registry=self.registry,
        )
        self.stream_time = Gauge(
            "vane_stream_time_seconds",
            "Stream time: the largest event ts processed by the deployment, epoch seconds.",
            registry=self.registry,
        )

        self.batch_size = Histogram(
            "vane_batch_size",
            "Messages per batch taken from an input topic.",
            ["topic"],
            buckets=(1, 10, 50, 100, 250, 500, 1000, 2000, 5000),
            registry=self.registry,
        )
        self.batch_duration = Histogram(
            "vane_batch_duration_seconds",
            "Time to process one batch: validate, apply and score (in a round with the other "
            "agents' batches, its wait included), publish.",
            ["topic"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.redis_call_duration = Histogram(
            "vane_redis_call_duration_seconds",
            "Duration of one window-store operation (one pipelined Redis round trip; apply: "
            "two; sweep_snapshots: three when it drops members whose hash expired), failed "
            "ones included, by operation (apply, snapshots, commit, ...).",
            ["operation"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
            registry=self.registry,
        )
        self.weight_updates = Counter(
            "vane_weight_updates",
            "Messages published on the weight topic, by entity type and tier transition.",
            ["entity_type", "from_tier", "to_tier"],
            registry=self.registry,
        )
        self.sweep_duration = Histogram(
            "vane_sweep_duration_seconds",
            "This worker's part of a day-close sweep: the index shards it re-scored.",
            buckets=(0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600),
            registry=self.registry,
        )
        self.sweeps = Counter(
            "vane_sweeps",
            "Day-close sweeps this worker recorded as done (it found every shard swept).",
            registry=self.registry,
        )
        self.sweep_shards = Counter(
            "vane_sweep_shards",
            "Entity-index shards this worker re-scored in day-close sweeps (64 per sweep, "
            "shared between the workers).",
            registry=self.registry,
        )
        self.sweep_entities = Counter(
            "vane_sweep_entities",
            "Entities this worker re-scored in day-close sweeps (its rate: the sweep rate).",
            registry=self.registry,
        )
        self.consumer_lag_messages = Gauge(
            "kafka_consumergroup_group_lag",
            "Messages not yet committed by the group: high watermark - committed offset.",
            ["group", "topic", "partition"],
            registry=self.registry,
        )
        self.consumer_lag_seconds = Gauge(
            "kafka_consumergroup_group_lag_seconds",
            "Age of the oldest uncommitted message (0 when caught up).",
            ["group", "topic", "partition"],
            registry=self.registry,
        )
        self.consumer_max_lag_messages = Gauge(
            "kafka_consumergroup_group_max_lag",
            "The group's largest lag in messages over its partitions.",
            ["group"],
            registry=self.registry,
        )
        self.consumer_max_lag_seconds = Gauge(
            "kafka_consumergroup_group_max_lag_seconds",
            "The group's largest lag in seconds over its partitions.",
            ["group"],
            registry=self.registry,
        )
        self.partition_status = Gauge(
            "vane_partition_status",
            "Burrow-style partition status: 1 for the current one of OK/WARN/STALL/STOP/REWIND.",
            ["group", "topic", "partition", "status"],
            registry=self.registry,
        )

    def exposition(self, accept: str | None = None) -> tuple[bytes, str]:
        """The registry in the format an ``Accept`` header asks for, and its content type.

        prometheus_client's own negotiation: OpenMetrics when asked for it, else the
        text format 0.0.4 (``text/plain; version=0.0.4; charset=utf-8``).
        """
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type
