"""The results: a JSON document and the summary table (``chart`` draws the PNG).

``build(raw)`` turns a run's raw figures into the JSON document (one dict, plain
values, ``SCHEMA`` version): what all columns share (workload, machine, the
in-process figures) and one section per broker under ``brokers``, each with its
paths, figures, the peer and its parity, latency and targets. ``table(doc)``
renders the summary people read: the brokers side by side.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
from dataclasses import asdict
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from streams import codec
from streams.devtools.benchmark.figures import Throughput, cdf, ratio

SCHEMA = 2
KIB = 1024
PATHS = {
    "ceiling": "(1) aiokafka + orjson (ceiling)",
    "bare": "(2) bare Faust agent, decode only",
    "bare_fast": "(2b) bare Faust + Vane's Faust extensions",
    "scorer": "(3) full scorer, 1 worker",
    "scorer_2": "(3b) full scorer, 2 workers",
    "peer": "(P) peer: Quix Streams, same counters",
}
# (key, description, target, comparison) -> evaluated against a column's figures[key]:
# issue 11's points, in its order (a figure a column did not measure is "not run").
TARGETS = [
    ("scorer_to_bare_fast", "1. scorer >= 0.8 x bare Faust + Vane's extensions", 0.8, ">="),
    ("scorer_cpu_s_per_100k", "1. worker CPU <= 4 s per 100k events", 4.0, "<="),
    ("scorer_per_s", "1. moonshot: >= 20k events/s, 1 worker", 20_000.0, ">="),
    ("redis_cpu_s_per_100k", "2. Valkey CPU <= 2 s per 100k events", 2.0, "<="),
    ("dedupe_bytes_per_event", "3. dedupe markers <= 16 B per event in the horizon", 16.0, "<="),
    ("dedupe_round_trips_per_batch", "3. dedupe: <= 1 round trip per batch", 1.0, "<="),
    ("redis_round_trips_per_event", "<= 0.01 Redis round trips per event", 0.01, "<="),
    ("latency_p99_ms", "4. p99 event -> weight update <= 250 ms at half capacity", 250.0, "<="),
    ("scale_mean_entity_kib", "5. <= 1 KiB Redis per entity, 1M resident (mean)", 1.0, "<="),
    ("busy_shop_kib", "5. <= 2 KiB Redis for a busy shop after 90 days", 2.0, "<="),
    ("scale_throughput_ratio", "5. scorer beside 1M entities >= 0.8 x beside 1k", 0.8, ">="),
    ("sweep_per_s_1", "6. day-close sweep >= 20k entities/s, 1 worker", 20_000.0, ">="),
    ("sweep_1m_s_2", "6. 1M-entity day close < 60 s with 2 workers", 60.0, "<="),
    ("sweep_speedup_2", "6. sweep: 2 workers = 2 x 1 worker", 2.0, ">="),
]


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None or math.isnan(value) else round(value, digits)


def _path(th: Throughput, ceiling: Throughput, bare: Throughput) -> dict[str, Any]:
    return {
        "events": th.events,
        "seconds": round(th.seconds, 3),
        "events_per_s": round(th.per_s, 1),
        "cpu_s_per_100k": round(th.cpu_s_per_100k, 3),
        "to_ceiling": _round(ratio(th.per_s, ceiling.per_s)),
        "to_bare_faust": _round(ratio(th.per_s, bare.per_s)),
    }


def _throughput(raw: dict[str, Any], key: str) -> Throughput:
    value = raw[key]
    return value if isinstance(value, Throughput) else value.throughput


def build(raw: dict[str, Any]) -> dict[str, Any]:
    """The JSON document of one run."""
    wl, store = raw["workload"], raw["store"]
    columns = {name: _column(c, store) for name, c in raw["brokers"].items()}
    return {
        "schema": SCHEMA,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": _machine(),
        "workload": {
            "events": len(wl.records),
            "by_topic": wl.counts(),
            "distinct_keys": wl.entities(),
            "generator": asdict(wl.config),
        },
        "store": _plain(asdict(store)),
        "contract": _plain(asdict(raw["contract"])),
        "brokers": columns,
        "kafka_to_tansu": _across(columns),
        "wall_s": round(raw["wall_s"], 1),
        "load_average_after": [round(x, 2) for x in raw.get("load_average", ())],
    }


def _across(columns: dict[str, Any]) -> dict[str, float | None]:
    """events/s on Apache Kafka over events/s on Tansu, per path (when both ran)."""
    if not {"tansu", "kafka"} <= set(columns):
        return {}
    t, k = columns["tansu"]["paths"], columns["kafka"]["paths"]
    return {
        key: _round(ratio(k[key]["events_per_s"], t[key]["events_per_s"]))
        for key in PATHS
        if key in t and key in k
    }


def _column(raw: dict[str, Any], store: Any) -> dict[str, Any]:
    ceiling, bare, one = raw["ceiling"], raw["bare"], raw["scorer"]
    paths = {key: _path(_throughput(raw, key), ceiling, bare) for key in PATHS if key in raw}
    for key in ("scorer", "scorer_2"):
        if key in raw:
            paths[key]["redis_cpu_s_per_100k"] = round(raw[key].redis_cpu_s_per_100k, 3)
            paths[key]["broker_cpu_s_per_100k"] = round(raw[key].broker_cpu_s_per_100k, 3)
    figures = _figures(raw, store, paths) | _scale_figures(raw.get("scale"))
    return {
        "repeats": raw["repeats"],
        "produce_events_per_s": round(raw["produce_per_s"], 1),
        "paths": paths,
        "figures": figures,
        "scorer": {k: _plain(v) for k, v in asdict(one).items() if k != "throughput"},
        "peer": _peer(raw),
        "latency": _latency(raw, figures),
        "scale": _scale(raw.get("scale")),
        "targets": _targets(figures),
        "wall_s": round(raw["wall_s"], 1),
    }


def _figures(raw: dict[str, Any], store: Any, paths: dict[str, Any]) -> dict[str, Any]:
    one, bare, lat = raw["scorer"], raw["bare"], raw["latency"]
    per_s = one.throughput.per_s
    two = raw.get("scorer_2")
    peer = raw.get("peer")
    return {
        "scorer_per_s": round(per_s, 1),
        "scorer_to_bare": _round(ratio(per_s, bare.per_s)),
        "scorer_to_bare_fast": _round(ratio(per_s, raw["bare_fast"].per_s)),
        "scorer_to_ceiling": _round(ratio(per_s, raw["ceiling"].per_s), 4),
        "two_workers_speedup": _round(ratio(two.throughput.per_s, per_s)) if two else None,
        "scorer_to_peer": _round(ratio(per_s, peer.throughput.per_s), 4) if peer else None,
        "scorer_cpu_to_peer": _round(
            ratio(one.throughput.cpu_s_per_100k, peer.throughput.cpu_s_per_100k)
        )
        if peer
        else None,
        "peer_state_kib_per_entity": _round(peer.state_bytes_per_entity / KIB) if peer else None,
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
        "scorer_cpu_s_per_100k": _round(one.throughput.cpu_s_per_100k),
        "redis_cpu_s_per_100k": _round(one.redis_cpu_s_per_100k),
        "dedupe_bytes_per_event": _round(store.dedupe_bytes_per_event, 1),
        "dedupe_round_trips_per_batch": _round(store.dedupe_round_trips_per_batch),
    }


def _scale_figures(scale: Any) -> dict[str, Any]:
    """Stage (5)'s figures (None where it did not run: on a later column, or skipped)."""
    keys = [
        "scale_entities",
        "scale_mean_entity_kib",
        "scale_throughput_ratio",
        "sweep_per_s_1",
        "sweep_per_s_2",
        "sweep_speedup_2",
        "sweep_1m_s_2",
    ]
    if scale is None:
        return dict.fromkeys(keys)
    one, two = scale.sweeps
    small, large = scale.scorer_small.throughput.per_s, scale.scorer_large.throughput.per_s
    return {
        "scale_entities": scale.entities,
        "scale_mean_entity_kib": _round(scale.bytes_per_entity / KIB),
        "scale_throughput_ratio": _round(ratio(large, small)),
        "sweep_per_s_1": _round(one.per_s, 1),
        "sweep_per_s_2": _round(two.per_s, 1),
        "sweep_speedup_2": _round(ratio(two.per_s, one.per_s)),
        "sweep_1m_s_2": _round(1_000_000 / two.per_s, 1) if two.per_s else None,
    }


