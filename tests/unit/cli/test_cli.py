"""The CLI's contract with a person: help everywhere, one-line errors, no tracebacks."""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from streams import codec
from streams.cli.worker import web_address
from streams.settings import WorkerSettings
from tests.samples import sample

EXISTING = str(Path(__file__))


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
        (("replay", "nofile"), {}, "'nofile' does not exist"),
        (("score-file", "nofile"), {}, "'nofile' does not exist"),
        (("score-file", EXISTING, "--out", "/no/such/dir/x.jsonl"), {}, "'/no/such/dir' does"),
        (("generate", "--out", "/no/such/dir/m.jsonl"), {}, "'/no/such/dir' does not exist"),
        (("weights",), {"VANE_KAFKA_BOOTSTRAP": "notahost"}, "VANE_KAFKA_BOOTSTRAP='notahost'"),
        (("replay", EXISTING), {"KAFKA_BOOTSTRAP": "127.0.0.1:abc"}, "must be host:port"),
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


def assert_one_line(result: subprocess.CompletedProcess[str], code: int, fragment: str) -> None:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vane: error: ")
    assert fragment in lines[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_a_truncated_gzip_names_the_cause(tmp_path: Path) -> None:
    whole = gzip.compress(b" \n" * 100_000)  # blank lines: skipped, nothing else said
    cut = tmp_path / "market.jsonl.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    assert_one_line(vane("score-file", str(cut)), 1, f"{cut}: truncated")
    assert_one_line(vane("replay", str(cut)), 1, f"{cut}: truncated")


def test_score_file_fails_when_every_line_is_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"type": "order.paid"}\nnot json\n')
    result = vane("score-file", str(bad))
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[:2] == [line for line in lines if line.startswith("line ")]
    assert lines[-1] == f"vane: error: {bad}: all 2 lines were rejected: nothing scored"
    assert "Traceback" not in result.stderr
    good = tmp_path / "good.jsonl"
    good.write_bytes(bad.read_bytes() + codec.dumps(sample("order.paid")) + b"\n")
    assert vane("score-file", str(good), "--out", str(tmp_path / "s.jsonl")).returncode == 0


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def test_a_port_that_is_not_kafka_fails_promptly_with_one_line(silent_port: int) -> None:
    env = {"KAFKA_BOOTSTRAP": f"127.0.0.1:{silent_port}"}
    result = vane("replay", EXISTING, env=env)  # within vane()'s 60 s, not aiokafka's 40 s + ...
    assert_one_line(result, 1, "accepts connections but stays silent")


def test_a_worker_whose_web_port_is_taken_says_so(silent_port: int) -> None:
    env = {"VANE_WEB_HOST": "127.0.0.1", "VANE_WEB_PORT": str(silent_port)}
    assert_one_line(vane("worker", "-l", "info", env=env), 1, f"127.0.0.1:{silent_port}")
    taken = vane("worker", "--web-port", str(silent_port), env={"VANE_WEB_HOST": "127.0.0.1"})
    assert_one_line(taken, 1, "cannot listen")


def test_a_worker_without_kafka_says_so() -> None:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        closed = probe.getsockname()[1]  # nothing listens once it is closed
    with socket.create_server(("127.0.0.1", 0)) as probe:
        web = probe.getsockname()[1]
    env = {"KAFKA_BOOTSTRAP": f"127.0.0.1:{closed}", "VANE_WEB_PORT": str(web)}
    result = vane("worker", "-l", "info", env=env)
    assert_one_line(result, 1, f"cannot use kafka at 127.0.0.1:{closed}")


@pytest.mark.parametrize(
    ("options", "address"),
    [
        ({"web_port": None, "web_bind": None, "with_web": True}, ("127.0.0.1", 6066)),
        ({"web_port": 7000, "web_bind": None, "with_web": True}, ("127.0.0.1", 7000)),
        ({"web_port": 7001, "web_bind": "0.0.0.0", "with_web": True}, ("0.0.0.0", 7001)),
        ({"web_port": None, "web_bind": None, "with_web": False}, None),
    ],
)
def test_the_worker_checks_the_port_faust_will_bind(
    options: dict[str, object], address: tuple[str, int] | None
) -> None:
    """Faust's own parse of its worker options (``--web-port``, ``-b``, ``--without-web``)."""
    assert web_address(WorkerSettings(web_host="127.0.0.1"), options) == address


def test_a_misspelt_variable_gets_a_warning_with_the_closest_name() -> None:
    result = vane("--help", env={"VANE_KAFKA_BOOTSTRAPS": "h:1", "VANE_KAFKA_HOME": "/opt"})
    assert result.returncode == 0
    assert result.stderr.splitlines() == [
        "vane: warning: VANE_KAFKA_BOOTSTRAPS is not a setting, ignored; "
        "did you mean VANE_KAFKA_BOOTSTRAP?"
    ]
