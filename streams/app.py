"""The Faust app, configured from ``Settings`` and nothing else."""

from __future__ import annotations

import faust

from streams.kafka import fastpath
from streams.kafka.clients import sasl_credentials, ssl_context
from streams.settings import KafkaSettings, Settings


def create_app(settings: Settings) -> faust.App:
    """A Faust app for these settings; agents and pages are registered elsewhere."""
    kafka, worker = settings.kafka, settings.worker
    # Faust's per-event cost, cut with its own settings (streams.kafka.fastpath,
    # docs/performance.md): uvloop, a lean monitor, batch delivery.
    fastpath.use_uvloop()
    fastpath.register_transport()
    hosts = [host.strip() for host in kafka.bootstrap.split(",")]
    return faust.App(
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
        datadir=str(worker.data_dir),
        autodiscover=False,
        Monitor=fastpath.LeanMonitor,
    )


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
