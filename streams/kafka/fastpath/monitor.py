"""``LeanMonitor``: Faust's monitor without its per-message bookkeeping.

Faust calls its monitor (a sensor) several times per message: message in,
stream event in and out, message out, the partition's end offset. Vane never
reads those figures (its metrics are ``streams.metrics``), so those hooks do
nothing here; everything per commit, send, rebalance or web request is kept.
Replacing the monitor with a plain ``Sensor`` crashes the worker (INFRA.md):
Faust reads monitor attributes elsewhere, so this stays a ``Monitor``.
"""

from __future__ import annotations

from typing import Any

from faust.sensors.monitor import Monitor


class LeanMonitor(Monitor):
    """A Faust ``Monitor`` whose per-message and per-event hooks are no-ops."""

    def on_message_in(self, tp: Any, offset: int, message: Any) -> None:
        return None

    def on_stream_event_in(self, tp: Any, offset: int, stream: Any, event: Any) -> None:
        return None

    def on_stream_event_out(
        self, tp: Any, offset: int, stream: Any, event: Any, state: Any = None
    ) -> None:
        return None

    def on_message_out(self, tp: Any, offset: int, message: Any) -> None:
        return None

    def track_tp_end_offset(self, tp: Any, offset: int) -> None:
        return None
