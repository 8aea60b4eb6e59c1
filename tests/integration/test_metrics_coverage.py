"""Every metric streams/metrics.py declares is set by a run of the real worker.

A declared metric that nothing records is a dashboard panel that is always empty
(``vane_redis_call_duration_seconds`` was one). A worker replays a small generated
marketplace over three days (intake, scoring, weight updates, day-close sweeps),
plus a malformed message (a dead letter) and an upstream duplicate; then every
declared family must have a sample on /metrics that moved from its zero. The
families that only a fault moves are listed in ``NEED_A_FAULT``, each with the
fault test that asserts on it.
"""

from __future__ import annotations

import datetime as dt
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.exposition import choose_encoder

from streams import codec
from tests import kafka_helpers as kafka
from tests.deploy.tools import ROOT, defined_families
from tests.infra import Infra
from tests.pipeline import vane
from tests.samples import key_of
from tests.worker_process import Samples, WorkerProcess, topic_names, wait_until, worker_env

pytestmark = pytest.mark.integration

# Moved only by a fault; each is asserted on in the test named (by the string given).
NEED_A_FAULT = {
    "vane_redis_errors": ("tests/soak/test_faults.py", "vane_redis_errors_total"),
    "vane_redis_retries": ("tests/integration/test_redis_faults.py", "vane_redis_retries_total"),
    "vane_publish_errors": (
        "tests/integration/test_publish_faults.py",
        "vane_publish_errors_total",
    ),
    "vane_sweep_leases_lost": (
        "tests/integration/test_sweep_lease.py",
        "vane_sweep_leases_lost_total",
    ),
    # A crash or rebalance re-delivers what was applied.
    "vane_redelivered_updates": (
        "tests/integration/test_worker_crash.py",
        "vane_redelivered_updates_total",
    ),
    # A group reset past the dedupe horizon, or a recreated topic: the store's result
    # (ApplyResult.rewinds) is what streams/scoring/stage.py counts.
    "vane_offset_rewinds": ("tests/integration/test_store_offsets.py", "result.rewinds"),
    # A takeover of a dead writer's outbox entry, or a send that landed late.
    "vane_outbox_resends": ("tests/integration/test_outbox.py", "outbox_resends.labels("),
}
OPENMETRICS = "application/openmetrics-text; version=1.0.0"
# A family's sample that shows it was set: the counter's or histogram count's value.
SET_BY = {"counter": "_total", "histogram": "_count", "gauge": ""}


def test_every_fault_only_metric_is_declared_and_asserted_by_its_fault_test() -> None:
    families = defined_families()
    for family, (path, needle) in NEED_A_FAULT.items():
        assert family in families, f"{family} is not declared any more: drop it here"
        assert needle in (ROOT / path).read_text(), f"{path} does not assert on {family}"


def _moved(samples: Samples) -> set[str]:
    """Families with a sample off zero (a gauge set to 0 counts: it was set)."""
    moved = set()
    for family, (kind, _) in defined_families().items():
        name = family + SET_BY[kind]
        values = [v for (n, _), v in samples.items() if n == name]
        if values and (kind == "gauge" or any(values)):
            moved.add(family)
    return moved


def test_a_run_of_the_worker_sets_every_declared_metric(
    infra: Infra, unique: str, tmp_path: Path
) -> None:
    topics = topic_names(unique)
    kafka.create_topics(infra.kafka_bootstrap, list(topics.values()))
    env = worker_env(infra, unique, topics, tmp_path) | {"VANE_LAG_INTERVAL_S": "0.5"}
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(days=4)).date().isoformat()
    market = tmp_path / "market.jsonl"
    vane(
        *("generate", "--days", "3", "--start", start, "--shops", "4", "--creators", "2"),
        *("--orders-per-day", "40", "--out", str(market), "--quiet"),
        env={},
    )
    with WorkerProcess(env, tmp_path / "worker.log") as worker:
        kafka.produce(infra.kafka_bootstrap, topics["orders"], [(b"bad", b"not json")])
        vane("replay", str(market), "--wait", "--timeout", "240", env=env)
        # An upstream duplicate: an event already applied, again at another offset.
        paid = next(line for line in market.read_bytes().splitlines() if b"order.paid" in line)
        body = codec.loads(paid)
        kafka.produce(infra.kafka_bootstrap, topics["orders"], [(key_of(body), paid)])

        # prometheus_client's content negotiation: the text format, or OpenMetrics.
        url = f"http://127.0.0.1:{worker.web_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as plain:
            assert plain.headers["Content-Type"] == choose_encoder("")[1]  # version, charset
        asked = urllib.request.Request(url, headers={"Accept": OPENMETRICS})
        with urllib.request.urlopen(asked, timeout=5) as answer:
            assert answer.headers["Content-Type"].startswith(OPENMETRICS)
            assert answer.read().rstrip().endswith(b"# EOF")

        def missing() -> set[str]:
            worker.assert_running()
            return set(defined_families()) - set(NEED_A_FAULT) - _moved(worker.metrics())

        try:
            wait_until(lambda: not missing(), timeout_s=30, interval_s=0.5, what="metrics")
        except AssertionError:
            raise AssertionError(f"declared, never set by the run: {sorted(missing())}") from None
        samples = worker.metrics()
    # prometheus_client's default collectors ride along.
    assert any(name == "process_cpu_seconds_total" for name, _ in samples)
    assert any(name == "python_info" for name, _ in samples)
