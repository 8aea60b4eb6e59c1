"""``vane generate`` as a person meets it: help, files, stdout, one-line errors."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

SMALL = ("--days", "2", "--shops", "10", "--creators", "3", "--orders-per-day", "200")


def vane(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", "generate", *args],
        capture_output=True,
        timeout=120,
        env={**os.environ},
        check=False,
    )


def test_help_documents_the_knobs() -> None:
    result = vane("--help")
    assert result.returncode == 0
    out = result.stdout.decode()
    assert out.startswith("Usage: vane generate")
    knobs = ("--days", "--shops", "--creators", "--orders-per-day", "--seed", "--start")
    knobs += ("--max-skew-s", "--out", "--ground-truth", "Sizes with the defaults")
    for knob in knobs:
        assert knob in out


def test_writes_gzip_and_ground_truth_with_a_summary(tmp_path: Path) -> None:
    out, truth = tmp_path / "events.jsonl.gz", tmp_path / "truth.jsonl"
    result = vane(*SMALL, "--out", str(out), "--ground-truth", str(truth))
    assert result.returncode == 0, result.stderr
    lines = gzip.decompress(out.read_bytes()).splitlines()
    assert len(lines) > 500
    summary = result.stderr.decode().strip().splitlines()[-1]
    assert summary.startswith(f"vane generate: {len(lines)} events in ")
    assert "order.paid=" in summary
    assert truth.read_bytes().count(b'"entity_type":"shop"') == 10


def test_stdout_is_the_default_and_the_same_as_a_file(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    to_file, to_stdout = vane(*SMALL, "-q", "-o", str(out)), vane(*SMALL, "-q")
    assert to_file.returncode == to_stdout.returncode == 0
    assert to_stdout.stdout == out.read_bytes()
    assert to_file.stderr == to_stdout.stderr == b""


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--days", "0"), "Invalid value for '--days': 0 is not in the range"),
        (("--shops", "many"), "'many' is not a valid integer range"),
        (("--creators", "-1"), "Invalid value for '--creators'"),
        (("--orders-per-day", "0"), "Invalid value for '--orders-per-day'"),
        (("--start", "next tuesday"), "'next tuesday' is not a date-time like"),
        (("--max-skew-s", "-5"), "Invalid value for '--max-skew-s'"),
        (
            ("--out", "/no/such/dir/events.jsonl"),
            "folder '/no/such/dir' does not exist",  # before any work
        ),
        (("--nope",), "No such option: --nope"),
    ],
)
def test_bad_arguments_get_one_line(args: tuple[str, ...], fragment: str) -> None:
    result = vane(*args)
    assert result.returncode in (1, 2)
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vane: error: ")
    assert fragment in lines[0]
    assert b"Traceback" not in result.stdout + result.stderr


def test_a_closed_pipe_stops_quietly() -> None:
    command = [sys.executable, "-m", "streams.cli", "generate", "--days", "5", "-q"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.returncode == 1
        assert b"Traceback" not in proc.stderr.read()


def test_the_default_start_is_the_generators() -> None:
    from streams.cli.generate import DEFAULT_START as CLI_DEFAULT
    from streams.devtools.generator.config import DEFAULT_START

    assert DEFAULT_START.isoformat() == CLI_DEFAULT


def test_both_outputs_on_stdout_is_refused() -> None:
    result = vane("--ground-truth", "-")
    assert result.returncode == 2
    assert b"cannot both be stdout" in result.stderr
