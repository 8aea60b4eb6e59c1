"""Throughput of ``streams.contract.parse`` (decode + validate) on one core.

Builds ~100k valid events of all 14 types as bytes, in a realistic mix and size (mostly
200-350 bytes; producers add a schema version and a trace id the contract ignores),
half of them with RFC 3339 timestamps and half with epoch ms, then times ``parse`` over
all of them: best of 5 runs. For scale it also times the JSON decoding alone and each
timestamp form alone.

    .venv/bin/python benchmarks/bench_contract.py [--events N] [--runs R]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from streams import codec
from streams.contract import Stream, parse

TARGET_PER_S = 200_000
DAY_MS = 86_400_000
START_MS = 1_714_521_600_000  # 2024-05-01T00:00:00Z
ZONES = [timezone(timedelta(hours=8)), UTC, timezone(timedelta(hours=-5))]
STREAM_OF = {"order": Stream.ORDERS, "shipment": Stream.SHIPPING, "refund": Stream.REFUNDS}

# Relative frequency of each type (orders dominate; live.stats is chatty).
MIX: dict[str, int] = {
    "order.paid": 24, "order.cancelled": 3, "order.completed": 14, "order.reviewed": 7,
    "shipment.collected": 14, "shipment.delivered": 13, "shipment.exception": 1,
    "refund.requested": 3, "refund.resolved": 3, "live.started": 1, "live.stats": 14,
    "live.ended": 1, "live.report": 1, "live.violation": 1,
}  # fmt: skip

Message = tuple[Stream, bytes]


class Maker:
    """Builds random valid event bodies; ``iso`` picks the timestamp form per event."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.iso = False

    def when(self, ms: int) -> str | int:
        if not self.iso:
            return ms
        local = datetime.fromtimestamp(ms / 1000, self.rng.choice(ZONES))
        return local.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def ident(self, prefix: str, n: int) -> str:
        return f"{prefix}-{self.rng.randrange(n):08d}"

    def make(self, type_: str) -> dict[str, Any]:
        self.iso = self.rng.random() < 0.5
        ts = START_MS + self.rng.randrange(30 * DAY_MS)
        body: dict[str, Any] = {
            "event_id": f"{type_}:{self.rng.getrandbits(64):016x}",
            "type": type_,
            "ts": self.when(ts),
            "schema": 1,
            "trace_id": f"{self.rng.getrandbits(64):016x}",
        }
        if type_.startswith("live."):
            return body | self.room() | self.live_extra(type_)
        paid = ts if type_ == "order.paid" else ts - self.rng.randrange(10 * DAY_MS)
        return body | self.order(paid) | self.order_extra(type_, paid, ts)

    def order(self, paid: int) -> dict[str, Any]:
        creator = self.ident("cr", 200_000) if self.rng.random() < 0.4 else None
        return {
            "order_id": self.ident("ord", 10**9),
            "shop_id": self.ident("shop", 50_000),
            "product_id": self.ident("sku", 2_000_000),
            "creator_id": creator,
            "paid_at": self.when(paid),
        }

    def order_extra(self, type_: str, paid: int, ts: int) -> dict[str, Any]:
        r = self.rng
        ship_by = {"ship_by": self.when(paid + 2 * DAY_MS)}
        promised_by = {"promised_by": self.when(paid + 6 * DAY_MS)}
        refund = {"refund_id": self.ident("rf", 10**9), "amount_fen": r.randrange(100, 20_000)}
        extras: dict[str, Callable[[], dict[str, Any]]] = {
            "order.paid": lambda: {
                "category_id": f"cat.{r.randrange(800)}",
                "channel": r.choice(["live", "video", "shelf"]),
                "quantity": r.randint(1, 5),
                "amount_fen": r.randrange(100, 200_000),
                "freight_fen": r.choice([0, 0, 0, 600]),
                **ship_by,
                **promised_by,
                "listing_quality": r.randint(0, 100),
                "brand_authorized": r.random() < 0.5,
            },
            "order.cancelled": lambda: {"cancelled_by": r.choice(["buyer", "merchant"])},
            "order.completed": dict,
            "order.reviewed": lambda: {"rating": r.randint(1, 5)},
            "shipment.collected": lambda: ship_by,
            "shipment.delivered": lambda: promised_by,
            "shipment.exception": lambda: {"kind": "delayed", "carrier_fault": True},
            "refund.requested": lambda: {**refund, "reason": "quality", "refund_only": False},
            "refund.resolved": lambda: {
                **refund,
                "requested_at": self.when(max(paid, ts - DAY_MS)),
                "outcome": "approved",
                "resolved_by": r.choice(["merchant", "platform"]),
                "merchant_liable": False,
            },
        }
        return extras[type_]()

    def room(self) -> dict[str, Any]:
        return {"room_id": self.ident("room", 10**7), "creator_id": self.ident("cr", 200_000)}

    def live_extra(self, type_: str) -> dict[str, Any]:
        extras: dict[str, dict[str, Any]] = {
            "live.started": {"shop_id": None, "mode": "self"},
            "live.stats": {"viewer_minutes": self.rng.randrange(100_000)},
            "live.ended": {"end_reason": "host_closed"},
            "live.report": {"reason": self.rng.choice(["misleading", "vulgar", "other"])},
            "live.violation": {"shop_id": self.ident("shop", 50_000), "severity": "minor"},
        }
        return extras[type_]


def build(n: int, seed: int = 7) -> list[Message]:
    maker = Maker(seed)
    types = maker.rng.choices(list(MIX), weights=list(MIX.values()), k=n)
    streams = [STREAM_OF.get(t.split(".")[0], Stream.LIVESTREAM) for t in types]
    return [(s, codec.dumps(maker.make(t))) for s, t in zip(streams, types, strict=True)]


def best_ns(
    messages: Sequence[Message], step: Callable[[Stream, bytes], object], runs: int
) -> float:
    """Best-of-``runs`` time per message, in ns."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        for stream, raw in messages:
            step(stream, raw)
        best = min(best, time.perf_counter() - start)
    return best * 1e9 / len(messages)


def main() -> None:
    args = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    args.add_argument("--events", type=int, default=100_000)
    args.add_argument("--runs", type=int, default=5)
    opts = args.parse_args()
    messages = build(opts.events)
    sizes = sorted(len(raw) for _, raw in messages)
    p5, p50, p95 = (sizes[int(len(sizes) * q)] for q in (0.05, 0.5, 0.95))
    print(f"{len(messages):,} events of {len(MIX)} types; bytes p5/p50/p95 = {p5}/{p50}/{p95}")
    iso = [m for m in messages if b'"ts":"' in m[1]]
    epoch = [m for m in messages if b'"ts":"' not in m[1]]
    rows = [
        ("JSON decode only", messages, lambda _s, raw: codec.loads(raw)),
        ("decode+validate, epoch-ms events", epoch, parse),
        ("decode+validate, RFC 3339 events", iso, parse),
        ("decode+validate, the mix", messages, parse),
    ]
    for label, subset, step in rows:
        ns = best_ns(subset, step, opts.runs)
        print(f"{label:34s} {1e9 / ns:>11,.0f} events/s  {ns:6.0f} ns/event")
    rate = 1e9 / ns
    verdict = "OK" if rate > TARGET_PER_S else "MISSED"
    print(f"target > {TARGET_PER_S:,} events/s on the mix (best of {opts.runs}): {verdict}")


if __name__ == "__main__":
    main()
