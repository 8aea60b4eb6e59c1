"""The PNG of a results document: throughput, CPU, state per entity, latency, per broker.

Six panels, each broker a colour: events/s per path (log scale, Vane / peer on
the scorer's bars), CPU seconds per 100k events per path, state bytes per entity
(Vane's Redis, in memory, beside the peer's RocksDB, on disk), the latency CDF,
the scale stage (day-close sweep rates, memory per entity with a million
resident), and every target with its figure, met or missed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streams.devtools.benchmark.report import PATHS

COLOURS = {"tansu": "#36c", "kafka": "#c63"}
SHORT = {
    "ceiling": "(1) ceiling",
    "bare": "(2) Faust",
    "bare_fast": "(2b) Faust+ext",
    "scorer": "(3) Vane",
    "scorer_2": "(3b) Vane x2",
    "peer": "(P) Quix peer",
}


def chart(doc: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ((rate, cpu), (state, curve), (big, goals)) = plt.subplots(
        3, 2, figsize=(13, 13.5), dpi=80
    )
    columns = doc["brokers"]
    keys = [k for k in PATHS if any(k in c["paths"] for c in columns.values())]
    _bars(rate, columns, keys, "events_per_s", log=True)
    rate.set_title("throughput, same records (events/s, log)")
    _bars(cpu, columns, keys, "cpu_s_per_100k", log=False)
    cpu.set_title("consumer process CPU s per 100k events")
    _state(state, columns)
    _latency(curve, columns)
    _scale(big, columns)
    _targets(goals, columns)
    fig.suptitle(
        f"vane bench, {doc['workload']['events']:,} events, {doc['finished_at']} "
        f"({doc['machine']['cpus']} shared cores: absolute figures vary 2-3x between runs)",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _bars(ax: Any, columns: dict[str, Any], keys: list[str], field: str, *, log: bool) -> None:
    width = 0.8 / max(1, len(columns))
    values = []
    for j, (name, c) in enumerate(columns.items()):
        for i, key in enumerate(keys):
            p = c["paths"].get(key)
            if p is None:
                continue
            x = i + (j - (len(columns) - 1) / 2) * width
            ax.bar(
                x, p[field], width, color=COLOURS.get(name, "#888"), label=name if i == 0 else None
            )
            note = f"{p[field]:,.0f}" if log else f"{p[field]:.2f}"
            ax.annotate(note, (x, p[field]), ha="center", va="bottom", fontsize=7)
            values.append(p[field])
    ratios = [
        f"{name} {c['figures']['scorer_to_peer']:.2f}"
        for name, c in columns.items()
        if c["figures"]["scorer_to_peer"] is not None
    ]
    if log and ratios:  # once, in a corner: beside each bar the labels of two columns collide
        text = "Vane / peer, events/s: " + ", ".join(ratios)
        ax.text(0.01, 0.98, text, transform=ax.transAxes, va="top", fontsize=8)
    ax.set_xticks(range(len(keys)), [SHORT[k] for k in keys], fontsize=8)
    if log and values:
        ax.set_yscale("log")
        ax.set_ylim(bottom=min(values) / 3, top=max(values) * 4)
    elif values:
        ax.set_ylim(top=max(values) * 1.2)
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(axis="y", alpha=0.3)


def _state(ax: Any, columns: dict[str, Any]) -> None:
    labels, heights, colours = [], [], []
    for name, c in columns.items():
        f = c["figures"]
        labels.append(f"Vane Redis\n({name})")
        heights.append(f["mean_entity_kib"] or 0.0)
        colours.append(COLOURS.get(name, "#888"))
        if f["peer_state_kib_per_entity"] is not None:
            labels.append(f"peer RocksDB\n({name})")
            heights.append(f["peer_state_kib_per_entity"])
            colours.append("#999")
    drawn = ax.bar(labels, heights, color=colours)
    for rect, h in zip(drawn, heights, strict=True):
        ax.annotate(f"{h:.2f}", (rect.get_x() + rect.get_width() / 2, h), ha="center", va="bottom")
    ax.set_ylabel("KiB per entity")
    ax.set_title("state per entity: Vane's Redis (memory) vs the peer's RocksDB (disk)")
    ax.tick_params(axis="x", labelsize=8)


def _scale(ax: Any, columns: dict[str, Any]) -> None:
    found = [(n, c["scale"]) for n, c in columns.items() if c.get("scale")]
    if not found:
        ax.axis("off")
        ax.set_title("scale stage: not run")
        return
    name, scale = found[0]
    labels = [f"{s['workers']} worker{'s' if s['workers'] > 1 else ''}" for s in scale["sweeps"]]
    notes = sorted({s["note"] for s in scale["sweeps"] if s.get("note")})
    if notes:  # the same note under every bar would overlap its neighbour's
        ax.set_xlabel("; ".join(notes), fontsize=8)
    rates = [s["entities_per_s"] for s in scale["sweeps"]]
    drawn = ax.bar(labels, rates, color=COLOURS.get(name, "#888"))
    for rect, r in zip(drawn, rates, strict=True):
        ax.annotate(
            f"{r:,.0f}/s", (rect.get_x() + rect.get_width() / 2, r), ha="center", va="bottom"
        )
    ax.axhline(20_000, color="#c33", linestyle="--", linewidth=1, label="target 20k/s per worker")
    beside = scale["scorer_beside_all"]["events_per_s"]
    alone = scale["scorer_beside_workload_only"]["events_per_s"]
    ax.set_title(
        f"{scale['entities']:,} resident entities ({name}): day-close sweep entities/s\n"
        f"{scale['bytes_per_entity_with_state']:,.0f} B Redis per entity; scorer beside them "
        f"{beside:,.0f} vs {alone:,.0f} events/s",
        fontsize=9,
    )
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(axis="y", alpha=0.3)


def _targets(ax: Any, columns: dict[str, Any]) -> None:
    ax.axis("off")
    names = list(columns)
    first = columns[names[0]]["targets"]
    rows = []
    for i, t in enumerate(first):
        cells = [columns[n]["targets"][i] for n in names]
        rows.append([t["target"]] + [_cell(c) for c in cells])
    table = ax.table(cellText=rows, colLabels=["target", *names], loc="center", cellLoc="left")
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.auto_set_column_width(list(range(len(names) + 1)))
    for (row, col), cell in table.get_celld().items():
        if row and col:
            met = columns[names[col - 1]]["targets"][row - 1]["met"]
            cell.set_facecolor("#dfd" if met else "#eee" if met is None else "#fdd")
    ax.set_title("issue 11's targets: figure, met (green) or missed (red)")


def _cell(target: dict[str, Any]) -> str:
    if target["met"] is None:
        return "not run"
    return f"{target['value']:,}" if isinstance(target["value"], int) else f"{target['value']}"


def _latency(ax: Any, columns: dict[str, Any]) -> None:
    for name, c in columns.items():
        lat = c["latency"]
        points = lat["cdf_ms"]
        ax.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            color=COLOURS.get(name, "#888"),
            label=f"{name}: p50 {lat['p50_ms']} / p99 {lat['p99_ms']} ms "
            f"at {lat['offered_per_s']:,.0f} events/s",
        )
    ax.axvline(250, color="#c33", linestyle="--", linewidth=1, label="target p99 250 ms")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_xlabel("event -> weight update (ms)")
    ax.set_ylabel("fraction of updates")
    ax.set_title("latency at half the scorer's capacity")
    ax.grid(alpha=0.3)
