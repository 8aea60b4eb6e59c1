"""A window holds what a marketplace can have, and saturates exactly the same way everywhere.

Sums used to overflow in Lua (doubles: inexact past 2^53, and past 2^63 Redis
returned -9223372036854775808, a price index of -1.98). Now the contract caps
what one event carries (money 10^10 fen, quantity 10^6, viewer_minutes 10^9) and
every total saturates at ``models.windows.SUM_CAP`` (2^53 - 1) in the store and in
the backfill alike. A busy entity at the caps, over 90 days, against a real Valkey.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from models import load_models, score
from models.windows import SUM_CAP, EntityWindows
from streams import codec
from streams.events import Event, SourcedEvent, Stream, anchor_day
from streams.intake.checks import MAX_MONEY_FEN, MAX_QUANTITY
from streams.intake.contract import parse
from streams.scoring.backfill import Backfill
from tests.integration.test_store_offsets import opened
from tests.samples import sample

pytestmark = pytest.mark.integration


BASE_MS = 1_790_000_000_000
DAY_MS = 86_400_000
DAYS = 90
ENTITIES = [("shop", "s1"), ("product", "p1"), ("product", "p2"), ("category", "cat-1")]


def _events() -> list[Event]:
    """Per day: orders at the money and quantity caps, and merchant resolutions of
    refunds requested in 1970 (the longest handling time the contract allows)."""
    out: list[tuple[Stream, dict[str, Any]]] = []
    for day in range(DAYS):
        ts = BASE_MS + day * DAY_MS
        for i in range(25):
            product, quantity = ("p1", 1) if i % 2 else ("p2", MAX_QUANTITY)
            body = sample("order.paid", event_id=f"p{day}-{i}", order_id=f"o{day}-{i}", ts=ts,
                          paid_at=ts, shop_id="s1", product_id=product, creator_id=None,
                          amount_fen=MAX_MONEY_FEN, quantity=quantity,
                          freight_fen=MAX_MONEY_FEN)  # fmt: skip
            out.append((Stream.ORDERS, body))
        for i in range(60):
            body = sample("refund.resolved", event_id=f"r{day}-{i}", order_id=f"o{day}-{i % 25}",
                          ts=ts, paid_at=ts, requested_at=0, shop_id="s1", product_id="p1",
                          creator_id=None, resolved_by="merchant",
                          amount_fen=MAX_MONEY_FEN)  # fmt: skip
            out.append((Stream.REFUNDS, body))
    return [parse(stream, codec.dumps(body)) for stream, body in out]


async def _store_windows(
    url: str, events: list[Event], days: tuple[int, ...]
) -> dict[Any, EntityWindows]:
    """Each entity's windows as of each of ``days``: (key, day) -> windows."""
    async with opened(url) as store:
        sourced = [SourcedEvent(e, e.stream.value, 0, i) for i, e in enumerate(events)]
        for start in range(0, len(sourced), 1000):
            result = await store.apply(sourced[start : start + 1000])
            assert result.too_late == []
        return {
            (key, day): (await store.read(*key, day)).windows for key in ENTITIES for day in days
        }


def _nonzero(totals: Any) -> dict[int, dict[str, int]]:
    return {h: {k: v for k, v in t.items() if v} for h, t in totals.items()}


def test_a_busy_entity_at_the_caps_saturates_the_same_in_store_and_backfill(
    store_redis: str,
) -> None:
    events = _events()
    as_of = anchor_day(events[-1].ts_ms)
    models = load_models()
    backfill = Backfill(models)
    backfill.feed(events, batch_size=1000)
    # as of the last day the store reads its running sums; as of the day after, every row
    # (apply.lua keeps sums as of one day): both paths must saturate alike
    days = (as_of, as_of + 1)
    stored = asyncio.run(_store_windows(store_redis, events, days))

    for key in ENTITIES:
        for day in days:
            want = backfill.windows(key, day)
            assert _nonzero(stored[key, day].totals) == _nonzero(want.totals), (key, day)
            previous = stored[key, day].previous_totals
            assert _nonzero(previous) == _nonzero(want.previous_totals), (key, day)
    assert stored[("shop", "s1"), as_of + 1].total("merchant_handling_ms", 90) == SUM_CAP
    got = {key: stored[key, as_of] for key in ENTITIES}
    shop = got[("shop", "s1")]
    handling_ms = [
        e.body["ts"] - e.body["requested_at"] for e in events if e.stream is Stream.REFUNDS
    ]
    assert sum(handling_ms) > SUM_CAP  # the true sum is past 2^53 ...
    assert shop.total("merchant_handling_ms", 90) == SUM_CAP  # ... and the total saturates
    category = got[("category", "cat-1")]
    assert category.total("amount_fen", 90) == DAYS * 25 * MAX_MONEY_FEN  # exact below the cap
    for product in ("p1", "p2"):
        result = score(models["product"], got[("product", product)], category=category)
        [price] = [r for r in result.breakdown if r.name == "price_index"]
        assert math.isfinite(price.value)
        assert 0 <= price.value < 1e7, price
        assert result.value is None or 0 <= result.value <= 100


def _heavy_then_light(heavy_days: int, light_days: int) -> list[Event]:
    """``_events``'s days at the caps for ``heavy_days``, then one small order a day."""
    heavy = [e for e in _events() if anchor_day(e.ts_ms) < anchor_day(BASE_MS) + heavy_days]
    light = []
    for day in range(heavy_days, heavy_days + light_days):
        ts = BASE_MS + day * DAY_MS
        body = sample("order.paid", event_id=f"l{day}", order_id=f"l{day}", ts=ts, paid_at=ts,
                      shop_id="s1", product_id="p1", creator_id=None)  # fmt: skip
        light.append(parse(Stream.ORDERS, codec.dumps(body)))
    return heavy + light


async def _day_by_day(url: str, events: list[Event]) -> dict[int, EntityWindows]:
    """The shop's windows as of each day, read right after that day's events."""
    out: dict[int, EntityWindows] = {}
    async with opened(url) as store:
        sourced = [SourcedEvent(e, e.stream.value, 0, i) for i, e in enumerate(events)]
        day_of_event = [anchor_day(e.ts_ms) for e in events]
        for day in sorted(set(day_of_event)):
            batch = [s for s, d in zip(sourced, day_of_event, strict=True) if d == day]
            result = await store.apply(batch)
            out[result.as_of_day] = (await store.read("shop", "s1", result.as_of_day)).windows
    return out


def test_sums_that_reached_the_cap_are_not_moved_by_subtraction(store_redis: str) -> None:
    """Handling time at the cap for 85 days, then light days, written a day at a time:
    the 90-day total saturates, then falls back below the cap as heavy days leave the
    window. A saturated sum is not its rows' sum, so ``apply.lua`` must rebuild it
    rather than subtract the rows that leave (each day's write moves the sums)."""
    events = _heavy_then_light(85, 20)
    backfill = Backfill(load_models())
    backfill.feed(events, batch_size=1000)
    stored = asyncio.run(_day_by_day(store_redis, events))
    totals = [w.total("merchant_handling_ms", 90) for w in stored.values()]
    assert SUM_CAP in totals  # saturated ...
    assert totals[-1] < SUM_CAP  # ... then below the cap again
    for day, windows in stored.items():
        want = backfill.windows(("shop", "s1"), day)
        assert _nonzero(windows.totals) == _nonzero(want.totals), day
        assert _nonzero(windows.previous_totals) == _nonzero(want.previous_totals), day
