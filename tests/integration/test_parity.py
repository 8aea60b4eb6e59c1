"""Parity: a generated marketplace replayed through the stream equals score-file in process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from streams import codec
from tests.infra import Infra
from tests.pipeline import assert_same_final_state, replay_and_snapshot, rows, vane

pytestmark = pytest.mark.integration

SMALL = ["--days", "30", "--shops", "30", "--creators", "15", "--orders-per-day", "250"]
# VANE_PARITY_FULL=1: the generator's default 30-day marketplace (~175k events; make soak).
GENERATE = [] if os.environ.get("VANE_PARITY_FULL") else SMALL


def spearman(xs: list[float], ys: list[float]) -> float:
    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(len(values)), key=values.__getitem__)
        r = [0.0] * len(values)
        for rank, i in enumerate(order):
            r[i] = float(rank)
        return r

    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    var = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return cov / var


def test_replay_then_snapshot_equals_score_file(infra: Infra, unique: str, tmp_path: Path) -> None:
    events, truth = tmp_path / "market.jsonl.gz", tmp_path / "truth.jsonl"
    vane("generate", *GENERATE, "--out", str(events), "--ground-truth", str(truth), env={})
    stream, _ = replay_and_snapshot(infra, unique, tmp_path, events)
    print(vane("score-file", str(events), "--out", str(tmp_path / "file.jsonl"), env={}))
    file = rows(tmp_path / "file.jsonl")
    assert_same_final_state(stream, file)

    hidden = {
        (r["entity_type"], r["entity_id"]): r["quality"]
        for r in map(codec.loads, truth.read_bytes().splitlines())
    }
    shops = [
        k
        for k, r in stream.items()
        if k[0] == "shop" and r["score_exact"] is not None and k in hidden
    ]
    rho = spearman([hidden[k] for k in shops], [stream[k]["score_exact"] for k in shops])
    print(f"{len(stream)} entities equal; Spearman(hidden quality, shop score) = {rho:.3f}")
    assert rho > 0.5
