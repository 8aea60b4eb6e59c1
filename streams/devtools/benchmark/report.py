"""The results: a JSON document, a summary table, a PNG chart.

``build(raw)`` turns a run's raw figures into the JSON document (one dict, plain
values, ``SCHEMA`` version); ``table(doc)`` renders the summary people read;
``chart(doc, path)`` draws throughput bars and the latency CDF.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
from dataclasses import asdict
from importlib.metadata import version
from pathlib import Path
from typing import Any

from streams import codec
from streams.devtools.benchmark.figures import Throughput, cdf, ratio

SCHEMA = 1
KIB = 1024
PATHS = {
    "ceiling": "(1) aiokafka + orjson (ceiling)",
    "bare": "(2) bare Faust agent, decode only",
    "bare_fast": "(2b) bare Faust + Vane's Faust extensions",
    "scorer": "(3) full scorer, 1 worker",
    "scorer_2": "(3b) full scorer, 2 workers",
}
# (key, description, target, comparison) -> evaluated against doc["figures"][key]
TARGETS = [
    ("scorer_to_bare", "scorer end to end >= 0.9 x bare Faust agent", 0.9, ">="),
    ("redis_round_trips_per_event", "<= 0.01 Redis round trips per event", 0.01, "<="),
    ("busy_shop_kib", "<= 2 KiB Redis memory per entity (busy shop, 90 days)", 2.0, "<="),
    ("mean_entity_kib", "<= 2 KiB Redis memory per entity (workload mean)", 2.0, "<="),
    ("latency_p99_ms", "p99 event -> weight update <= 250 ms at half capacity", 250.0, "<="),
    ("scorer_per_s", "stretch: >= 30k events/s per worker process", 30_000.0, ">="),
]


def _path(th: Throughput, ceiling: Throughput, bare: Throughput) -> dict[str, Any]:
    return {
        "events": th.events,
        "seconds": round(th.seconds, 3),
        "events_per_s": round(th.per_s, 1),
        "cpu_s_per_100k": round(th.cpu_s_per_100k, 3),
        "to_ceiling": _round(ratio(th.per_s, ceiling.per_s)),
        "to_bare_faust": _round(ratio(th.per_s, bare.per_s)),
    }


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None or math.isnan(value) else round(value, digits)


def build(raw: dict[str, Any]) -> dict[str, Any]:
    """The JSON document of one run."""
    ceiling, bare = raw["ceiling"], raw["bare"]
    wl, one = raw["workload"], raw["scorer"]
    paths = {
        key: _path(
            raw[key] if key in ("ceiling", "bare", "bare_fast") else raw[key].throughput,
            ceiling,
            bare,
        )
        for key in PATHS
        if key in raw
    }
    for key in ("scorer", "scorer_2"):
        if key in raw:
            paths[key]["redis_cpu_s_per_100k"] = round(raw[key].redis_cpu_s_per_100k, 3)
            paths[key]["broker_cpu_s_per_100k"] = round(raw[key].broker_cpu_s_per_100k, 3)
    lat, store = raw["latency"], raw["store"]
    figures = {
        "scorer_per_s": round(one.throughput.per_s, 1),
        "scorer_to_bare": _round(ratio(one.throughput.per_s, bare.per_s)),
        "scorer_to_bare_fast": _round(ratio(one.throughput.per_s, raw["bare_fast"].per_s)),
        "scorer_to_ceiling": _round(ratio(one.throughput.per_s, ceiling.per_s), 4),
        "two_workers_speedup": _round(
            ratio(raw["scorer_2"].throughput.per_s, one.throughput.per_s)
        )
        if "scorer_2" in raw
        else None,
        "redis_round_trips_per_event": _round(one.store_round_trips_per_event, 5),
        "redis_requests_per_event": _round(one.redis_reads_per_event, 5),
        "mean_entity_kib": _round(one.entity_bytes["mean"] / KIB),
        "p99_entity_kib": _round(one.entity_bytes["p99"] / KIB),
        "max_entity_kib": _round(one.entity_bytes["max"] / KIB),
        "busy_shop_kib": _round(store.busy_shop_bytes / KIB),
        "redis_bytes_per_event": _round(one.redis_bytes_per_event, 1),
        "weight_updates": one.weight_updates,
        "weight_updates_per_s": _round(one.weight_updates_per_s, 1),
        "latency_offered_per_s": round(lat.offered_per_s, 1),
        "latency_updates": lat.updates,
        "latency_p50_ms": _round(lat.p(50) * 1000, 1),
        "latency_p99_ms": _round(lat.p(99) * 1000, 1),
    }
    return {
        "schema": SCHEMA,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "workload": {
            "events": len(wl.records),
            "by_topic": wl.counts(),
            "distinct_keys": wl.entities(),
            "generator": asdict(wl.config),
            "produce_events_per_s": round(raw["produce_per_s"], 1),
        },
        "paths": paths,
        "figures": figures,
        "scorer": {k: _plain(v) for k, v in asdict(one).items() if k != "throughput"},
        "latency": {
            "what": "weight update's Kafka timestamp - send time of its cause event",
            "workload": {
                "events": len(raw["latency_workload"].records),
                "by_topic": raw["latency_workload"].counts(),
                "generator": asdict(raw["latency_workload"].config),
            },
            "offered_per_s": round(lat.offered_per_s, 1),
            "events": lat.events,
            "updates": lat.updates,
            "p50_ms": figures["latency_p50_ms"],
            "p90_ms": _round(lat.p(90) * 1000, 1),
            "p99_ms": figures["latency_p99_ms"],
            "max_ms": _round(max(lat.latencies_s, default=math.nan) * 1000, 1),
            "cdf_ms": [[round(v * 1000, 1), round(f, 4)] for v, f in cdf(lat.latencies_s, 100)],
        },
        "store": _plain(asdict(store)),
        "contract": _plain(asdict(raw["contract"])),
        "targets": _targets(figures),
        "wall_s": round(raw["wall_s"], 1),
        "repeats": raw["options"].repeats,
        "load_average_after": [round(x, 2) for x in raw.get("load_average", ())],
    }


def _targets(figures: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key, text, goal, sense in TARGETS:
        value = figures.get(key)
        met = value is not None and (value >= goal if sense == ">=" else value <= goal)
        out.append({"target": text, "figure": key, "value": value, "goal": goal, "met": met})
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return _round(value, 4)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "faust": version("faust-streaming"),
        "aiokafka": version("aiokafka"),
        "redis_py": version("redis"),
    }


def table(doc: dict[str, Any]) -> str:
    """The summary: every path with its ratios, then every figure and target."""
    head = f"path (fastest of {doc['repeats']})"
    lines = [f"{head:44s} {'events/s':>10s} {'CPU s/100k':>11s} {'/ (1)':>8s} {'/ (2)':>7s}"]
    for key, label in PATHS.items():
        p = doc["paths"].get(key)
        if p is None:
            continue
        lines.append(
            f"{label:44s} {p['events_per_s']:>10,.0f} {p['cpu_s_per_100k']:>11.2f} "
            f"{p['to_ceiling']:>8.4f} {p['to_bare_faust']:>7.3f}"
        )
    f, lat = doc["figures"], doc["latency"]
    s = doc["paths"]["scorer"]
    speedup = f["two_workers_speedup"]
    two = (
        "not run"
        if speedup is None
        else f"x{speedup} ({doc['paths']['scorer_2']['events_per_s']:,.0f} events/s)"
    )
    lines += [
        "",
        f"scorer / bare Faust {f['scorer_to_bare']}; / bare Faust + extensions "
        f"{f['scorer_to_bare_fast']}; / ceiling {f['scorer_to_ceiling']}",
        f"scorer's Redis server CPU {s['redis_cpu_s_per_100k']:.2f} s/100k events; "
        f"2 workers vs 1: {two}",
        f"Redis round trips per event (store's apply pipelines): "
        f"{f['redis_round_trips_per_event']}; every request the server read: "
        f"{f['redis_requests_per_event']} per event",
        f"Redis bytes per entity (windows + state): mean {f['mean_entity_kib']} KiB, "
        f"p99 {f['p99_entity_kib']} KiB, max {f['max_entity_kib']} KiB; busy shop after 90 "
        f"days: {f['busy_shop_kib']} KiB; used_memory growth {f['redis_bytes_per_event']} B/event",
        f"weight updates: {f['weight_updates']:,} ({f['weight_updates_per_s']:,.0f}/s)",
        f"latency event -> weight update at {lat['offered_per_s']:,.0f} events/s offered "
        f"(half capacity), {lat['updates']:,} updates: p50 {lat['p50_ms']} ms, "
        f"p90 {lat['p90_ms']} ms, p99 {lat['p99_ms']} ms",
        f"contract decode+validate {doc['contract']['parse_per_s']:,.0f} events/s "
        f"(decode only {doc['contract']['decode_per_s']:,.0f}); store apply alone "
        f"{doc['store']['apply_per_s']:,.0f} events/s, "
        f"{doc['store']['round_trips_per_event']} round trips/event",
        "",
    ]
    for t in doc["targets"]:
        lines.append(f"[{'met' if t['met'] else 'MISSED':>6s}] {t['target']}: {t['value']}")
    lines.append(f"wall time {doc['wall_s']:.0f} s")
    return "\n".join(lines)


def write_json(doc: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(codec.dumps_pretty(doc) + b"\n")


def chart(doc: dict[str, Any], path: Path) -> None:
    """Throughput bars (log scale, ratios to (2) on the bars) and the latency CDF."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (bars, curve) = plt.subplots(1, 2, figsize=(11, 4.8), dpi=80)
    keys = [k for k in PATHS if k in doc["paths"]]
    rates = [doc["paths"][k]["events_per_s"] for k in keys]
    labels = [PATHS[k].split(" ", 1)[0] for k in keys]
    drawn = bars.bar(labels, rates, color=["#888", "#4a7", "#2a5", "#36c", "#139"][: len(keys)])
    bars.set_yscale("log")
    bars.set_ylabel("events/s (log)")
    bars.set_title("throughput, same workload")
    for rect, key in zip(drawn, keys, strict=True):
        p = doc["paths"][key]
        bars.annotate(
            f"{p['events_per_s']:,.0f}\n{p['to_bare_faust']:.2f}x (2)",
            (rect.get_x() + rect.get_width() / 2, rect.get_height()),
            ha="center", va="bottom", fontsize=8,
        )  # fmt: skip
    bars.set_ylim(bottom=min(rates) / 4, top=max(rates) * 3)
    bars.set_xlabel("\n".join(PATHS[k] for k in keys), fontsize=7, loc="left")
    points = doc["latency"]["cdf_ms"]
    curve.plot([p[0] for p in points], [p[1] for p in points], color="#36c")
    curve.axvline(250, color="#c33", linestyle="--", linewidth=1, label="target p99 250 ms")
    curve.legend(loc="lower right", fontsize=8)
    curve.set_xlabel("event -> weight update (ms)")
    curve.set_ylabel("fraction of updates")
    lat = doc["latency"]
    curve.set_title(
        f"latency at {lat['offered_per_s']:,.0f} events/s: p50 {lat['p50_ms']} / "
        f"p99 {lat['p99_ms']} ms", fontsize=10,
    )  # fmt: skip
    curve.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
