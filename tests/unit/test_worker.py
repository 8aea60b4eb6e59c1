"""``streams.worker.build``: the outbox settings reach the re-scorer and the scan's timer."""

from __future__ import annotations

import asyncio
import io
import logging
import types
from pathlib import Path
from typing import Any

import faust
import pytest
from faust.utils.terminal.spinners import Spinner, SpinnerHandler

from streams import worker as wiring
from streams.settings import Settings


def test_the_outbox_settings_are_wired(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    made: dict[str, Any] = {}
    real_rescorer, real_register = wiring.Rescorer, wiring.outbox_scan.register

    def rescorer(*args: Any, **kwargs: Any) -> Any:
        made["rescorer"] = kwargs
        return real_rescorer(*args, **kwargs)

    def register(app: Any, scanner: Any, interval_s: float) -> None:
        made["scan_s"] = interval_s
        real_register(app, scanner, interval_s)

    before = asyncio.get_event_loop_policy()  # build() installs uvloop's: put it back after
    monkeypatch.setattr(wiring, "Rescorer", rescorer)
    monkeypatch.setattr(wiring.outbox_scan, "register", register)
    env = {"VANE_OUTBOX_TAKEOVER_S": "3", "VANE_OUTBOX_RECHECK_S": "20"}
    env |= {"VANE_OUTBOX_SCAN_S": "0.5", "VANE_DATA_DIR": str(tmp_path)}
    try:
        wiring.build(Settings.from_env(env))
    finally:
        asyncio.set_event_loop_policy(before)
    assert made == {
        "rescorer": {"takeover_after_ms": 3_000, "recheck_after_ms": 23_000},
        "scan_s": 0.5,
    }


def _faust_root_logger(level: int) -> logging.Logger:
    """A root logger as Faust's worker leaves it at ``level`` (its own code sets it up)."""
    logger = logging.getLogger(f"vane-test-root-{level}")  # the manager's: level caches cleared
    logger.handlers.clear()
    logger.addHandler(logging.StreamHandler(io.StringIO()))
    logger.setLevel(level)
    worker = types.SimpleNamespace(spinner=Spinner(file=io.StringIO()))
    if level >= logging.WARN:  # Worker.on_setup_root_logger: the spinner only from WARN
        faust.Worker._setup_spinner_handler(worker, logger, level)  # type: ignore[arg-type]
    return logger


def test_at_warn_the_running_worker_builds_no_debug_records() -> None:
    logger = _faust_root_logger(logging.WARN)
    assert logger.isEnabledFor(logging.DEBUG)  # what Faust leaves: DEBUG, and a spinner
    wiring._drop_startup_spinner(logger)
    assert not logger.isEnabledFor(logging.DEBUG)
    assert not logger.isEnabledFor(logging.INFO)
    assert logger.isEnabledFor(logging.WARN)
    assert not any(isinstance(h, SpinnerHandler) for h in logger.handlers)
    assert len(logger.handlers) == 1  # the one that writes stays


def test_at_info_the_root_logger_is_left_as_faust_set_it() -> None:
    logger = _faust_root_logger(logging.INFO)
    handlers = list(logger.handlers)
    wiring._drop_startup_spinner(logger)
    assert logger.level == logging.INFO
    assert logger.handlers == handlers
