"""Can a worker use Kafka? Asked before Faust starts, so that a broker that is down,
refuses our credentials or is not Kafka at all costs one line, not Faust's traceback.

    await check_kafka(settings.kafka)   # KafkaUnavailable naming the cause
"""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient

from streams.kafka.clients import client_options, start
from streams.settings import KafkaSettings


async def check_kafka(kafka: KafkaSettings) -> None:
    """Connect an admin client as the worker's would (TLS, SASL), then close it."""
    admin = AIOKafkaAdminClient(**client_options(kafka))
    await start(admin, kafka)
    await admin.close()