def _scale(scale: Any) -> dict[str, Any] | None:
    if scale is None:
        return None
    return {
        "what": "entities preloaded in marketplace proportions (87.9 % products, 7.1 % shops, "
        "5.0 % creators) with 90-day histories; the scorer on the same workload beside them "
        "and beside none, as of its last day with no sweeps; one day-close sweep request, "
        "swept by 1 worker for a window, then by 2 on the shards left",
        "entities": scale.entities,
        "load_s": round(scale.load_s, 1),
        "bytes_per_entity_windows_and_index": round(scale.bytes_per_entity_windows, 1),
        "bytes_per_entity_with_state": round(scale.bytes_per_entity, 1),
        "sampled_bytes_per_type": {k: round(v, 1) for k, v in scale.sampled_bytes.items()},
        "scorer_beside_workload_only": _scale_run(scale.scorer_small),
        "scorer_beside_all": _scale_run(scale.scorer_large),
        "sweeps": [
            {
                "workers": s.workers,
                "entities": s.entities,
                "seconds": round(s.seconds, 2),
                "entities_per_s": round(s.per_s, 1),
                "finished": s.finished,
                "note": "every entity swept published its first state"
                if s.first_states
                else "a day close of unchanged entities",
            }
            for s in scale.sweeps
        ],
    }


