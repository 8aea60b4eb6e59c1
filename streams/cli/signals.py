"""Signal handling shared by the long-running commands.

A Ctrl-C (SIGINT) or a stop (SIGTERM) only sets an event that the command's loop
polls. Raising ``KeyboardInterrupt`` wherever the signal lands instead can leave
a child's ``Popen`` wait lock held (CPython's ``poll`` takes it without a guard
against asynchronous exceptions), and the next ``wait`` then hangs forever.

    stop = stop_on_signals()
    while not stop.wait(0.5):
        check_children()
"""

from __future__ import annotations

import signal
import threading
from types import FrameType


def stop_on_signals() -> threading.Event:
    """An event set by SIGINT or SIGTERM; the default handlers are replaced."""
    stop = threading.Event()

    def _set(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _set)
    signal.signal(signal.SIGTERM, _set)
    return stop


def exit_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so that context managers clean up."""
    signal.signal(signal.SIGTERM, _exit)


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
