"""The TLS context of every Kafka connection Vane opens (Faust's, its own clients, the probe)."""

from __future__ import annotations

import ssl

from streams.settings import KafkaSettings


def ssl_context(kafka: KafkaSettings) -> ssl.SSLContext:
    """TLS context: the configured CA, and a client certificate when set."""
    context = ssl.create_default_context(cafile=kafka.ssl_cafile)
    if kafka.ssl_certfile is not None:
        context.load_cert_chain(kafka.ssl_certfile, kafka.ssl_keyfile)
    return context
