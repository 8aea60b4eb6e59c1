"""Writing: JSONL to a file, a gzip file (deterministic: no name, mtime 0) or stdout,
with progress and a summary; and the ground-truth file of hidden qualities."""

from __future__ import annotations

import gzip
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from streams import codec
from streams.generator.marketplace import Marketplace
from streams.generator.ordering import Item

STDOUT = "-"
CHUNK = 4096  # lines per write call
GZIP_LEVEL = 6

Progress = Callable[[int], None]


@dataclass(slots=True)
class Summary:
    """What was written: events by type, and how long it took."""

    by_type: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def events(self) -> int:
        return sum(self.by_type.values())

    def line(self) -> str:
        """One line for a person: total, speed, then counts by type."""
        rate = self.events / self.seconds if self.seconds > 0 else 0.0
        counts = " ".join(f"{t}={n}" for t, n in sorted(self.by_type.items()))
        return f"{self.events} events in {self.seconds:.2f} s ({rate:,.0f}/s): {counts}"


@contextmanager
def open_sink(path: str) -> Iterator[IO[bytes]]:
    """A binary sink: ``-`` is stdout, a ``.gz`` suffix compresses (same bytes every run)."""
    if path == STDOUT:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    with open(path, "wb") as raw:
        if not path.endswith(".gz"):
            yield raw
            return
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                           compresslevel=GZIP_LEVEL) as packed:  # fmt: skip
            yield packed


def write_items(items: Iterable[Item], sink: IO[bytes], progress: Progress | None) -> Summary:
    """Write the items' lines in chunks; call ``progress(events so far)`` every chunk."""
    summary, started = Summary(), time.perf_counter()
    types: list[str] = []
    lines: list[bytes] = []
    for item in items:
        types.append(item[3])
        lines.append(item[4])
        if len(lines) == CHUNK:
            _flush(sink, lines, types, summary, progress)
    _flush(sink, lines, types, summary, progress)
    summary.seconds = time.perf_counter() - started
    return summary


def _flush(
    sink: IO[bytes], lines: list[bytes], types: list[str], summary: Summary, progress: Progress | None
) -> None:
    sink.write(b"".join(lines))
    summary.by_type.update(types)
    lines.clear()
    types.clear()
    if progress is not None:
        progress(summary.events)


def truth_records(market: Marketplace) -> Iterator[dict[str, Any]]:
    """The hidden qualities: every shop, creator (hosts too) and product, in that order."""
    for shop in market.shops:
        yield {"entity_type": "shop", "entity_id": shop.id, "quality": round(shop.quality, 4),
               "traffic_weight": round(shop.weight, 6), "products": len(shop.products)}  # fmt: skip
    for creator in market.creators:
        host_of = creator.host_of.id if creator.host_of is not None else None
        yield {"entity_type": "creator", "entity_id": creator.id,
               "quality": round(creator.quality, 4), "host_of": host_of,
               "audience": round(creator.audience, 1)}  # fmt: skip
    for product in market.products:
        yield {"entity_type": "product", "entity_id": product.id,
               "quality": round(product.quality, 4), "shop_id": product.shop_id,
               "category_id": product.category_id, "price_fen": product.price_fen,
               "listing_quality": product.listing_quality,
               "brand_authorized": product.brand_authorized}  # fmt: skip


def write_truth(market: Marketplace, path: str) -> int:
    """Write the ground truth as JSONL; returns the number of records."""
    records = [codec.dumps(record) + b"\n" for record in truth_records(market)]
    with open_sink(path) as sink:
        sink.write(b"".join(records))
    return len(records)
