"""Livestream sessions: when they run, what they emit, when their orders are paid.

A creator goes live on a day with probability ``live_days_per_week / 7``, mostly in
the evening, for one to four hours (hosts of shops: two to six, from the morning).
A session emits ``live.started``, ``live.stats`` every five minutes (viewer-minutes
since the previous stats), ``live.report`` events at a rate per 1000 viewer-minutes
set by the creator's quality, perhaps one ``live.violation``, then ``live.ended``.
Flash sales (bursts) feature one product each: viewers jump and most of the
session's orders are paid in the minutes after a burst.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any, Final

from streams.devtools.generator.config import HOUR_MS, MINUTE_MS
from streams.devtools.generator.draw import between, pick
from streams.devtools.generator.events import Emitted
from streams.devtools.generator.marketplace import Creator, Product
from streams.events import Stream

STATS_EVERY_MS: Final = 5 * MINUTE_MS
BURST_SHARE: Final = 0.6  # of a session's orders, paid right after a flash sale
BURST_DECAY_MS: Final = 4 * MINUTE_MS
# Relative chance of a session starting at each local hour (UTC+08:00).
CREATOR_HOURS: Final = (1, 0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0.5, 1,
                        1.5, 1, 1, 1, 1, 1.5, 2, 4, 6, 6, 4, 2)  # fmt: skip
HOST_HOURS: Final = (0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 3,
                     2, 2, 3, 3, 2, 2, 2, 3, 3, 2, 1, 0)  # fmt: skip
REPORT_REASONS: Final = ("misleading", "vulgar", "other")


@dataclass(frozen=True, slots=True)
class Session:
    room_id: str
    host: Creator
    start: int
    end: int
    bursts: tuple[tuple[int, Product], ...]  # flash sales: when, and the featured product

    @property
    def weight(self) -> float:
        """Expected share of the day's livestream orders (viewer-hours)."""
        return self.host.audience * (self.end - self.start) / HOUR_MS


def plan(
    rng: random.Random,
    creators: list[Creator],
    day_start: int,
    first_room: int,
    live_until: dict[str, int],
) -> list[Session]:
    """The sessions starting in the 24 hours from ``day_start``, rooms numbered on.

    ``live_until`` (creator id -> end of its last session) is carried from day to day:
    a creator never runs two sessions at once.
    """
    sessions: list[Session] = []
    base_hour = (day_start // HOUR_MS + 8) % 24
    for creator in creators:
        if creator.assortment and rng.random() < creator.live_days_per_week / 7:
            room_id = f"room-{first_room + len(sessions):06d}"
            session = _session(rng, creator, day_start, base_hour, room_id)
            if session.start > live_until.get(creator.id, 0):
                live_until[creator.id] = session.end
                sessions.append(session)
    return sessions


def _session(
    rng: random.Random, host: Creator, day_start: int, base_hour: int, room_id: str
) -> Session:
    hours = HOST_HOURS if host.host_of is not None else CREATOR_HOURS
    offset = rng.choices(range(24), [hours[(base_hour + h) % 24] for h in range(24)])[0]
    start = day_start + offset * HOUR_MS + rng.randrange(0, 60) * MINUTE_MS
    low, high = (2, 6) if host.host_of is not None else (1, 4)
    end = start + rng.randint(low * 60, high * 60) * MINUTE_MS
    bursts = tuple(
        (rng.randint(start + 5 * MINUTE_MS, end - 10 * MINUTE_MS), _pick(rng, host))
        for _ in range(rng.randint(1, 4))
    )
    return Session(room_id, host, start, end, tuple(sorted(bursts, key=lambda b: b[0])))


def _pick(rng: random.Random, creator: Creator) -> Product:
    return pick(rng, creator.assortment, creator.assortment_cum)


def order_times(rng: random.Random, session: Session, count: int) -> list[tuple[int, Product]]:
    """When ``count`` orders are paid in the session, and for which product."""
    out = []
    for _ in range(count):
        if rng.random() < BURST_SHARE:
            at, featured = rng.choice(session.bursts)
            at += int(rng.expovariate(1 / BURST_DECAY_MS))
            product = featured if rng.random() < 0.7 else _pick(rng, session.host)
        else:
            at, product = between(rng, session.start, session.end), _pick(rng, session.host)
        out.append((min(at, session.end), product))
    return out


def session_events(rng: random.Random, session: Session) -> list[Emitted]:
    """Every livestream event of one session."""
    host, shop = session.host, session.host.host_of
    out = [_event(session, "live.started", "start", session.start)]
    out[0][2].update(shop_id=shop.id if shop else None, mode="self" if shop else "distribution")
    previous = session.start
    for n, at in enumerate(_stats_times(session), start=1):
        vm = _viewer_minutes(rng, session, previous, at)
        out.append(_event(session, "live.stats", f"s{n}", at))
        out[-1][2]["viewer_minutes"] = vm
        out.extend(_reports(rng, session, previous, at, vm, first=len(out)))
        previous = at
    if rng.random() < host.behaviour.p_violation:
        out.append(_violation(rng, session))
    out.append(_event(session, "live.ended", "end", session.end))
    return out


def _event(session: Session, type_: str, suffix: str, ts: int) -> Emitted:
    body: dict[str, Any] = {"event_id": f"{session.room_id}.{suffix}", "type": type_, "ts": ts}
    body["room_id"] = session.room_id
    body["creator_id"] = session.host.id
    return ts, Stream.LIVESTREAM, body


def _stats_times(session: Session) -> list[int]:
    times = list(range(session.start + STATS_EVERY_MS, session.end, STATS_EVERY_MS))
    return [*times, session.end]


def _viewer_minutes(rng: random.Random, session: Session, since: int, until: int) -> int:
    elapsed = (until - session.start) / (session.end - session.start)
    warm_up = min(1.0, (until - session.start) / (15 * MINUTE_MS))
    hype = any(0 <= until - at <= 10 * MINUTE_MS for at, _ in session.bursts)
    viewers = session.host.audience * warm_up * (1 - 0.3 * elapsed) * (2.5 if hype else 1.0)
    return int(viewers * rng.lognormvariate(0, 0.15) * (until - since) / MINUTE_MS)


def _reports(
    rng: random.Random, session: Session, since: int, until: int, vm: int, first: int
) -> list[Emitted]:
    bad = 1 - session.host.quality
    count = _poisson(rng, session.host.behaviour.reports_per_1000_vm * vm / 1000)
    reports = []
    for n in range(first, first + count):
        report = _event(session, "live.report", f"r{n}", between(rng, since + 1, until))
        report[2]["reason"] = rng.choices(REPORT_REASONS, (0.3 + bad, 0.1 + bad / 2, 0.3))[0]
        reports.append(report)
    return reports


def _violation(rng: random.Random, session: Session) -> Emitted:
    shop = session.host.host_of
    shop_id = shop.id if shop else None
    if shop is None and rng.random() < 0.3:  # about a product: the shop shares the blame
        shop_id = _pick(rng, session.host).shop_id
    severity = "minor"
    if rng.random() < session.host.behaviour.p_severe:
        severity = "severe" if rng.random() < 0.25 else "major"
    event = _event(
        session, "live.violation", "vio", rng.randint(session.start + 1, session.end - 1)
    )
    event[2].update(shop_id=shop_id, severity=severity)
    return event


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw: Knuth's product of uniforms, or a rounded normal for large means."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
