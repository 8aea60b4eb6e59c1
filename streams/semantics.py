"""The streaming rules that the window store and the backfill share, written once.

Three rules decide what an event does to the windows (SCORING.md §1, docs/semantics.md):

- **too late**: an event whose anchor day is more than ``TOO_LATE_DAYS`` before the
  as-of day (the day of stream time, this batch included) is refused whole;
- **upstream duplicates**: the first sighting of an ``event_id`` holds a marker with
  its position for the dedupe horizon (wall clock, from that sighting). While it
  holds, the same id at another position is a duplicate and dropped; at the same
  position it is a redelivery and let through (the per-partition watermark skips
  it later). Once the horizon has passed the id is new again, which is why a
  dropped duplicate still moves its own partition's watermark in the store: a
  rewind that re-reads it later is skipped by offset;
- **latest by (ts, event_id)**: a register or a label keeps the entry with the
  largest ``(ts, event_id)``; an equal one does not replace it.

The store runs them in Redis (``lua/dedupe.lua`` and ``lua/apply.lua``), the
backfill in memory (``Deduper``, ``newer``); a property test holds the store to
these definitions.

    >>> too_late(anchor_day=100, as_of_day=190), too_late(anchor_day=100, as_of_day=191)
    (False, True)
    >>> newer((5, "e2"), (5, "e1")), newer((5, "e1"), (5, "e1"))
    (True, False)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

TOO_LATE_DAYS: Final = 90  # SCORING.md §1: an anchor day older than this before the as-of day

Entry = tuple[int, str]  # (ts_ms, event_id)


def wall_clock_ms() -> int:
    """Epoch milliseconds now."""
    return int(time.time() * 1000)


def too_late(anchor_day: int, as_of_day: int) -> bool:
    """Whether an event anchored on ``anchor_day`` is too late for any window."""
    return anchor_day < as_of_day - TOO_LATE_DAYS


def counts(held: str | None, position: str) -> bool:
    """Whether an event at ``position`` counts, given the position its id's live marker
    holds (None: no live marker, i.e. a first sighting or the horizon has passed)."""
    return held is None or held == position


def newer(entry: Entry, old: Entry | None) -> bool:
    """Whether ``entry`` replaces ``old`` as the latest (None: nothing kept yet)."""
    return old is None or entry > old


class Deduper:
    """Upstream duplicates in memory: the store's markers, with the same horizon.

    A marker holds through ``horizon_ms`` after the first sighting, that last
    millisecond included, as a Redis key set with ``PX`` does. A position names
    one delivery (the store's ``<stream>:<partition>:<offset>``);
    the backfill, which has no redeliveries, numbers its events instead.
    """

    def __init__(self, horizon_ms: int, clock_ms: Callable[[], int] = wall_clock_ms) -> None:
        self._horizon_ms = horizon_ms
        self._clock_ms = clock_ms
        self._markers: dict[str, tuple[str, int]] = {}  # event_id -> (position, expires at)

    def admit(self, event_id: str, position: str) -> bool:
        """True if the event counts (see ``counts``); a first sighting sets the marker."""
        now = self._clock_ms()
        marker = self._markers.get(event_id)
        held = marker[0] if marker is not None and now <= marker[1] else None
        if held is None:
            self._markers[event_id] = (position, now + self._horizon_ms)
        return counts(held, position)
