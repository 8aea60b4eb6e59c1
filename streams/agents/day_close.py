"""The day-close timer: every second, run the sweep if one is due (streams.scoring.sweep)."""

from __future__ import annotations

import logging

import faust

from streams.errors import Interrupted, StoreError
from streams.scoring.sweep import DayCloseSweeper

log = logging.getLogger(__name__)

INTERVAL_S = 1.0


def register(app: faust.App, sweeper: DayCloseSweeper) -> None:
    async def day_close() -> None:
        try:
            await sweeper.tick()
        except (StoreError, Interrupted) as exc:
            log.warning("day-close check skipped: %s", exc)

    app.timer(INTERVAL_S, name="vane.day_close")(day_close)
