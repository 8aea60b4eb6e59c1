"""A plain-Python reference for the window store: totals computed from events."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any, NamedTuple

from models import decide, load_models
from models.counting import contributions
from models.windows import HORIZONS, REGISTER_WINDOW_DAYS, EntityWindows
from streams import codec
from streams.events import Stream
from streams.intake.contract import parse
from streams.store import WindowStore, day_of
from tests.samples import STREAM_OF_TYPE, TYPES, sample

BASE_MS = 1_790_000_000_000  # 2026-09-21
DAY_MS = 86_400_000

MODELS = load_models()

Expected = dict[tuple[str, str], tuple[dict[int, dict[str, int]], dict[str, int]]]


class ExpectedState(NamedTuple):
    """What the rulebook says of one entity at the end: score (None: unrated) and state."""

    score: float | None
    tier: str
    weight: float
    boost: float


def reference(bodies: list[dict[str, Any]]) -> tuple[int, Expected]:
    """(as_of_day, {entity: (totals by horizon, latest registers)}) from unique events."""
    as_of, days, registers = _rows(bodies)
    expected = {}
    for key in set(days) | set(registers):
        totals = {h: _window(days[key], as_of, h) for h in HORIZONS}
        expected[key] = (totals, {name: entry[2] for name, entry in registers[key].items()})
    return as_of, expected


def _rows(
    bodies: list[dict[str, Any]],
) -> tuple[int, dict[tuple[str, str], dict[int, dict[str, int]]], dict[Any, dict[str, Any]]]:
    """As-of day, per-entity day rows and latest registers, computed plainly from events."""
    events = [parse(STREAM_OF_TYPE[b["type"]], codec.dumps(b)) for b in bodies]
    as_of = day_of(max(e.ts_ms for e in events))
    days: dict[tuple[str, str], dict[int, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    registers: dict[tuple[str, str], dict[str, tuple[int, str, int]]] = defaultdict(dict)
    for e in events:
        day = day_of(e.anchor_ms)
        for c in contributions(e.type, e.body):
            key = (c.entity_type, c.entity_id)
            for name, delta in c.counts.items():
                days[key][day][name] += delta
            if day > as_of - REGISTER_WINDOW_DAYS:
                for name, value in c.registers.items():
                    registers[key][name] = max(
                        registers[key].get(name, (-1, "", 0)), (e.ts_ms, e.event_id, value)
                    )
    return as_of, days, registers


def _window(days: dict[int, dict[str, int]], as_of: int, horizon: int) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for day, row in days.items():
        if as_of - horizon < day <= as_of:
            for name, value in row.items():
                out[name] += value
    return {k: v for k, v in out.items() if v}


def random_body(rng: random.Random, n: int, span_days: int = 40) -> dict[str, Any]:
    """A valid event of a random type over a small marketplace; event_id e<n>."""
    event_type = rng.choice(TYPES)
    paid = BASE_MS + rng.randrange(span_days * DAY_MS)
    ts = paid if event_type == "order.paid" else paid + rng.randrange(5 * DAY_MS)
    overrides: dict[str, Any] = {"ts": ts, "order_id": f"o{n}", "room_id": f"r{n % 7}"}
    if STREAM_OF_TYPE[event_type] is Stream.LIVESTREAM:
        overrides["creator_id"] = rng.choice(["c1", "c2", "c3"])
    else:
        overrides |= {
            "paid_at": paid,
            "shop_id": rng.choice(["s1", "s2", "s3", "s4"]),
            "product_id": f"p{rng.randrange(9)}",
            "creator_id": rng.choice(["c1", "c2", None]),
        }
    extra = {
        "order.paid": lambda: {
            "listing_quality": rng.randrange(101),
            "freight_fen": rng.choice([0, 600]),
            "category_id": rng.choice(["g1", "g2"]),
            "amount_fen": rng.randrange(100, 50_000),
        },
        "order.reviewed": lambda: {"rating": rng.randint(1, 5)},
        "refund.resolved": lambda: {"requested_at": rng.randint(paid, ts)},
        "shipment.collected": lambda: {"ship_by": paid + rng.randrange(3 * DAY_MS)},
        "shipment.delivered": lambda: {"promised_by": paid + rng.randrange(5 * DAY_MS)},
    }.get(event_type)
    if extra is not None:
        overrides |= extra()
    return sample(event_type, event_id=f"e{n}", **overrides)


async def read_all(store: WindowStore, as_of: int) -> Expected:
    """Every entity's non-zero totals and registers as of a day, shaped like ``reference``."""
    got: Expected = {}
    async for key in store.entities():
        windows = (await store.read(*key, as_of)).windows
        totals = {h: {k: v for k, v in t.items() if v} for h, t in windows.totals.items()}
        got[key] = (totals, dict(windows.latest_values))
    return got


def expected_states(bodies: list[dict[str, Any]]) -> dict[tuple[str, str], ExpectedState]:
    """The rulebook (v2) applied to all events as of the final stream time, in process:
    each scored entity's exact score and its one tier, weight and boost (§7: the tier
    is a function of today's windows and yesterday's, so exactly one is right)."""
    as_of, days, registers = _rows(bodies)
    categories = _latest_category(bodies)
    out = {}
    for entity_type, entity_id in set(days) | set(registers):
        if entity_type not in MODELS:
            continue
        category = None
        if entity_type == "product" and entity_id in categories:
            category = _windows(days, registers, as_of, ("category", categories[entity_id]))
        windows = _windows(days, registers, as_of, (entity_type, entity_id))
        d = decide(MODELS[entity_type], windows, category=category)
        out[(entity_type, entity_id)] = ExpectedState(
            d.score.value, d.state.tier, d.state.weight, d.state.boost
        )
    return out


def expected_scores(bodies: list[dict[str, Any]]) -> dict[tuple[str, str], float | None]:
    """Each scored entity's exact score (None: unrated) as of the final stream time."""
    return {key: state.score for key, state in expected_states(bodies).items()}


def _windows(
    days: dict[tuple[str, str], dict[int, dict[str, int]]],
    registers: dict[Any, dict[str, Any]],
    as_of: int,
    key: tuple[str, str],
) -> EntityWindows:
    rows = days.get(key, {})
    latest = {name: entry[2] for name, entry in registers.get(key, {}).items()}
    today = {h: _window(rows, as_of, h) for h in HORIZONS}
    yesterday = {h: _window(rows, as_of - 1, h) for h in HORIZONS}
    return EntityWindows(key[0], key[1], as_of, today, latest, yesterday)


def _latest_category(bodies: list[dict[str, Any]]) -> dict[str, str]:
    paid = sorted(
        (b for b in bodies if b["type"] == "order.paid"), key=lambda b: (b["ts"], b["event_id"])
    )
    return {b["product_id"]: b["category_id"] for b in paid}
