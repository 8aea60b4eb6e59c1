"""The streaming rules of ``streams.semantics``, edge cases as tables; the backfill keeps them."""

from __future__ import annotations

import pytest

from models import load_models
from streams import codec
from streams.events import Stream
from streams.intake.contract import parse
from streams.scoring.backfill import Backfill
from streams.semantics import TOO_LATE_DAYS, Deduper, counts, newer, too_late
from tests.samples import sample


@pytest.mark.parametrize(
    ("anchor_day", "as_of_day", "late"),
    [
        (100, 100, False),
        (100, 100 + TOO_LATE_DAYS, False),  # the oldest day still worth counting
        (100, 101 + TOO_LATE_DAYS, True),
        (200, 100, False),  # ahead of stream time: never too late
    ],
)
def test_too_late(anchor_day: int, as_of_day: int, late: bool) -> None:
    assert too_late(anchor_day, as_of_day) is late


@pytest.mark.parametrize(
    ("held", "position", "admitted"),
    [
        (None, "O:0:5", True),  # no live marker: a first sighting
        ("O:0:5", "O:0:5", True),  # a redelivery of the marked position
        ("O:0:5", "O:1:5", False),  # the same event_id elsewhere: an upstream duplicate
    ],
)
def test_counts(held: str | None, position: str, admitted: bool) -> None:
    assert counts(held, position) is admitted


@pytest.mark.parametrize(
    ("entry", "old", "replaces"),
    [
        ((5, "e1"), None, True),
        ((6, "e0"), (5, "e9"), True),  # a later ts wins whatever the id
        ((5, "e2"), (5, "e1"), True),  # a tie on ts: the larger event_id wins
        ((5, "e1"), (5, "e1"), False),  # the same entry does not replace itself
        ((5, "E9"), (5, "e1"), False),  # ids compare as code points: "E" < "e"
        ((4, "z"), (5, "a"), False),
    ],
)
def test_newer(entry: tuple[int, str], old: tuple[int, str] | None, replaces: bool) -> None:
    assert newer(entry, old) is replaces


class Clock:
    def __init__(self) -> None:
        self.ms = 1_000

    def __call__(self) -> int:
        return self.ms


def test_a_marker_holds_for_the_horizon_then_the_id_is_new_again() -> None:
    clock = Clock()
    dedupe = Deduper(horizon_ms=100, clock_ms=clock)
    assert dedupe.admit("e1", "O:0:1")
    assert dedupe.admit("e1", "O:0:1"), "a redelivery"
    assert not dedupe.admit("e1", "O:0:2"), "an upstream duplicate"
    clock.ms += 100
    assert not dedupe.admit("e1", "O:0:2"), "the horizon's last millisecond still holds"
    clock.ms += 1
    assert dedupe.admit("e1", "O:0:2"), "the marker expired: the id is new"
    assert not dedupe.admit("e1", "O:0:1"), "and the new marker holds the new position"


def test_a_duplicate_sighting_does_not_extend_the_marker() -> None:
    clock = Clock()
    dedupe = Deduper(horizon_ms=100, clock_ms=clock)
    assert dedupe.admit("e1", "a")
    clock.ms += 60
    assert not dedupe.admit("e1", "b")
    clock.ms += 41
    assert dedupe.admit("e1", "b"), "expiry counts from the first sighting (SET NX)"


def _paid(event_id: str, order_id: str) -> bytes:
    return codec.dumps(sample("order.paid", event_id=event_id, order_id=order_id))


def test_the_backfill_drops_duplicates_within_the_horizon_only() -> None:
    clock = Clock()
    backfill = Backfill(load_models(), Deduper(horizon_ms=1_000, clock_ms=clock))
    first = parse(Stream.ORDERS, _paid("e1", "o1"))
    backfill.feed([first, first])
    assert backfill.duplicates == 1
    clock.ms += 1_001
    backfill.feed([first])
    assert backfill.duplicates == 1, "after the horizon the same event_id counts again"


def test_the_backfill_uses_the_stores_horizon_by_default() -> None:
    backfill = Backfill(load_models())
    event = parse(Stream.ORDERS, _paid("e1", "o1"))
    backfill.feed([event, event, event], batch_size=1)
    assert backfill.duplicates == 2
