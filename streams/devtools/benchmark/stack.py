"""The servers one benchmark column runs on: a broker (Tansu or Apache Kafka) and Valkey.

``open_stack("tansu")`` is the embedded stack (``streams.devtools.embedded``);
``open_stack("kafka")`` is a single-node Apache Kafka (``streams.devtools.apache_kafka``,
the jars ``make kafka`` fetches) beside the embedded stack's Valkey, whose Tansu
then stays idle (it answers nothing and costs no CPU). Either way the run sees
the same ``BenchStack``: the addresses, and the pids whose CPU it measures.

    with open_stack("kafka") as stack:
        print(stack.broker, stack.kafka_bootstrap, stack.redis_url)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from streams.devtools.apache_kafka import ApacheKafka, java_problem, kafka_libs
from streams.devtools.embedded import EmbeddedStack

Broker = Literal["tansu", "kafka"]
BROKERS: tuple[Broker, ...] = ("tansu", "kafka")
# A JVM broker shares the two cores with the workers: a small heap, as the tests keep it.
KAFKA_PROPERTIES = {"num.partitions": "4", "log.cleaner.enable": "false"}


@dataclass(frozen=True, slots=True)
class BenchStack:
    """Where a column's consumers connect, and which server processes to measure."""

    broker: Broker
    kafka_bootstrap: str
    redis_url: str
    redis_port: int
    broker_pid: int
    redis_pid: int


def kafka_missing() -> str | None:
    """Why Apache Kafka cannot run here (one line), or None when it can."""
    if kafka_libs() is None:
        return "no Apache Kafka jars (run `make kafka`: needs Java 17+ and Maven)"
    return java_problem()


@contextmanager
def open_stack(broker: Broker) -> Iterator[BenchStack]:
    """Start the servers of one column; stop them all on exit."""
    with EmbeddedStack() as embedded:
        redis_pid = embedded.redis.process.pid if embedded.redis.process else 0
        if broker == "tansu":
            tansu = embedded.kafka.process
            yield BenchStack(
                broker,
                embedded.kafka_bootstrap,
                embedded.redis_url,
                embedded.redis.port,
                tansu.pid if tansu is not None else 0,
                redis_pid,
            )
            return
        with ApacheKafka(KAFKA_PROPERTIES) as kafka:
            redis_url, redis_port = embedded.redis_url, embedded.redis.port
            yield BenchStack(broker, kafka.bootstrap, redis_url, redis_port, kafka.pid, redis_pid)
