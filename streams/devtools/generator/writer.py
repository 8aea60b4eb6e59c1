"""Writing: JSONL to a file, a gzip file (deterministic: no name, mtime 0) or stdout,
with progress and a summary; and the ground-truth file of hidden qualities."""

from __future__ import annotations

import gzip
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Protocol

from streams import codec
from streams.devtools.generator.marketplace import Marketplace
from streams.devtools.generator.ordering import Item

STDOUT = "-"
CHUNK = 4096  # lines per write call
MAX_PENDING = 8  # chunks handed to the writer thread and not yet written
GZIP_LEVEL = 4

Progress = Callable[[int], None]


class Sink(Protocol):
    """Where lines go: a binary file, a gzip file or stdout."""

    def write(self, data: bytes, /) -> int: ...


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
def open_sink(path: str) -> Iterator[Sink]:
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


def write_items(items: Iterable[Item], sink: Sink, progress: Progress | None) -> Summary:
    """Write the items' lines in chunks; call ``progress(events so far)`` every chunk.

    A single background thread does the writing (zlib releases the GIL while it
    compresses), a few chunks behind; chunks are written in order, so the bytes are
    the same as a plain loop's.
    """
    summary, started = Summary(), time.perf_counter()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="generate-writer") as pool:
        pending: deque[Future[int]] = deque()
        for chunk in batched(items, CHUNK):
            pending.append(pool.submit(sink.write, b"".join(item[4] for item in chunk)))
            summary.by_type.update(item[3] for item in chunk)
            if len(pending) > MAX_PENDING:
                pending.popleft().result()
            if progress is not None:
                progress(summary.events)
        for write in pending:
            write.result()
    summary.seconds = time.perf_counter() - started
    return summary


def batched(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    """Lists of up to ``size`` consecutive items."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def truth_records(market: Marketplace) -> Iterator[dict[str, Any]]:
    """The hidden qualities: every shop, creator (hosts too) and product, in that order."""
    for shop in market.shops:
        yield {
            "entity_type": "shop",
            "entity_id": shop.id,
            "quality": round(shop.quality, 4),
            "traffic_weight": round(shop.weight, 6),
            "products": len(shop.products),
        }
    for creator in market.creators:
        yield {
            "entity_type": "creator",
            "entity_id": creator.id,
            "quality": round(creator.quality, 4),
            "host_of": creator.host_of.id if creator.host_of is not None else None,
            "audience": round(creator.audience, 1),
        }
    for product in market.products:
        yield {
            "entity_type": "product",
            "entity_id": product.id,
            "quality": round(product.quality, 4),
            "shop_id": product.shop_id,
            "category_id": product.category_id,
            "price_fen": product.price_fen,
            "listing_quality": product.listing_quality,
            "brand_authorized": product.brand_authorized,
        }


def write_truth(market: Marketplace, path: str) -> int:
    """Write the ground truth as JSONL; returns the number of records."""
    records = [codec.dumps(record) + b"\n" for record in truth_records(market)]
    with open_sink(path) as sink:
        sink.write(b"".join(records))
    return len(records)
