"""Signal handling shared by the long-running commands."""

from __future__ import annotations

import signal
from types import FrameType


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so that context managers clean up."""
    signal.signal(signal.SIGTERM, _exit)


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
