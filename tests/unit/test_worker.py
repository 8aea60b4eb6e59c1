"""``streams.worker.build``: the outbox settings reach the re-scorer and the scan's timer."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

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
