"""Causality and consistency within each order and each livestream room."""

from __future__ import annotations

import itertools
from collections import defaultdict
from typing import Any

import pytest

from streams.events import Event
from tests.unit.devtools.generator.conftest import Run

ORDER_FIELDS = ("shop_id", "product_id", "creator_id", "paid_at")


@pytest.fixture(scope="module")
def orders(default_run: Run) -> dict[str, dict[str, list[Event]]]:
    """Order id -> type -> its events."""
    out: dict[str, dict[str, list[Event]]] = defaultdict(lambda: defaultdict(list))
    for event in default_run.events:
        if "order_id" in event.body:
            out[event.body["order_id"]][event.type].append(event)
    return out


def _one(events: dict[str, list[Event]], type_: str) -> Event | None:
    found = events.get(type_, [])
    assert len(found) <= 1, type_
    return found[0] if found else None


def _ts(events: dict[str, list[Event]], type_: str) -> int | None:
    event = _one(events, type_)
    return event.ts_ms if event is not None else None


def test_every_order_is_paid_first_and_keeps_its_fields(orders: Any) -> None:
    for order_id, events in orders.items():
        paid = _one(events, "order.paid")
        assert paid is not None, order_id
        b = paid.body
        assert b["paid_at"] == paid.ts_ms < b["ship_by"] < b["promised_by"]
        for event in (e for es in events.values() for e in es):
            assert event.ts_ms > paid.ts_ms or event is paid
            assert all(event.body[f] == b[f] for f in ORDER_FIELDS), event.event_id
            if "ship_by" in event.body:
                assert event.body["ship_by"] == b["ship_by"]
            if "promised_by" in event.body:
                assert event.body["promised_by"] == b["promised_by"]


def test_shipping_follows_paid_and_collected(orders: Any) -> None:
    for events in orders.values():
        collected = _ts(events, "shipment.collected")
        for later in ("shipment.delivered", "shipment.exception"):
            at = _ts(events, later)
            assert at is None or (collected is not None and at > collected), later


def test_a_cancelled_order_never_ships(orders: Any) -> None:
    cancelled = [events for events in orders.values() if "order.cancelled" in events]
    assert cancelled
    for events in cancelled:
        assert set(events) == {"order.paid", "order.cancelled"}


def test_after_sales_follow_delivery(orders: Any) -> None:
    for events in orders.values():
        delivered = _ts(events, "shipment.delivered")
        for later in ("order.completed", "order.reviewed"):
            at = _ts(events, later)
            assert at is None or (delivered is not None and at > delivered), later


def test_refunds_resolve_after_request(orders: Any) -> None:
    resolved_count = 0
    for events in orders.values():
        requested = _one(events, "refund.requested")
        resolved = _one(events, "refund.resolved")
        if resolved is None:
            continue
        resolved_count += 1
        assert requested is not None
        assert resolved.body["requested_at"] == requested.ts_ms < resolved.ts_ms
        assert resolved.body["refund_id"] == requested.body["refund_id"]
        assert resolved.body["amount_fen"] == requested.body["amount_fen"]
        assert requested.body["amount_fen"] <= events["order.paid"][0].body["amount_fen"]
        shipped = _ts(events, "shipment.delivered") or _ts(events, "shipment.exception")
        assert shipped is not None
        assert requested.ts_ms > shipped
    assert resolved_count > 500


def test_no_completion_after_an_approved_refund_requested_before_it(orders: Any) -> None:
    for events in orders.values():
        completed, resolved = _one(events, "order.completed"), _one(events, "refund.resolved")
        if completed is not None and resolved is not None:
            requested_at = resolved.body["requested_at"]
            assert resolved.body["outcome"] == "rejected" or requested_at > completed.ts_ms


def test_every_room_starts_first_and_ends_last(default_run: Run) -> None:
    rooms: dict[str, list[Event]] = defaultdict(list)
    for event in default_run.events:
        if "room_id" in event.body:
            rooms[event.body["room_id"]].append(event)
    assert len(rooms) > 500
    for room_id, events in rooms.items():
        events.sort(key=lambda e: (e.ts_ms, e.type != "live.started"))
        assert events[0].type == "live.started", room_id
        assert len({e.body["creator_id"] for e in events}) == 1
        ended = [e for e in events if e.type == "live.ended"]
        assert not ended or events[-1].type == "live.ended"
        stats = [e.ts_ms for e in events if e.type == "live.stats"]
        gaps = [b - a for a, b in itertools.pairwise(stats)]
        assert all(0 < gap <= 300_000 for gap in gaps)
