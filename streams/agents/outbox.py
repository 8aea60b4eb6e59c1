"""The outbox timer: every few seconds, publish stranded outbox entries."""

from __future__ import annotations

import logging

import faust

from streams.errors import Interrupted, StoreError
from streams.scoring.outbox import OutboxScanner

log = logging.getLogger(__name__)

INTERVAL_S = 2.0


def register(app: faust.App, scanner: OutboxScanner, interval_s: float = INTERVAL_S) -> None:
    async def outbox_scan() -> None:
        try:
            await scanner.tick()
        except (StoreError, Interrupted) as exc:
            log.warning("outbox scan skipped: %s", exc)

    app.timer(interval_s, name="vane.outbox_scan")(outbox_scan)