def _scale_run(run: Any) -> dict[str, Any]:
    return {
        "events_per_s": round(run.throughput.per_s, 1),
        "cpu_s_per_100k": round(run.throughput.cpu_s_per_100k, 3),
        "redis_cpu_s_per_100k": round(run.redis_cpu_s_per_100k, 3),
    }


def _peer(raw: dict[str, Any]) -> dict[str, Any] | None:
    peer = raw.get("peer")
    if peer is None:
        return None
    parity = raw.get("parity")
    return {
        "what": "Quix Streams: contract + models.counting, RocksDB state per entity and day, "
        "changelog, at-least-once, one message per changed entity per commit",
        "events_per_s": round(peer.throughput.per_s, 1),
        "cpu_s_per_100k": round(peer.throughput.cpu_s_per_100k, 3),
        "broker_cpu_s_per_100k": round(peer.broker_cpu_s_per_100k, 3),
        "entities": peer.entities,
        "messages": peer.messages,
        "state_bytes": peer.state_bytes,
        "state_bytes_per_entity": round(peer.state_bytes_per_entity, 1),
        "parity": None
        if parity is None
        else {
            "entities": parity.entities,
            "equal": parity.equal,
            "ok": parity.ok,
            "mismatches": parity.mismatches,
        },
    }


def _latency(raw: dict[str, Any], figures: dict[str, Any]) -> dict[str, Any]:
    lat, day = raw["latency"], raw["latency_workload"]
    return {
        "what": "weight update's Kafka timestamp - send time of its cause event",
        "workload": {
            "events": len(day.records),
            "by_topic": day.counts(),
            "generator": asdict(day.config),
        },
        "offered_per_s": round(lat.offered_per_s, 1),
        "events": lat.events,
        "updates": lat.updates,
        "p50_ms": figures["latency_p50_ms"],
        "p90_ms": _round(lat.p(90) * 1000, 1),
        "p99_ms": figures["latency_p99_ms"],
        "max_ms": _round(max(lat.latencies_s, default=math.nan) * 1000, 1),
        "cdf_ms": [[round(v * 1000, 1), round(f, 4)] for v, f in cdf(lat.latencies_s, 100)],
    }


