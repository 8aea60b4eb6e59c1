"""Events as a producer sends them: one order's trail of events, timestamps on the wire.

Timestamps are epoch ms integers, except on the shipping topic, whose producer (the
carrier feed) writes every timestamp (``ts``, ``paid_at``, ``ship_by``, ``promised_by``)
as an RFC 3339 string at +08:00 with milliseconds, so consumers see both forms the
contract allows:

    >>> rfc3339(1_790_784_000_000)
    '2026-10-01T00:00:00.000+08:00'
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from streams.devtools.generator.config import DAY_MS, HOUR_MS, MINUTE_MS
from streams.devtools.generator.marketplace import Creator, Product, Shop
from streams.events import Stream

#: One generated event: event time, topic, the JSON object to send.
Emitted = tuple[int, Stream, dict[str, Any]]

_UTC8_MS = 8 * HOUR_MS
_EPOCH_DAY = date(1970, 1, 1)
_HH_MM = [f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)]


@lru_cache(maxsize=4096)
def _date_text(day: int) -> str:
    return (_EPOCH_DAY + timedelta(days=day)).isoformat()


def rfc3339(ms: int) -> str:
    """Epoch ms as RFC 3339 at +08:00 with milliseconds."""
    day, rest = divmod(ms + _UTC8_MS, DAY_MS)
    minute, rest = divmod(rest, MINUTE_MS)
    return f"{_date_text(day)}T{_HH_MM[minute]}:{rest // 1000:02d}.{rest % 1000:03d}+08:00"


@dataclass(frozen=True, slots=True)
class Order:
    """One paid order, before its lifecycle is drawn."""

    order_id: str
    shop: Shop
    product: Product
    creator: Creator | None  # None: the shop sold it itself (creator_id null)
    channel: str  # live / video / shelf
    paid_ms: int
    quantity: int
    amount_fen: int
    freight_fen: int


class Trail:
    """The events of one order, in the order they were drawn (not yet by ts)."""

    __slots__ = ("_fields", "_fields_rfc", "events", "order")

    def __init__(self, order: Order) -> None:
        self.order = order
        self.events: list[Emitted] = []
        creator_id = order.creator.id if order.creator is not None else None
        self._fields: dict[str, Any] = {
            "order_id": order.order_id,
            "shop_id": order.shop.id,
            "product_id": order.product.id,
            "creator_id": creator_id,
            "paid_at": order.paid_ms,
        }
        self._fields_rfc: dict[str, Any] | None = None

    def add(self, stream: Stream, type_: str, suffix: str, ts: int) -> dict[str, Any]:
        """Append an event with the order fields; the caller adds the rest to the body."""
        fields = self._fields if stream is not Stream.SHIPPING else self._rfc_fields()
        stamp: Any = ts if stream is not Stream.SHIPPING else rfc3339(ts)
        body = {"event_id": f"{self.order.order_id}.{suffix}", "type": type_, "ts": stamp}
        body.update(fields)
        self.events.append((ts, stream, body))
        return body

    def _rfc_fields(self) -> dict[str, Any]:
        if self._fields_rfc is None:
            self._fields_rfc = {**self._fields, "paid_at": rfc3339(self.order.paid_ms)}
        return self._fields_rfc
