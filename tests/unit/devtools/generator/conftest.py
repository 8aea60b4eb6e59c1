"""One default-size run, generated once per session and shared by the generator tests."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from streams import codec
from streams.devtools.generator import GeneratorConfig, Summary, build, write, write_truth
from streams.events import Event, Stream
from streams.intake.contract import parse
from streams.intake.table import TYPES_BY_STREAM

STREAM_OF_TYPE: dict[str, Stream] = {t: s for s, types in TYPES_BY_STREAM.items() for t in types}


@dataclass(frozen=True)
class Run:
    config: GeneratorConfig
    path: Path
    lines: list[bytes]
    events: list[Event]  # parsed by the contract, in file order
    truth: list[dict[str, Any]]
    summary: Summary
    seconds: float  # marketplace, ground truth and events, end to end


def parse_line(line: bytes) -> Event:
    """The contract's view of one line, on the topic its type belongs to."""
    return parse(STREAM_OF_TYPE[codec.loads(line)["type"]], line)


@pytest.fixture(scope="session")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    config = GeneratorConfig()
    folder = tmp_path_factory.mktemp("generated")
    path, truth_path = folder / "events.jsonl", folder / "truth.jsonl"
    started = time.perf_counter()
    write_truth(build(config), str(truth_path))
    summary = write(config, str(path))
    seconds = time.perf_counter() - started
    lines = path.read_bytes().splitlines(keepends=True)
    events = [parse_line(line) for line in lines]
    truth = [codec.loads(line) for line in truth_path.read_bytes().splitlines()]
    return Run(config, path, lines, events, truth, summary, seconds)
