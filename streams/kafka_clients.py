"""Connection options for Vane's own aiokafka clients (replay, lag, weights dump).

The worker's consumer and producer are Faust's (``streams.app``); tools that talk
to Kafka directly build their clients from the same ``KafkaSettings`` here.
"""

from __future__ import annotations

import ssl
from typing import Any

from streams.settings import KafkaSettings

MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def ssl_context(kafka: KafkaSettings) -> ssl.SSLContext:
    """TLS context: the configured CA, and a client certificate when set."""
    context = ssl.create_default_context(cafile=kafka.ssl_cafile)
    if kafka.ssl_certfile is not None:
        context.load_cert_chain(kafka.ssl_certfile, kafka.ssl_keyfile)
    return context


def client_options(kafka: KafkaSettings) -> dict[str, Any]:
    """aiokafka connection options (bootstrap and security) for these settings."""
    options: dict[str, Any] = {
        "bootstrap_servers": [h.strip() for h in kafka.bootstrap.split(",")],
        "security_protocol": kafka.security_protocol,
    }
    if kafka.security_protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = ssl_context(kafka)
    if kafka.security_protocol.startswith("SASL"):
        options["sasl_mechanism"] = kafka.sasl_mechanism
        options["sasl_plain_username"] = kafka.sasl_username
        secret = kafka.sasl_password
        options["sasl_plain_password"] = secret.reveal() if secret else None
    return options
