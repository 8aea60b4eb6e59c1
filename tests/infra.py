"""Which Kafka and Redis the integration tests talk to.

In order of preference, separately for Kafka and for Redis:
1. ``KAFKA_BOOTSTRAP`` / ``REDIS_URL`` when set: external servers, used as they are;
2. testcontainers (``apache/kafka`` in KRaft mode, ``redis:7``) when a Docker
   engine answers within about a second;
3. embedded servers on free loopback ports: Valkey, and *both* brokers, Tansu
   (from its wheel) and Apache Kafka (the jars ``make kafka`` fetched, Java 17+).

The ``infra`` fixture is parametrized by :func:`kafka_choices`: ``tansu`` and
``kafka`` (test ids ``[tansu]``, ``[kafka]``) with embedded brokers, else the one
external broker (``[env]`` or ``[docker]``). Each broker is started once per
session; Valkey is shared. Always real servers over real connections; never mocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from streams.devtools.apache_kafka import ApacheKafka
from streams.devtools.embedded import EMBEDDED_SESSION_TIMEOUT_S, Broker, EmbeddedStack
from streams.devtools.supervision import free_port

KAFKA_IMAGE = "apache/kafka:3.9.0"
REDIS_IMAGE = "redis:7"


FIGURES: list[str] = []  # broker figures measured in the session (printed at its end)


@dataclass(frozen=True)
class Infra:
    kafka_bootstrap: str
    redis_url: str
    kafka_origin: str  # "env", "docker" or "embedded"
    redis_origin: str
    broker: Broker = "tansu"  # "kafka": Apache Kafka (embedded, container, or external)

    @property
    def worker_env(self) -> dict[str, str]:
        """``VANE_*`` settings a worker wants on this broker beyond the addresses: the
        embedded brokers take a 3 s session (fast joins); others get Vane's default."""
        if self.kafka_origin != "embedded":
            return {}
        return {"VANE_KAFKA_SESSION_TIMEOUT_S": str(EMBEDDED_SESSION_TIMEOUT_S)}

    @property
    def tansu(self) -> bool:
        """Tansu's gaps apply (INFRA.md): no log cleaner, old ApiVersions for librdkafka."""
        return self.broker == "tansu"


def docker_engine_answers(timeout_s: float = 1.0) -> bool:
    """True when a Docker engine answers a ping within ``timeout_s``."""
    host = os.environ.get("DOCKER_HOST", "")
    if not host and not Path("/var/run/docker.sock").exists():
        return False
    try:
        import docker

        client = docker.DockerClient(base_url=host or None, version="1.41", timeout=timeout_s)
        return bool(client.ping())
    except Exception:
        return False


@contextlib.contextmanager
def _kafka_container() -> Iterator[str]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    port = free_port()
    env = {
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093",
        "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://127.0.0.1:{port}",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        "KAFKA_MESSAGE_MAX_BYTES": str(8 * 1024 * 1024),
    }
    container = DockerContainer(KAFKA_IMAGE).with_bind_ports(9092, port)
    for key, value in env.items():
        container = container.with_env(key, value)
    with container:
        wait_for_logs(container, "Kafka Server started", timeout=60)
        yield f"127.0.0.1:{port}"


@contextlib.contextmanager
def _redis_container() -> Iterator[str]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    with DockerContainer(REDIS_IMAGE).with_exposed_ports(6379) as container:
        wait_for_logs(container, "Ready to accept connections", timeout=30)
        host = container.get_container_host_ip()
        yield f"redis://{host}:{container.get_exposed_port(6379)}/0"


@functools.cache
def docker_available() -> bool:
    """Whether a Docker engine answers (asked once per session)."""
    return docker_engine_answers()


def kafka_choices() -> list[str]:
    """The ``infra`` fixture's parameters: the external broker, else both embedded ones."""
    if os.environ.get("KAFKA_BOOTSTRAP"):
        return ["env"]
    return ["docker"] if docker_available() else ["tansu", "kafka"]


def broker_of(bootstrap: str) -> Broker:
    """Which broker answers at ``bootstrap``: Tansu names its cluster ``tansu_cluster``."""

    async def cluster_id() -> str:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            return str((await admin.describe_cluster())["cluster_id"])
        finally:
            await admin.close()

    return "tansu" if asyncio.run(cluster_id()).startswith("tansu") else "kafka"


class Servers:
    """The session's servers, each started on first use and stopped by ``close``.

    Redis (``redis_url``) and Tansu live for the whole session; an embedded Apache
    Kafka lives as long as the ``kafka`` parameter's tests (``kafka(choice)``).
    """

    def __init__(self) -> None:
        self._stack = contextlib.ExitStack()
        self._redis: tuple[str, str] | None = None
        self._embedded: EmbeddedStack | None = None
        self._container: str | None = None

    def close(self) -> None:
        self._stack.close()

    def redis(self) -> tuple[str, str]:
        """The Redis URL and where it comes from ("env", "docker" or "embedded")."""
        if self._redis is None:
            if url := os.environ.get("REDIS_URL"):
                self._redis = url, "env"
            elif docker_available():
                self._redis = self._stack.enter_context(_redis_container()), "docker"
            else:
                self._redis = self.embedded().redis_url, "embedded"
        return self._redis

    def embedded(self) -> EmbeddedStack:
        """Tansu and Valkey, started once."""
        if self._embedded is None:
            self._embedded = self._stack.enter_context(EmbeddedStack())
        return self._embedded

    @contextlib.contextmanager
    def kafka(self, choice: str) -> Iterator[Infra]:
        """``Infra`` for one of :func:`kafka_choices` (a broker started here stops at exit)."""
        redis_url, redis_origin = self.redis()
        if choice == "kafka":
            with _apache_kafka() as bootstrap:
                yield Infra(bootstrap, redis_url, "embedded", redis_origin, "kafka")
        elif choice == "tansu":
            yield Infra(self.embedded().kafka_bootstrap, redis_url, "embedded", redis_origin)
        elif choice == "docker":
            if self._container is None:
                self._container = self._stack.enter_context(_kafka_container())
            yield Infra(self._container, redis_url, "docker", redis_origin, "kafka")
        else:
            bootstrap = os.environ["KAFKA_BOOTSTRAP"]
            yield Infra(bootstrap, redis_url, "env", redis_origin, broker_of(bootstrap))


@contextlib.contextmanager
def _apache_kafka() -> Iterator[str]:
    """An embedded Apache Kafka; its start time and memory go to ``FIGURES``."""
    with ApacheKafka() as broker:
        first_mib = broker.rss_bytes() / 2**20
        yield broker.bootstrap
        last_mib = broker.rss_bytes() / 2**20
        FIGURES.append(
            f"Apache Kafka (embedded): started in {broker.start_s:.1f} s; RSS "
            f"{first_mib:.0f} MiB after start, {last_mib:.0f} MiB after its tests"
        )


def port_is_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
