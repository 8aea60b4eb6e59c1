"""The CLI's contract with a person: help everywhere, one-line errors, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def vane(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.mark.parametrize("args", [("--help",), ("stack", "--help"), ("worker", "--help")])
def test_help_everywhere(args: tuple[str, ...]) -> None:
    result = vane(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: vane")


def test_worker_help_is_fausts_worker_command() -> None:
    out = vane("worker", "--help").stdout
    assert "--web-port" in out
    assert "--loglevel" in out


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        (("frobnicate",), {}, "No such command 'frobnicate'"),
        (("stack", "--kafka-port", "eleven"), {}, "'eleven' is not a valid integer"),
        (("stack", "--nope"), {}, "No such option: --nope"),
        (("worker", "--no-such-flag"), {}, "No such option: --no-such-flag"),
        (("worker",), {"VANE_WEB_PORT": "99999"}, "VANE_WEB_PORT='99999'"),
    ],
)
def test_bad_input_gets_one_line(
    args: tuple[str, ...], env: dict[str, str], fragment: str
) -> None:
    result = vane(*args, env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vane: error: ")
    assert fragment in lines[0]
    assert "Traceback" not in result.stdout + result.stderr
