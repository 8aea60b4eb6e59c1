"""The results document: its shape, its ratios and targets, the table and the chart."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from streams.devtools.benchmark import chart, report
from streams.devtools.benchmark.figures import Throughput
from streams.devtools.benchmark.inprocess import ContractFigures, StoreFigures
from streams.devtools.benchmark.latency import LatencyRun
from streams.devtools.benchmark.peer_bench import Parity, PeerRun
from streams.devtools.benchmark.run import Options
from streams.devtools.benchmark.scale import ScaleRun, SweepRun
from streams.devtools.benchmark.scorer import ScorerRun
from streams.devtools.benchmark.workload import Record, Workload
from streams.devtools.generator import GeneratorConfig
from streams.events import Stream


def _scorer(per_s: float) -> ScorerRun:
    return ScorerRun(
        throughput=Throughput(events=200_000, seconds=200_000 / per_s, cpu_s=20.0),
        redis_cpu_s_per_100k=5.0,
        broker_cpu_s_per_100k=0.5,
        store_round_trips_per_event=0.002,
        redis_reads_per_event=0.014,
        weight_updates=1_000,
        weight_updates_per_s=25.0,
        entity_bytes={"entities": 10.0, "mean": 600.0, "p99": 1_200.0, "max": 1_536.0},
        redis_bytes_per_event=110.0,
    )


def _column(scorer_per_s: float) -> dict[str, Any]:
    records = [
        Record(Stream.ORDERS, b"o1", b"{}", "e1"),
        Record(Stream.SHIPPING, b"o1", b"{}", "e2"),
    ]
    return {
        "repeats": 2,
        "produce_per_s": 50_000.0,
        "latency_workload": Workload(records, GeneratorConfig(days=1)),
        "ceiling": Throughput(200_000, 1.0, 1.0),
        "bare": Throughput(200_000, 20.0, 17.0),
        "bare_fast": Throughput(200_000, 8.0, 6.0),
        "scorer": _scorer(scorer_per_s),
        "scorer_2": _scorer(scorer_per_s * 1.5),
        "peer": PeerRun(Throughput(200_000, 4.0, 2.0), 0.3, 1_000, 512_000, 5_000),
        "parity": Parity(1_000, 1_000),
        "latency": LatencyRun(2_500.0, 50_000, 4, [0.1, 0.2, 0.3, 0.4]),
        "wall_s": 90.0,
    }


def _scale() -> ScaleRun:
    return ScaleRun(
        entities=1_000_000,
        load_s=60.0,
        bytes_per_entity_windows=700.0,
        bytes_per_entity=900.0,
        sampled_bytes={"product": 500.0, "shop": 1_500.0, "creator": 800.0},
        scorer_small=_scorer(5_000.0),
        scorer_large=_scorer(4_500.0),
        sweeps=[
            SweepRun(1, 1_000_000, 50.0, True, False),
            SweepRun(2, 900_000, 27.0, False, True),
        ],
    )


@pytest.fixture
def raw() -> dict[str, Any]:
    records = [
        Record(Stream.ORDERS, b"o1", b"{}", "e1"),
        Record(Stream.SHIPPING, b"o1", b"{}", "e2"),
        Record(Stream.LIVESTREAM, b"r1", b"{}", "e3"),
    ]
    return {
        "options": Options(),
        "workload": Workload(records, GeneratorConfig(days=1)),
        "contract": ContractFigures(decode_per_s=1_000_000.0, parse_per_s=300_000.0),
        "store": StoreFigures(16_000.0, 0.002, 2.5, 2_432, 900, 800, 20, 15.0, 1.0),
        "brokers": {"tansu": _column(5_000.0) | {"scale": _scale()}, "kafka": _column(6_000.0)},
        "wall_s": 180.0,
    }


def test_paths_have_ratios_to_the_ceiling_and_to_bare_faust(raw: dict[str, Any]) -> None:
    paths = report.build(raw)["brokers"]["tansu"]["paths"]
    assert list(paths) == ["ceiling", "bare", "bare_fast", "scorer", "scorer_2", "peer"]
    assert paths["ceiling"]["to_ceiling"] == 1.0
    assert paths["bare"]["events_per_s"] == 10_000.0
    assert paths["bare"]["to_bare_faust"] == 1.0
    assert paths["bare"]["to_ceiling"] == 0.05
    assert paths["scorer"]["to_bare_faust"] == 0.5
    assert paths["scorer"]["cpu_s_per_100k"] == 10.0
    assert paths["scorer"]["redis_cpu_s_per_100k"] == 5.0
    assert paths["peer"]["events_per_s"] == 50_000.0


def test_figures_and_targets(raw: dict[str, Any]) -> None:
    column = report.build(raw)["brokers"]["tansu"]
    f = column["figures"]
    assert f["scorer_to_bare"] == 0.5
    assert f["scorer_to_bare_fast"] == 0.2
    assert f["two_workers_speedup"] == 1.5
    assert f["busy_shop_kib"] == 2.375
    assert f["latency_p50_ms"] == 250.0
    assert f["scorer_cpu_s_per_100k"] == 10.0
    assert f["dedupe_bytes_per_event"] == 15.0
    assert f["scale_mean_entity_kib"] == 0.879  # 900 B
    assert f["scale_throughput_ratio"] == 0.9
    assert f["sweep_per_s_1"] == 20_000.0
    assert f["sweep_speedup_2"] == 1.667
    assert f["sweep_1m_s_2"] == 30.0
    met = {t["figure"]: t["met"] for t in column["targets"]}
    assert met == {
        "scorer_to_bare_fast": False,
        "scorer_cpu_s_per_100k": False,
        "scorer_per_s": False,
        "redis_cpu_s_per_100k": False,
        "dedupe_bytes_per_event": True,
        "dedupe_round_trips_per_batch": True,
        "redis_round_trips_per_event": True,
        "latency_p99_ms": False,
        "scale_mean_entity_kib": True,
        "busy_shop_kib": False,
        "scale_throughput_ratio": True,
        "sweep_per_s_1": True,
        "sweep_1m_s_2": True,
        "sweep_speedup_2": False,
    }
    kafka = {t["figure"]: t["met"] for t in report.build(raw)["brokers"]["kafka"]["targets"]}
    assert kafka["sweep_per_s_1"] is None, "the scale stage runs on the first broker only"


def test_vane_against_the_peer(raw: dict[str, Any]) -> None:
    column = report.build(raw)["brokers"]["tansu"]
    f, peer = column["figures"], column["peer"]
    assert f["scorer_to_peer"] == 0.1  # 5,000 / 50,000 events/s
    assert f["scorer_cpu_to_peer"] == 10.0  # 10 / 1 CPU s per 100k
    assert f["peer_state_kib_per_entity"] == 0.5
    assert peer["cpu_s_per_100k"] == 1.0
    assert peer["parity"] == {"entities": 1_000, "equal": 1_000, "ok": True, "mismatches": []}


def test_brokers_side_by_side(raw: dict[str, Any]) -> None:
    doc = report.build(raw)
    assert list(doc["brokers"]) == ["tansu", "kafka"]
    assert doc["kafka_to_tansu"]["scorer"] == 1.2
    assert doc["kafka_to_tansu"]["ceiling"] == 1.0


def test_document_is_plain_json(raw: dict[str, Any], tmp_path: Path) -> None:
    doc = report.build(raw)
    report.write_json(doc, tmp_path / "out" / "latest.json")
    again = json.loads((tmp_path / "out" / "latest.json").read_text())
    assert again["schema"] == report.SCHEMA
    assert again["workload"]["by_topic"] == {
        "orders": 1, "shipping": 1, "refunds": 0, "livestream": 1
    }  # fmt: skip
    latency = again["brokers"]["kafka"]["latency"]
    assert latency["cdf_ms"][-1] == [400.0, 1.0]
    assert latency["workload"]["events"] == 2


def test_table_names_every_path_broker_and_target(raw: dict[str, Any]) -> None:
    text = report.table(report.build(raw))
    for label in report.PATHS.values():
        assert label in text
    assert "tansu events/s" in text
    assert "kafka events/s" in text
    assert "[tansu] Vane (scorer) / peer: events/s x0.1" in text
    assert "1,000/1,000 entities equal" in text
    assert text.count("tansu: MISSED") == 7
    assert text.count("tansu: met") == 7
    assert text.count("kafka: met") == 3
    assert text.count("kafka: not run") == 5
    assert "[tansu] scale: 1,000,000 entities loaded in 60.0 s" in text
    assert "1 worker(s) 20,000/s (50.0 s)" in text


def test_without_the_two_worker_run_or_the_peer(raw: dict[str, Any]) -> None:
    for column in raw["brokers"].values():
        del column["scorer_2"], column["peer"], column["parity"]
    doc = report.build(raw)
    tansu = doc["brokers"]["tansu"]
    assert "scorer_2" not in tansu["paths"]
    assert tansu["figures"]["two_workers_speedup"] is None
    assert tansu["figures"]["scorer_to_peer"] is None
    text = report.table(doc)
    assert "2 workers vs 1: not run" in text
    assert "[tansu] the peer did not run" in text


def test_one_broker_only(raw: dict[str, Any], tmp_path: Path) -> None:
    del raw["brokers"]["kafka"]
    doc = report.build(raw)
    assert doc["kafka_to_tansu"] == {}
    assert "kafka events/s" not in report.table(doc)
    chart.chart(doc, tmp_path / "latest.png")


def test_chart_is_a_png(raw: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "latest.png"
    chart.chart(report.build(raw), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
