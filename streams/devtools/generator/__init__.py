"""A synthetic live-commerce marketplace, as the event stream Vane consumes.

Shops, products in categories, creators and livestream rooms over N days, with every
event type of SCORING.md §2 in realistic lifecycles and delays. Each shop, creator
and product has a hidden quality in [0, 1] that drives its behaviour (``behaviour``
holds the whole mapping), so that scores have something true to find; the ground
truth file lists them. Pure and deterministic: the stdlib ``random.Random`` seeded
from the config, no wall clock, the same config gives the same bytes. The marketplace
depends on (seed, shops, creators) only and each day on its own seeded stream, so a
shorter run holds exactly the events of a longer one that fall before its horizon.

    >>> config = GeneratorConfig(days=1, shops=5, creators=2, orders_per_day=20, seed=7)
    >>> lines = [line for _, line in generate(config)]
    >>> lines == [line for _, line in generate(config)]
    True

Layout: ``config`` (the knobs), ``behaviour`` (quality to propensities),
``marketplace`` (entities and sizes), ``schedule`` (one day's sessions and orders),
``lifecycle`` and ``refunds`` (one order's events), ``livestream`` (sessions),
``events`` (the wire form), ``ordering`` (by time, then skewed), ``writer`` (files),
``draw`` (fast random draws).
"""

from __future__ import annotations

from collections.abc import Iterator

from streams.devtools.generator.config import GeneratorConfig
from streams.devtools.generator.marketplace import Marketplace, build
from streams.devtools.generator.ordering import Item, by_time, skewed
from streams.devtools.generator.writer import (
    Progress,
    Summary,
    open_sink,
    write_items,
    write_truth,
)
from streams.events import Stream

__all__ = [
    "GeneratorConfig",
    "Marketplace",
    "Summary",
    "build",
    "generate",
    "items",
    "write",
    "write_truth",
]


def items(config: GeneratorConfig, market: Marketplace | None = None) -> Iterator[Item]:
    """Every event as written: (ts, seq, topic, type, JSON line), in arrival order."""
    market = market if market is not None else build(config)
    return skewed(by_time(config, market), config.seed, config.max_skew_ms)


def generate(config: GeneratorConfig) -> Iterator[tuple[Stream, bytes]]:
    """Every event as (topic, JSON line ending in a newline), in arrival order."""
    for item in items(config):
        yield item[2], item[4]


def write(
    config: GeneratorConfig,
    path: str,
    progress: Progress | None = None,
    market: Marketplace | None = None,
) -> Summary:
    """Generate into ``path`` (``-``: stdout; ``.gz``: gzip); returns the summary.

    ``market`` saves building it again when it is already built (``build(config)``).
    """
    with open_sink(path) as sink:
        return write_items(items(config, market), sink, progress)
