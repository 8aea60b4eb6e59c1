"""Run files of events through a real worker with the CLI, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from streams import codec
from tests import kafka_helpers as kafka
from tests.infra import Infra
from tests.worker_process import WorkerProcess, topic_names, worker_env

Rows = dict[tuple[str, str], dict[str, Any]]


def vane(*args: str, env: dict[str, str], timeout: float = 300) -> str:
    """Run a ``vane`` command; fail with its stderr unless it exits 0; stdout + stderr."""
    result = subprocess.run(
        [sys.executable, "-m", "streams.cli", *args],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=timeout, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


def rows(path: Path) -> Rows:
    """A snapshot / score-file JSONL, keyed by (entity_type, entity_id)."""
    out = {}
    for line in path.read_bytes().splitlines():
        row = codec.loads(line)
        out[(row["entity_type"], row["entity_id"])] = row
    return out


def replay_and_snapshot(
    infra: Infra, unique: str, tmp: Path, events: Path, extra_env: dict[str, str] | None = None
) -> tuple[Rows, dict[str, str]]:
    """A fresh worker (own topics, group, key prefix) replays ``events``; its snapshot."""
    topics = topic_names(unique)
    kafka.create_topics(infra.kafka_bootstrap, list(topics.values()))
    env = worker_env(infra, unique, topics, tmp) | (extra_env or {})
    out = tmp / f"snapshot-{unique}.jsonl"
    with WorkerProcess(env, tmp / f"worker-{unique}.log") as worker:
        vane("replay", str(events), "--wait", "--timeout", "240", env=env)
        vane("snapshot", "--out", str(out), env=env)
        worker.assert_running()
    return rows(out), env


def assert_same_final_state(got: Rows, want: Rows) -> None:
    """Same entities, scores within 1e-9, and (rulebook v2) the same tier, weight and boost:
    one history has one final state, whatever the path, batching or worker count."""
    assert set(got) == set(want)
    for key, expected in want.items():
        actual, score = got[key], expected["score_exact"]
        if score is None:
            assert actual["score_exact"] is None, key
        else:
            assert abs(actual["score_exact"] - score) <= 1e-9, key
        fields = ("tier", "weight", "boost")
        assert [actual[f] for f in fields] == [expected[f] for f in fields], (key, actual, score)


def market_with_expectation(folder: Path, config: Any) -> tuple[list[bytes], Rows]:
    """A generated marketplace's lines (``GeneratorConfig``) and score-file's final state."""
    from streams.devtools.generator import generate

    lines = [line.rstrip(b"\n") for _, line in generate(config)]
    path = folder / "market.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    vane("score-file", str(path), "--out", str(folder / "expected.jsonl"), env={})
    return lines, rows(folder / "expected.jsonl")