def _targets(figures: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key, text, goal, sense in TARGETS:
        value = figures.get(key)
        met = None if value is None else value >= goal if sense == ">=" else value <= goal
        out.append({"target": text, "figure": key, "value": value, "goal": goal, "met": met})
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return _round(value, 4)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _machine() -> dict[str, Any]:
    out: dict[str, Any] = {"cpus": os.cpu_count(), "python": platform.python_version()}
    for key, package in (
        ("faust", "faust-streaming"),
        ("aiokafka", "aiokafka"),
        ("redis_py", "redis"),
        ("quixstreams", "quixstreams"),
    ):
        try:
            out[key] = version(package)
        except PackageNotFoundError:
            out[key] = None
    return out


def table(doc: dict[str, Any]) -> str:
    """The summary: every path per broker, Vane against the peer, figures and targets."""
    columns = doc["brokers"]
    names = list(columns)
    head = f"{'path':42s}" + "".join(
        f" | {n + ' events/s':>16s} {'CPU s/100k':>10s} {'/ (2)':>6s}" for n in names
    )
    lines = [head]
    for key, label in PATHS.items():
        cells = [columns[n]["paths"].get(key) for n in names]
        if all(c is None for c in cells):
            continue
        row = f"{label:42s}"
        for c in cells:
            row += (
                f" | {'-':>16s} {'-':>10s} {'-':>6s}"
                if c is None
                else f" | {c['events_per_s']:>16,.0f} {c['cpu_s_per_100k']:>10.2f} "
                f"{c['to_bare_faust']:>6.3f}"
            )
        lines.append(row)
    repeats = ", ".join(f"{n}: fastest of {columns[n]['repeats']}" for n in names)
    lines += [f"({repeats})", ""]
    for n in names:
        lines += _versus_peer(n, columns[n]) + _column_lines(n, columns[n]) + [""]
    if doc.get("kafka_to_tansu"):
        across = ", ".join(f"{k} x{v}" for k, v in doc["kafka_to_tansu"].items())
        lines += [f"events/s on Apache Kafka / on Tansu: {across}", ""]
    lines.append(
        f"contract decode+validate {doc['contract']['parse_per_s']:,.0f} events/s "
        f"(decode only {doc['contract']['decode_per_s']:,.0f}); store apply alone "
        f"{doc['store']['apply_per_s']:,.0f} events/s, "
        f"{doc['store']['round_trips_per_event']} round trips/event"
    )
    lines.append(
        f"dedupe markers {doc['store']['dedupe_bytes_per_event']} B/event, "
        f"{doc['store']['dedupe_round_trips_per_batch']} round trips per batch"
    )
    for n in names:
        lines += _scale_lines(n, columns[n].get("scale"))
    lines.append("")
    for i, t in enumerate(columns[names[0]]["targets"]):
        cells = [columns[n]["targets"][i] for n in names]
        marks = " ".join(
            f"[{n}: {_verdict(r['met'])} {r['value']}]" for n, r in zip(names, cells, strict=True)
        )
        lines.append(f"{t['target']}: {marks}")
    lines.append(f"wall time {doc['wall_s']:.0f} s")
    return "\n".join(lines)


def _verdict(met: bool | None) -> str:
    return "not run" if met is None else "met" if met else "MISSED"


def _scale_lines(name: str, scale: dict[str, Any] | None) -> list[str]:
    if scale is None:
        return []
    small, big = scale["scorer_beside_workload_only"], scale["scorer_beside_all"]
    sweeps = ", ".join(
        f"{s['workers']} worker(s) {s['entities_per_s']:,.0f}/s ({s['seconds']:.1f} s)"
        + ("" if s["finished"] else " [window over first]")
        for s in scale["sweeps"]
    )
    first = scale["sweeps"][0]["note"]
    return [
        f"[{name}] scale: {scale['entities']:,} entities loaded in {scale['load_s']} s; Redis "
        f"{scale['bytes_per_entity_with_state']:,.0f} B/entity with state "
        f"({scale['bytes_per_entity_windows_and_index']:,.0f} windows + index); per type "
        f"{scale['sampled_bytes_per_type']}",
        f"[{name}] scale: scorer beside them {big['events_per_s']:,.0f} events/s vs "
        f"{small['events_per_s']:,.0f} beside the workload's own; sweeps: {sweeps} ({first})",
    ]


def _versus_peer(name: str, c: dict[str, Any]) -> list[str]:
    peer, f, s = c["peer"], c["figures"], c["paths"]["scorer"]
    if peer is None:
        return [f"[{name}] the peer did not run"]
    parity = peer["parity"]
    same = (
        "not checked"
        if parity is None
        else f"{parity['equal']:,}/{parity['entities']:,} entities equal"
        + ("" if parity["ok"] else f" MISMATCH {parity['mismatches'][:2]}")
    )
    return [
        f"[{name}] Vane (scorer) / peer: events/s x{f['scorer_to_peer']} "
        f"({s['events_per_s']:,.0f} vs {peer['events_per_s']:,.0f}); CPU s per 100k "
        f"x{f['scorer_cpu_to_peer']} ({s['cpu_s_per_100k']:.2f} vs {peer['cpu_s_per_100k']:.2f})",
        f"[{name}] state per entity: Vane's Redis {f['mean_entity_kib']} KiB (mean, in memory); "
        f"the peer's RocksDB {f['peer_state_kib_per_entity']} KiB on disk "
        f"({peer['entities']:,} entities, {peer['messages']:,} counter messages); parity: {same}",
    ]


def _column_lines(name: str, c: dict[str, Any]) -> list[str]:
    f, lat, s = c["figures"], c["latency"], c["paths"]["scorer"]
    speedup = f["two_workers_speedup"]
    two = (
        "not run"
        if speedup is None
        else f"x{speedup} ({c['paths']['scorer_2']['events_per_s']:,.0f} events/s)"
    )
    return [
        f"[{name}] scorer / bare Faust {f['scorer_to_bare']}; / bare Faust + extensions "
        f"{f['scorer_to_bare_fast']}; / ceiling {f['scorer_to_ceiling']}; 2 workers vs 1: {two}",
        f"[{name}] scorer's Redis server CPU {s['redis_cpu_s_per_100k']:.2f} s/100k events, "
        f"broker CPU {s['broker_cpu_s_per_100k']:.2f}; Redis round trips per event "
        f"{f['redis_round_trips_per_event']} (every request: {f['redis_requests_per_event']})",
        f"[{name}] Redis bytes per entity: mean {f['mean_entity_kib']} KiB, p99 "
        f"{f['p99_entity_kib']}, max {f['max_entity_kib']}; busy shop after 90 days "
        f"{f['busy_shop_kib']} KiB; used_memory growth {f['redis_bytes_per_event']} B/event",
        f"[{name}] weight updates {f['weight_updates']:,} ({f['weight_updates_per_s']:,.0f}/s); "
        f"latency at {lat['offered_per_s']:,.0f} events/s offered, {lat['updates']:,} updates: "
        f"p50 {lat['p50_ms']} ms, p90 {lat['p90_ms']} ms, p99 {lat['p99_ms']} ms",
    ]


def write_json(doc: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(codec.dumps_pretty(doc) + b"\n")
