"""Throughput of ``streams.contract.parse`` (decode + validate) on one core.

Builds ~100k valid events of all 14 types as bytes, in a realistic mix and size
(about 200-350 bytes: producers add trace and schema metadata the contract ignores),
half with RFC 3339 timestamps and half with epoch ms, then times ``parse`` over all
of them. Prints the best of 5 runs.

    .venv/bin/python benchmarks/bench_contract.py [--events N] [--runs R]
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from streams import codec
from streams.contract import Stream, parse

TARGET_PER_S = 200_000
DAY_MS = 86_400_000
START_MS = 1_714_521_600_000  # 2024-05-01T00:00:00Z
ZONES = [timezone(timedelta(hours=8)), timezone.utc, timezone(timedelta(hours=-5))]

# Relative frequency of each type in a day of traffic (orders dominate; live.stats is chatty).
MIX: dict[str, int] = {
    "order.paid": 24, "order.cancelled": 3, "order.completed": 14, "order.reviewed": 7,
    "shipment.collected": 14, "shipment.delivered": 13, "shipment.exception": 1,
    "refund.requested": 3, "refund.resolved": 3, "live.started": 1, "live.stats": 14,
    "live.ended": 1, "live.report": 1, "live.violation": 1,
}  # fmt: skip


class Maker:
    """Builds one random valid event body; ``iso`` picks the timestamp encoding."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.iso = False

    def when(self, ms: int) -> str | int:
        if not self.iso:
            return ms
        zone = self.rng.choice(ZONES)
        text = datetime.fromtimestamp(ms / 1000, zone).isoformat(timespec="milliseconds")
        return text.replace("+00:00", "Z")

    def ident(self, prefix: str, n: int) -> str:
        return f"{prefix}-{self.rng.randrange(n):08d}"

    def envelope(self, type_: str, ts_ms: int) -> dict[str, Any]:
        return {
            "event_id": f"{type_}:{self.rng.getrandbits(64):016x}",
            "type": type_,
            "ts": self.when(ts_ms),
            "schema": 1,
            "trace_id": f"{self.rng.getrandbits(64):016x}",
        }

    def order(self, type_: str) -> dict[str, Any]:
        paid = START_MS + self.rng.randrange(30 * DAY_MS)
        ts = paid if type_ == "order.paid" else paid + self.rng.randrange(10 * DAY_MS)
        body = self.envelope(type_, ts)
        body |= {
            "order_id": self.ident("ord", 10**9),
            "shop_id": self.ident("shop", 50_000),
            "product_id": self.ident("sku", 2_000_000),
            "creator_id": self.ident("cr", 200_000) if self.rng.random() < 0.4 else None,
            "paid_at": self.when(paid),
        }
        return body | self.order_extra(type_, paid, ts)

    def order_extra(self, type_: str, paid: int, ts: int) -> dict[str, Any]:
        r = self.rng
        deadline = {"ship_by": self.when(paid + 2 * DAY_MS)}
        promise = {"promised_by": self.when(paid + 6 * DAY_MS)}
        extras: dict[str, Callable[[], dict[str, Any]]] = {
            "order.paid": lambda: {
                "category_id": f"cat.{r.randrange(800)}", "channel": r.choice(["live", "video", "shelf"]),
                "quantity": r.randint(1, 5), "amount_fen": r.randrange(100, 200_000),
                "freight_fen": r.choice([0, 0, 0, 600]), **deadline, **promise,
                "listing_quality": r.randint(0, 100), "brand_authorized": r.random() < 0.5,
            },
            "order.cancelled": lambda: {"cancelled_by": r.choice(["buyer", "merchant", "system"])},
            "order.completed": dict,
            "order.reviewed": lambda: {"rating": r.randint(1, 5)},
            "shipment.collected": lambda: deadline,
            "shipment.delivered": lambda: promise,
            "shipment.exception": lambda: {"kind": r.choice(["lost", "delayed"]), "carrier_fault": True},
            "refund.requested": lambda: {
                "refund_id": self.ident("rf", 10**9), "reason": r.choice(["quality", "other"]),
                "refund_only": False, "amount_fen": r.randrange(100, 20_000),
            },
            "refund.resolved": lambda: {
                "refund_id": self.ident("rf", 10**9), "requested_at": self.when(max(paid, ts - DAY_MS)),
                "outcome": "approved", "resolved_by": r.choice(["merchant", "platform"]),
                "merchant_liable": False, "amount_fen": r.randrange(100, 20_000),
            },
        }  # fmt: skip
        return extras[type_]()

    def live(self, type_: str) -> dict[str, Any]:
        r = self.rng
        body = self.envelope(type_, START_MS + r.randrange(30 * DAY_MS))
        body |= {"room_id": self.ident("room", 10**7), "creator_id": self.ident("cr", 200_000)}
        extra = {
            "live.started": {"shop_id": None, "mode": "self"},
            "live.stats": {"viewer_minutes": r.randrange(100_000)},
            "live.ended": {"ended_reason": "host_closed"},
            "live.report": {"reason": r.choice(["misleading", "vulgar", "other"])},
            "live.violation": {"shop_id": self.ident("shop", 50_000), "severity": "minor"},
        }
        return body | extra[type_]

    def make(self, type_: str) -> dict[str, Any]:
        self.iso = self.rng.random() < 0.5
        return self.live(type_) if type_.startswith("live.") else self.order(type_)


STREAM_OF = {"order": Stream.ORDERS, "shipment": Stream.SHIPPING, "refund": Stream.REFUNDS,
             "live": Stream.LIVESTREAM}  # fmt: skip


def build(n: int, seed: int = 7) -> list[tuple[Stream, bytes]]:
    rng = random.Random(seed)
    maker = Maker(rng)
    types = rng.choices(list(MIX), weights=list(MIX.values()), k=n)
    return [(STREAM_OF[t.split(".")[0]], codec.dumps(maker.make(t))) for t in types]


def run(messages: list[tuple[Stream, bytes]]) -> float:
    start = time.perf_counter()
    for stream, raw in messages:
        parse(stream, raw)
    return time.perf_counter() - start


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--events", type=int, default=100_000)
    args.add_argument("--runs", type=int, default=5)
    opts = args.parse_args()
    messages = build(opts.events)
    sizes = sorted(len(raw) for _, raw in messages)
    mix = Counter(codec.loads(raw)["type"] for _, raw in messages)
    print(f"{len(messages)} events, {len(mix)} types, bytes p5/p50/p95 = "
          f"{sizes[len(sizes) // 20]}/{sizes[len(sizes) // 2]}/{sizes[-len(sizes) // 20]}")  # fmt: skip
    best = min(run(messages) for _ in range(opts.runs))
    rate = len(messages) / best
    print(f"decode+validate: {rate:,.0f} events/s ({best * 1e9 / len(messages):.0f} ns/event, "
          f"best of {opts.runs}); target {TARGET_PER_S:,}: {'OK' if rate > TARGET_PER_S else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
