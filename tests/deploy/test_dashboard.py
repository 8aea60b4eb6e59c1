"""The Grafana dashboard: loads into Grafana's own typed model (grafana-foundation-sdk)
and has the structure Grafana needs (unique ids, a 24-column grid, Prometheus targets)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models import prometheus
from grafana_foundation_sdk.models.dashboard import Dashboard, Panel, RowPanel

from tests.deploy.tools import DEPLOY

GRAFANA = DEPLOY / "grafana"
PATH = GRAFANA / "dashboards" / "vane.json"
PANEL_TYPES = {"row", "timeseries", "stat", "table", "gauge", "bargauge", "state-timeline"}


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return dict(json.loads(PATH.read_text()))


def test_loads_into_grafanas_typed_model(raw: dict[str, Any]) -> None:
    register_default_plugins()
    dashboard = Dashboard.from_json(raw)
    assert dashboard.uid == "vane-overview"
    assert dashboard.schema_version is not None
    assert dashboard.schema_version >= 36
    panels = dashboard.panels or []
    assert len(panels) == len(raw["panels"])
    for panel in panels:
        assert isinstance(panel, Panel | RowPanel)
        if isinstance(panel, Panel):
            assert panel.targets, panel.title
            assert all(isinstance(t, prometheus.Dataquery) for t in panel.targets), panel.title
    # Grafana's encoder writes it back; reading that again gives the same dashboard.
    encoded = json.loads(json.dumps(dashboard, cls=JSONEncoder))
    assert encoded["panels"][1]["targets"][0]["expr"] == raw["panels"][1]["targets"][0]["expr"]
    again = json.dumps(Dashboard.from_json(encoded), cls=JSONEncoder, sort_keys=True)
    assert again == json.dumps(encoded, sort_keys=True)


def test_panels_have_ids_titles_and_fit_the_grid(raw: dict[str, Any]) -> None:
    ids = [p["id"] for p in raw["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in raw["panels"]:
        assert panel["type"] in PANEL_TYPES, panel["type"]
        assert panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] >= 0, panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        mine = {
            (x, y)
            for x in range(grid["x"], grid["x"] + grid["w"])
            for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not mine & cells, f"{panel['title']} overlaps another panel"
        cells |= mine


def test_targets_query_prometheus_through_the_datasource_variable(raw: dict[str, Any]) -> None:
    variables = {v["name"]: v for v in raw["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in raw["panels"]:
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert target["datasource"] == panel["datasource"]


def test_required_views_are_there(raw: dict[str, Any]) -> None:
    titles = " | ".join(p["title"].lower() for p in raw["panels"])
    for topic in ("lag", "events in", "dead letters", "tier", "batch duration", "redis", "sweep"):
        assert topic in titles, topic


def test_provisioning_points_at_the_dashboard_and_prometheus() -> None:
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "vane.yml").read_text())
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    sources = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )
    assert sources["datasources"][0]["type"] == "prometheus"
    assert sources["datasources"][0]["url"] == "http://prometheus:9090"
