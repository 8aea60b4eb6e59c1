"""The Faust app, configured from ``Settings`` and nothing else."""

from __future__ import annotations

import logging
from typing import Any

import faust
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import ProducerT

from streams.kafka import fastpath
from streams.kafka.clients import idempotence_refused, sasl_credentials
from streams.kafka.tls import ssl_context
from streams.settings import KafkaSettings, Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings) -> faust.App:
    """A Faust app for these settings; agents and pages are registered elsewhere."""
    kafka, worker = settings.kafka, settings.worker
    # Faust's per-event cost, cut with its own settings (streams.kafka.fastpath,
    # docs/performance.md): uvloop, a lean monitor, batch delivery.
    fastpath.use_uvloop()
    fastpath.register_transport()
    hosts = [host.strip() for host in kafka.bootstrap.split(",")]
    app = App(
        worker.app_id,
        broker=";".join(f"kafka://{host}" for host in hosts),
        broker_consumer=";".join(f"{fastpath.SCHEME}://{host}" for host in hosts),
        broker_credentials=_credentials(kafka),
        # Fast group joins on the embedded broker: join takes ~ session / 2 (INFRA.md).
        broker_session_timeout=kafka.session_timeout_s,
        broker_heartbeat_interval=kafka.heartbeat_interval_s,
        broker_commit_interval=kafka.commit_interval_s,
        consumer_auto_offset_reset="earliest",
        producer_max_request_size=worker.max_message_bytes,
        topic_partitions=settings.topics.partitions,
        web_bind=worker.web_host,
        web_port=worker.web_port,
        # Vane's pages only (streams.ops): Faust's /router/ and /table/ pages are for
        # Faust tables, which Vane does not use, and /router/<table>/ answers 500.
        web_router_enabled=False,
        web_tables_enabled=False,
        web_graph_enabled=False,
        web_stats_enabled=False,
        web_metrics_enabled=False,
        datadir=str(worker.data_dir),
        autodiscover=False,
        Monitor=fastpath.LeanMonitor,
    )
    app.idempotence = kafka.idempotence.lower()
    return app


def _credentials(kafka: KafkaSettings) -> faust.SASLCredentials | faust.SSLCredentials | None:
    protocol = kafka.security_protocol
    context = ssl_context(kafka) if protocol in ("SSL", "SASL_SSL") else None
    if protocol.startswith("SASL"):
        username, password = sasl_credentials(kafka)  # ConfigError when missing
        return faust.SASLCredentials(
            username=username,
            password=password,
            mechanism=kafka.sasl_mechanism,
            ssl_context=context,
        )
    return faust.SSLCredentials(context) if context is not None else None


class App(faust.App):
    """Faust's app, with a producer that chooses idempotence (``VANE_KAFKA_IDEMPOTENCE``).

    Faust builds its producer from the consumer's transport (``broker_producer`` is
    not read for it), so the producer is chosen here, where the app makes it.
    """

    idempotence = "auto"

    def _new_producer(self) -> ProducerT:
        producer = IdempotenceChoosingProducer(self.transport, loop=self.loop, beacon=self.beacon)
        producer.mode = self.idempotence
        return producer


class IdempotenceChoosingProducer(faust_aiokafka.Producer):
    """Faust's producer (weight and dead-letter topics), idempotent with acks=all
    when ``VANE_KAFKA_IDEMPOTENCE`` is ON, or AUTO and the broker grants a producer
    id. Faust itself makes its producer idempotent only inside transactions
    (``processing_guarantee="exactly_once"``), which Vane does not use."""

    mode = "auto"  # "auto", "on" or "off"
    _idempotent = False

    async def on_start(self) -> None:
        self._idempotent = await self._choose(self.mode)
        await super().on_start()

    async def _choose(self, mode: str) -> bool:
        if mode == "auto":
            why = await idempotence_refused({**self._settings_default(), **self._settings_auth()})
        else:
            why = None if mode == "on" else "switched off"
        how = "idempotent (acks=all)" if why is None else f"not idempotent: {why}"
        log.info("kafka producer: %s (VANE_KAFKA_IDEMPOTENCE=%s)", how, mode)
        return why is None

    def _settings_extra(self) -> dict[str, Any]:
        extra = dict(super()._settings_extra())
        if self._idempotent:
            extra |= {"acks": "all", "enable_idempotence": True}
        return extra
