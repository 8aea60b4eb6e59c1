"""Connection options for Vane's own aiokafka clients (replay, lag, weights dump).

The worker's consumer and producer are Faust's (``streams.app``); tools that talk
to Kafka directly build their clients from the same ``KafkaSettings`` here, and
start them with ``start()``, which turns a failure into one line naming the cause
(TLS, SASL, unreachable) and never the password:

    producer = AIOKafkaProducer(**client_options(settings.kafka))
    await start(producer, settings.kafka)   # KafkaUnavailable on failure
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.conn import create_conn
from aiokafka.errors import KafkaError

from streams.errors import ConfigError, KafkaUnavailable
from streams.kafka.probe import refuse_non_kafka
from streams.kafka.tls import ssl_context
from streams.settings import KafkaSettings, env_name

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
PROBE_TIMEOUT_MS = 5000

# Library practice: aiokafka's own error lines are not printed by tools that set no
# logging up; start() reports the failure itself, with its cause, on one line.
logging.getLogger("aiokafka").addHandler(logging.NullHandler())


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
        username, password = sasl_credentials(kafka)
        options["sasl_plain_username"] = username
        options["sasl_plain_password"] = password
    return options


def sasl_credentials(kafka: KafkaSettings) -> tuple[str, str]:
    """Username and password for SASL, or ConfigError naming what is missing."""
    if not kafka.sasl_username or kafka.sasl_password is None or not kafka.sasl_password.reveal():
        raise ConfigError(
            f"{env_name('kafka', 'sasl_username')} and {env_name('kafka', 'sasl_password')} "
            f"are required with {env_name('kafka', 'security_protocol')}="
            f"{kafka.security_protocol}"
        )
    return kafka.sasl_username, kafka.sasl_password.reveal()


async def start(client: Any, kafka: KafkaSettings) -> None:
    """``await client.start()``; on failure raise KafkaUnavailable with the real cause.

    aiokafka says only "Unable to bootstrap"; one direct connection to the first
    broker finds out why (certificate, SASL, refused), and the message says it.
    An address that is not Kafka's fails at once (``probe.refuse_non_kafka``).
    """
    try:
        await refuse_non_kafka(kafka)
        await client.start()
    except (KafkaError, KafkaUnavailable) as exc:
        stop = getattr(client, "stop", None) or client.close
        await stop()
        if isinstance(exc, KafkaUnavailable):
            raise
        raise KafkaUnavailable(await describe_failure(kafka, exc)) from None


async def describe_failure(kafka: KafkaSettings, exc: BaseException) -> str:
    """One line: where, how we connect (never the password), and why it failed."""
    host, _, port = kafka.bootstrap.split(",")[0].strip().rpartition(":")
    cause = await _probe(kafka, host, int(port)) or str(exc)
    if "closed" in cause or "bootstrap" in cause:
        cause += " (the broker hung up: does it want TLS, SASL or other credentials?)"
    return f"cannot use kafka at {kafka.bootstrap} ({_how(kafka)}): {cause}"


def _how(kafka: KafkaSettings) -> str:
    how = kafka.security_protocol
    if how.startswith("SASL"):
        how += f", {kafka.sasl_mechanism} as {kafka.sasl_username!r}"
    return how


async def _probe(kafka: KafkaSettings, host: str, port: int) -> str | None:
    """The error a single connection to ``host:port`` meets, or None if it works."""
    options = client_options(kafka)
    del options["bootstrap_servers"]
    try:
        conn = await create_conn(host, port, request_timeout_ms=PROBE_TIMEOUT_MS, **options)
    except ssl.SSLError as exc:
        return f"TLS: {exc.reason or exc}"
    except (KafkaError, OSError) as exc:
        return str(exc) or type(exc).__name__
    conn.close()
    return None


async def idempotence_refused(options: Mapping[str, Any]) -> str | None:
    """Why the broker will not serve an idempotent producer, or None when it will.

    ApiVersions cannot tell: Tansu 0.6 lists InitProducerId v0-5 but answers v0,
    the only version aiokafka sends, with UnknownError. So this asks for a producer
    id for real: an idempotent producer with these connection ``options`` starts
    (InitProducerId) and stops again, sending nothing.
    """
    producer = AIOKafkaProducer(**options, enable_idempotence=True)
    try:
        await producer.start()
    except KafkaError as exc:
        return f"InitProducerId refused ({type(exc).__name__})"
    finally:
        await producer.stop()
    return None
