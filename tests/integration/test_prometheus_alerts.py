"""The alert rules proved on real series: a real Prometheus scrapes a real worker, and the
lag alert fires while the broker is paused.

Prometheus is the Debian package's binary (``make tools``), with a generated
prometheus.yml (1 s scrape and evaluation) and a test copy of
deploy/prometheus/alerts.yml in which ``VaneConsumerLagHigh`` waits 3 s, not 2
minutes, for 2 s, not 5 minutes: the test changes the rule's constants, never
its expression otherwise (the copy still passes ``promtool check rules``). The
broker is the test's own (SIGSTOP pauses it, as in test_ops_lag_sampler.py):
a backlog of dead letters keeps the worker busy, the broker is paused while the
lag sampler sees messages waiting, and the age of the oldest uncommitted message
keeps counting through the outage until the alert fires.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from streams.devtools.embedded import Broker, EmbeddedStack
from streams.devtools.supervision import free_port
from tests import kafka_helpers as kafka
from tests.deploy.tools import DEPLOY, promtool
from tests.infra import Infra
from tests.worker_process import WorkerProcess, topic_names, wait_until, worker_env

pytestmark = pytest.mark.integration

PROMETHEUS = shutil.which("prometheus")
ALERT = "VaneConsumerLagHigh"
BACKLOG = 30_000  # dead letters: several seconds of work for the worker


def fast_rules(folder: Path) -> Path:
    """alerts.yml with the lag alert's threshold and ``for`` shortened for a test."""
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    (rule,) = [r for g in rules["groups"] for r in g["rules"] if r.get("alert") == ALERT]
    assert rule["expr"].endswith("> 120"), rule["expr"]
    rule["expr"] = rule["expr"].removesuffix("> 120") + "> 3"
    rule["for"] = "2s"
    path = folder / "alerts.yml"
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    binary = promtool()
    if binary is not None:
        done = subprocess.run([binary, "check", "rules", str(path)], capture_output=True)
        assert done.returncode == 0, done.stdout + done.stderr
    return path


def prometheus_config(folder: Path, rules: Path, worker_port: int) -> Path:
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {
                "job_name": "vane",
                "static_configs": [{"targets": [f"127.0.0.1:{worker_port}"]}],
            }
        ],
    }
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def api(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
        return json.load(answer)["data"]


def firing(port: int) -> list[dict[str, Any]]:
    try:
        alerts = api(port, "/api/v1/alerts")["alerts"]
    except OSError:
        return []
    return [a for a in alerts if a["labels"]["alertname"] == ALERT and a["state"] == "firing"]


def lag_waiting(worker: WorkerProcess) -> bool:
    """The worker's lag sampler saw messages waiting at its last reading."""
    url = f"http://127.0.0.1:{worker.web_port}/lag"
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:
            return any(p["lag"] > 0 for p in json.load(answer)["partitions"])
    except OSError:
        return False


@pytest.mark.skipif(PROMETHEUS is None, reason="no prometheus binary: `make tools` installs it")
def test_the_lag_alert_fires_in_a_real_prometheus_while_the_broker_is_paused(
    tmp_path: Path, embedded_broker: Broker, unique: str
) -> None:
    assert PROMETHEUS is not None
    with EmbeddedStack(tmp_path / "stack", broker=embedded_broker) as stack:
        infra = Infra(stack.kafka_bootstrap, stack.redis_url, "embedded", "embedded")
        topics = topic_names(unique)
        kafka.create_topics(stack.kafka_bootstrap, list(topics.values()))
        env = worker_env(infra, unique, topics, tmp_path) | stack.worker_env
        env |= {"VANE_LAG_INTERVAL_S": "0.5"}
        with WorkerProcess(env, tmp_path / "worker.log") as worker:
            wait_until(lambda: worker.metrics(), timeout_s=60, what="the worker's /metrics")
            rules = fast_rules(tmp_path)
            port = free_port()
            argv = [
                PROMETHEUS,
                f"--config.file={prometheus_config(tmp_path, rules, worker.web_port)}",
                f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
            ]
            log = (tmp_path / "prometheus.log").open("wb")
            server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
            try:
                scenario(stack, worker, port, topics["orders"])
            finally:
                server.terminate()
                server.wait(timeout=30)
                log.close()


def scenario(stack: EmbeddedStack, worker: WorkerProcess, port: int, topic: str) -> None:
    def scraped() -> bool:
        try:
            targets = api(port, "/api/v1/targets")["activeTargets"]
        except OSError:  # not listening yet
            return False
        return bool(targets) and targets[0]["health"] == "up"

    wait_until(scraped, timeout_s=60, interval_s=0.5, what="Prometheus scraping the worker")
    rules = {r["name"] for g in api(port, "/api/v1/rules")["groups"] for r in g["rules"]}
    assert ALERT in rules, rules
    assert not firing(port)

    kafka.produce(stack.kafka_bootstrap, topic, [(f"k{i}".encode(), b"x") for i in range(BACKLOG)])
    wait_until(lambda: lag_waiting(worker), timeout_s=60, interval_s=0.1, what="a backlog")
    os.kill(stack.kafka_pid, signal.SIGSTOP)
    try:
        alerts = wait_until(lambda: firing(port), timeout_s=90, interval_s=1, what=ALERT)
        labels = alerts[0]["labels"]
        assert labels["topic"] == topic
        assert labels["group"] == worker.env["VANE_APP_ID"]
        assert labels["severity"] == "warning"
        assert alerts[0]["annotations"]["runbook_url"].startswith("docs/operations.md#")
        worker.assert_running()
    finally:
        os.kill(stack.kafka_pid, signal.SIGCONT)
