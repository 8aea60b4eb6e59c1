"""One day of the marketplace: its sessions, its orders and all their events.

The day's order count is ``orders_per_day`` times a weekend lift (x1.15), slow
growth (+0.5 % a day), noise and the odd promotion day (x1.8, one day in fifteen).
``LIVE_SHARE`` of the orders are paid in that day's livestream sessions, in
proportion to viewer-hours; the rest over the day's hours (evening peak), through
short videos (a third of those by creators) or the shop's shelf, a tenth of them on
three products that trend that day.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Final

from streams.devtools.generator import livestream
from streams.devtools.generator.config import DAY_MS, HOUR_MS, GeneratorConfig
from streams.devtools.generator.draw import between, pick
from streams.devtools.generator.events import Emitted, Order
from streams.devtools.generator.lifecycle import order_events
from streams.devtools.generator.livestream import Session
from streams.devtools.generator.marketplace import Creator, Marketplace, Product

LIVE_SHARE: Final = 0.45
VIDEO_SHARE: Final = 0.3  # of the orders outside livestreams
CREATOR_VIDEO_SHARE: Final = 0.35  # of video orders
HOT_SHARE: Final = 0.1
HOT_PRODUCTS: Final = 3
LISTING_SHARE: Final = 0.9  # order.paid events that carry the catalog fields
# Relative order volume at each local hour (UTC+08:00).
ORDER_HOURS: Final = (2, 1, 0.6, 0.4, 0.3, 0.4, 0.8, 1.5, 2.5, 3.5, 4, 4.5,
                      5, 4.5, 4, 4, 4.2, 4.5, 5, 6, 7.5, 8, 7, 4.5)  # fmt: skip
QUANTITIES: Final = (1, 2, 3, 4, 5)
QUANTITY_CUM: Final = (80, 92, 97, 99, 100)


@dataclass(slots=True)
class Counters:
    """What carries from day to day: running numbers for ids, creators still live."""

    orders: int = 0
    rooms: int = 0
    live_until: dict[str, int] = field(default_factory=dict)  # creator id -> session end


def day_events(
    config: GeneratorConfig, market: Marketplace, day: int, counters: Counters
) -> list[Emitted]:
    """Every event caused by the orders and sessions that start on ``day`` (0-based)."""
    plan = _Day(config, market, day, counters)
    total = round(config.orders_per_day * plan.factor())
    sessions = livestream.plan(
        plan.rng, market.creators, plan.start, counters.rooms, counters.live_until
    )
    counters.rooms += len(sessions)
    live_total = round(total * LIVE_SHARE) if sessions else 0
    for session, count in _split(plan.rng, sessions, live_total):
        plan.out.extend(livestream.session_events(plan.rng, session))
        for paid, product in livestream.order_times(plan.rng, session, count):
            plan.order(session.host, product, "live", paid)
    for _ in range(total - live_total):
        plan.catalog_order()
    return plan.out


def _split(rng: random.Random, sessions: list[Session], total: int) -> list[tuple[Session, int]]:
    """Share ``total`` orders among sessions by viewer-hours."""
    if not sessions:
        return []
    counts = Counter(rng.choices(range(len(sessions)), [s.weight for s in sessions], k=total))
    return [(session, counts[i]) for i, session in enumerate(sessions)]


class _Day:
    """One day's random stream, its trending products and the events drawn so far."""

    def __init__(
        self, config: GeneratorConfig, market: Marketplace, day: int, counters: Counters
    ) -> None:
        self.rng = random.Random(f"{config.seed}:day:{day}")
        self.day, self.start = day, config.start_ms + day * DAY_MS
        self.market, self.counters = market, counters
        self.out: list[Emitted] = []
        base_hour = (self.start // HOUR_MS + 8) % 24
        self.hour_cum = list(accumulate(ORDER_HOURS[(base_hour + h) % 24] for h in range(24)))
        self.creators, audiences = market.video_creators
        self.audience_cum = list(accumulate(audiences))
        self.hot = self.rng.sample(market.products, min(HOT_PRODUCTS, len(market.products)))

    def factor(self) -> float:
        """Today's volume relative to ``orders_per_day``."""
        weekday = ((self.start + 8 * HOUR_MS) // DAY_MS + 3) % 7  # 1970-01-01: a Thursday
        factor = (1.15 if weekday >= 5 else 1.0) * (1 + 0.005 * self.day)
        factor *= self.rng.gauss(1, 0.05)
        return factor * (1.8 if self.rng.random() < 1 / 15 else 1.0)

    def catalog_order(self) -> None:
        """An order outside livestreams: a creator's video, a shop's video, or the shelf."""
        rng = self.rng
        hour = pick(rng, _HOURS, self.hour_cum)
        paid = self.start + hour * HOUR_MS + between(rng, 0, HOUR_MS)
        channel = "video" if rng.random() < VIDEO_SHARE else "shelf"
        if channel == "video" and self.creators and rng.random() < CREATOR_VIDEO_SHARE:
            creator = pick(rng, self.creators, self.audience_cum)
            product = pick(rng, creator.assortment, creator.assortment_cum)
            self.order(creator, product, channel, paid)
        elif rng.random() < HOT_SHARE:
            self.order(None, rng.choice(self.hot), channel, paid)
        else:
            market = self.market
            product = pick(rng, market.products, market.product_cum)
            self.order(None, product, channel, paid)

    def order(self, seller: Creator | None, product: Product, channel: str, paid: int) -> None:
        """Price one order and draw its lifecycle; a shop's host sells as the shop itself."""
        rng, shop = self.rng, product.shop
        self.counters.orders += 1
        creator = seller if seller is not None and seller.host_of is None else None
        quantity = pick(rng, QUANTITIES, QUANTITY_CUM)
        discount = rng.random() * (0.2 if channel == "live" else 0.05)
        amount = round(product.price_fen * (1 - discount)) * quantity
        free = rng.random() < shop.behaviour.p_free_shipping
        freight = 0 if free else between(rng, 5, 16) * 100
        order_id = f"o-{self.counters.orders:08d}"
        order = Order(order_id, shop, product, creator, channel, paid, quantity, amount, freight)
        self.out.extend(order_events(rng, order, listing=rng.random() < LISTING_SHARE))


_HOURS: Final = range(24)
