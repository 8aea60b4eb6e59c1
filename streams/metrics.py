"""Every Prometheus metric Vane exports, created in one place.

Conventions: base units (seconds, bytes), ``_total`` for counters, labels with
small fixed value sets (topic, type, reason). One ``Metrics`` per worker, with
its own registry, so that tests can build several side by side.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)


class Metrics:
    """The worker's metrics; ``exposition()`` renders them for ``/metrics``."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
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
        self.stream_time = Gauge(
            "vane_stream_time_seconds",
            "Stream time: the largest event ts processed by the deployment, epoch seconds.",
            registry=self.registry,
        )

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition format and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
