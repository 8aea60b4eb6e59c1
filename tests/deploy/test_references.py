"""Alerts and dashboard refer only to metrics (and labels) that streams/metrics.py defines."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.deploy.tools import (
    DEPLOY,
    SUFFIXES,
    TARGET_LABELS,
    defined_families,
    defined_series,
    grouping_labels,
    referenced,
)

DEFINED = defined_series()


def _alert_exprs() -> list[tuple[str, str]]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    return [(r["alert"], r["expr"]) for g in rules["groups"] for r in g["rules"]]


def _dashboard_exprs() -> list[tuple[str, str]]:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "vane.json").read_text())
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


EXPRS = _alert_exprs() + _dashboard_exprs()


def test_the_reference_check_sees_the_metrics() -> None:
    assert DEFINED["kafka_consumergroup_group_lag_seconds"] == {"group", "topic", "partition"}
    assert "vane_events_total" in DEFINED
    assert DEFINED["vane_batch_duration_seconds_bucket"] == {"topic", "le"}
    assert referenced('max(vane_x_total{topic="a", le=~"1"})') == [
        ("vane_x_total", {"topic", "le"})
    ]
    assert grouping_labels("sum by (topic, le) (x) / sum without(a) (y)") == {"topic", "le", "a"}


@pytest.mark.parametrize(("where", "expr"), EXPRS, ids=[w for w, _ in EXPRS])
def test_expression_refers_to_defined_metrics_and_labels(where: str, expr: str) -> None:
    series = referenced(expr)
    labels: set[str] = set()
    for name, keys in series:
        assert name in DEFINED, f"{where}: {name} is not defined in streams/metrics.py"
        assert keys <= DEFINED[name] | TARGET_LABELS, f"{where}: {name} has no label {keys}"
        labels |= DEFINED[name]
    if series:
        unknown = grouping_labels(expr) - labels - TARGET_LABELS
        assert not unknown, f"{where}: grouping by labels no metric has: {unknown}"


def test_every_defined_metric_is_on_the_dashboard() -> None:
    shown = {name for _, expr in _dashboard_exprs() for name, _ in referenced(expr)}
    missing = [
        family
        for family, (kind, _) in defined_families().items()
        if not any(family + suffix in shown for suffix in SUFFIXES[kind])
    ]
    assert not missing, f"metrics on no dashboard panel: {missing}"
