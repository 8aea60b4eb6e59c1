"""Which Kafka and Redis the integration tests talk to.

In order of preference, separately for Kafka and for Redis:
1. ``KAFKA_BOOTSTRAP`` / ``REDIS_URL`` when set: external servers, used as they are;
2. testcontainers (``apache/kafka`` in KRaft mode, ``redis:7``) when a Docker
   engine answers within about a second;
3. the embedded stack (Tansu and Valkey from their wheels) on free loopback ports.

Always real servers over real connections; never mocks.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from streams.devtools.embedded import EmbeddedStack
from streams.devtools.supervision import free_port

KAFKA_IMAGE = "apache/kafka:3.9.0"
REDIS_IMAGE = "redis:7"


@dataclass(frozen=True)
class Infra:
    kafka_bootstrap: str
    redis_url: str
    kafka_origin: str  # "env", "docker" or "embedded"
    redis_origin: str


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


@contextlib.contextmanager
def provision() -> Iterator[Infra]:
    """Start (or find) the servers for one test session; stop what was started."""
    kafka_env = os.environ.get("KAFKA_BOOTSTRAP")
    redis_env = os.environ.get("REDIS_URL")
    with contextlib.ExitStack() as stack:
        docker = (not kafka_env or not redis_env) and docker_engine_answers()
        embedded: EmbeddedStack | None = None
        if not docker and (not kafka_env or not redis_env):
            embedded = stack.enter_context(EmbeddedStack())
        kafka, kafka_origin = _pick(kafka_env, docker, embedded, stack, "kafka")
        redis, redis_origin = _pick(redis_env, docker, embedded, stack, "redis")
        yield Infra(kafka, redis, kafka_origin, redis_origin)


def _pick(
    env_value: str | None,
    docker: bool,
    embedded: EmbeddedStack | None,
    stack: contextlib.ExitStack,
    which: str,
) -> tuple[str, str]:
    if env_value:
        return env_value, "env"
    if docker:
        factory = _kafka_container if which == "kafka" else _redis_container
        return stack.enter_context(factory()), "docker"
    assert embedded is not None
    return (embedded.kafka_bootstrap if which == "kafka" else embedded.redis_url), "embedded"


def port_is_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0
