"""The synthetic marketplace: categories, shops, products, creators and shop hosts.

Sizes are heavy-tailed: shop traffic follows Zipf over a shuffled rank (a few big
shops, a long tail; ids do not reveal the rank), products within a shop follow Zipf
too (hot products). Every shop, product and creator has a hidden quality in [0, 1]
(``behaviour`` maps it to propensities); products inherit their shop's quality with
some noise. The biggest tenth of the shops run their own livestreams through a host
account (a creator id ``host-NNNN``, mode ``self``); creators sell a few partner
shops' products (mode ``distribution``), good creators leaning to good shops.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Final

from streams.devtools.generator.behaviour import (
    CreatorBehaviour,
    ShopBehaviour,
    creator_behaviour,
    shop_behaviour,
)
from streams.devtools.generator.config import HOUR_MS, GeneratorConfig

CATEGORIES: Final = 24
SHOP_ZIPF: Final = 1.0
PRODUCT_ZIPF: Final = 1.2
HOST_SHARE: Final = 0.1  # the biggest tenth of the shops livestream themselves


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    ref_price_fen: int
    weight: float


@dataclass(frozen=True, slots=True)
class Product:
    id: str
    shop: Shop = field(repr=False, compare=False)
    category_id: str
    price_fen: int
    listing_quality: int
    brand_authorized: bool
    quality: float
    behaviour: ShopBehaviour

    @property
    def shop_id(self) -> str:
        return self.shop.id


@dataclass(slots=True)
class Shop:
    id: str
    quality: float
    weight: float
    ship_window_ms: int
    behaviour: ShopBehaviour
    products: list[Product] = field(default_factory=list)
    product_cum: list[float] = field(default_factory=list)


@dataclass(slots=True)
class Creator:
    """A creator (mode ``distribution``) or a shop's livestream host (mode ``self``)."""

    id: str
    quality: float
    behaviour: CreatorBehaviour
    audience: float  # mean concurrent viewers of a session
    live_days_per_week: float
    host_of: Shop | None
    assortment: list[Product] = field(default_factory=list)
    assortment_cum: list[float] = field(default_factory=list)


@dataclass(slots=True)
class Marketplace:
    categories: list[Category]
    shops: list[Shop]
    creators: list[Creator]  # creators first, then hosts
    products: list[Product]
    product_cum: list[float]  # traffic share of every product, cumulative

    @property
    def video_creators(self) -> tuple[list[Creator], list[float]]:
        """Creators (not hosts) and their audiences: who sells through short videos."""
        creators = [c for c in self.creators if c.host_of is None and c.assortment]
        return creators, [c.audience for c in creators]


def build(config: GeneratorConfig) -> Marketplace:
    """The marketplace of a config: depends only on seed, shops and creators."""
    rng = random.Random(f"{config.seed}:marketplace")
    categories = _categories(rng)
    shops = [_shop(rng, n, rank) for n, rank in enumerate(_shuffled_ranks(rng, config.shops))]
    for shop in shops:
        _stock(rng, shop, categories)
    products = [p for shop in shops for p in shop.products]
    weights = [shop.weight * _share(shop, i) for shop in shops for i in range(len(shop.products))]
    creators = [_creator(rng, n, shops) for n in range(config.creators)]
    creators += _hosts(rng, shops)
    return Marketplace(categories, shops, creators, products, list(accumulate(weights)))


def _clamp01(x: float) -> float:
    return min(1.0, max(0.0, x))


def _shuffled_ranks(rng: random.Random, n: int) -> list[int]:
    ranks = list(range(1, n + 1))
    rng.shuffle(ranks)
    return ranks


def _categories(rng: random.Random) -> list[Category]:
    low, high = math.log(1_500), math.log(80_000)  # 15 to 800 CNY
    return [
        Category(f"cat-{n + 1:02d}", round(math.exp(rng.uniform(low, high))), 1 / (n + 1) ** 0.8)
        for n in range(CATEGORIES)
    ]


def _shop(rng: random.Random, n: int, rank: int) -> Shop:
    quality = rng.betavariate(2.0, 1.3)
    window_h = rng.choice((24, 48, 48, 72))
    weight = 1 / rank**SHOP_ZIPF
    return Shop(f"shop-{n + 1:04d}", quality, weight, window_h * HOUR_MS, shop_behaviour(quality))


def _stock(rng: random.Random, shop: Shop, categories: list[Category]) -> None:
    """Give a shop its products: more for bigger shops, in one to three categories."""
    own = rng.choices(categories, weights=[c.weight for c in categories], k=rng.randint(1, 3))
    count = 3 + int(60 * shop.weight**0.6) + rng.randint(0, 3)
    for i in range(count):
        shop.products.append(_product(rng, shop, rng.choice(own), f"{shop.id}-{i + 1:03d}"))
    shop.product_cum = list(accumulate(1 / (i + 1) ** PRODUCT_ZIPF for i in range(count)))


def _product(rng: random.Random, shop: Shop, category: Category, suffix: str) -> Product:
    quality = _clamp01(shop.quality + rng.gauss(0, 0.05))
    price = max(100, round(category.ref_price_fen * rng.lognormvariate(0, 0.3)))
    listing = min(100, max(0, round(rng.gauss(30 + 60 * quality, 10))))
    brand = rng.random() < 0.15 + 0.7 * quality
    behaviour = shop_behaviour(quality)
    return Product(f"p-{suffix}", shop, category.id, price, listing, brand, quality, behaviour)


def _share(shop: Shop, i: int) -> float:
    """Product i's share of its shop's traffic."""
    previous = shop.product_cum[i - 1] if i else 0.0
    return (shop.product_cum[i] - previous) / shop.product_cum[-1]


def _creator(rng: random.Random, n: int, shops: list[Shop]) -> Creator:
    quality = rng.betavariate(2.0, 1.3)
    audience = min(6_000.0, 40 * rng.paretovariate(1.3))
    days = 1.5 + 4 * rng.random()
    creator = Creator(f"cr-{n + 1:04d}", quality, creator_behaviour(quality), audience, days, None)
    partners = _partners(rng, quality, shops, k=min(len(shops), rng.randint(2, 6)))
    for shop in partners:
        creator.assortment.extend(shop.products[: rng.randint(2, 6)])
    creator.assortment_cum = list(
        accumulate(1 / (i + 1) ** 0.7 for i in range(len(creator.assortment)))
    )
    return creator


def _partners(rng: random.Random, quality: float, shops: list[Shop], k: int) -> list[Shop]:
    """k distinct shops, by size, good creators leaning to good shops."""
    keyed = [
        (rng.random() ** (1 / (s.weight * math.exp(3 * (quality - 0.5) * (s.quality - 0.5)))), i)
        for i, s in enumerate(shops)
    ]  # weighted sampling without replacement (Efraimidis-Spirakis)
    return [shops[i] for _, i in sorted(keyed, reverse=True)[:k]]


def _hosts(rng: random.Random, shops: list[Shop]) -> list[Creator]:
    biggest = sorted(shops, key=lambda s: -s.weight)[: max(1, round(len(shops) * HOST_SHARE))]
    hosts = []
    for shop in sorted(biggest, key=lambda s: s.id):
        quality = _clamp01(shop.quality + rng.gauss(0, 0.1))
        audience = 30 + 400 * shop.weight**0.5
        days = 3 + 2 * rng.random()
        host = Creator(
            f"host-{shop.id[5:]}", quality, creator_behaviour(quality), audience, days, shop
        )
        host.assortment, host.assortment_cum = shop.products, shop.product_cum
        hosts.append(host)
    return hosts
