"""The intake's routing policy, as pure logic (the Kafka path is in tests/integration)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from streams import codec
from streams.events import Reason, Rejection, SourcedEvent, Stream
from streams.intake.deadletter import DeadLetter
from streams.intake.policy import FUTURE_TOLERANCE_MS, Intake
from streams.metrics import Metrics
from tests.samples import sample


@dataclass
class Message:
    value: bytes | None
    offset: int
    topic: str = "orders"
    partition: int = 1
    key: bytes | None = b"o-1"
    headers: Any = field(default_factory=list)


class Recorder:
    """Stands in for the DLQ topic and the next stage; records what reaches them."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.applied: list[SourcedEvent] = []
        self.delivered = 0

    async def send(
        self, *, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
    ) -> Any:
        self.sent.append({"key": key, "value": value, "headers": dict(headers)})
        return self._delivered()

    async def _delivered(self) -> None:
        self.delivered += 1

    async def apply(self, batch: Sequence[SourcedEvent]) -> Sequence[Rejection]:
        self.applied.extend(batch)
        return [
            Rejection(i, "too_late", "old") for i, s in enumerate(batch) if s.offset in self.refuse
        ]

    refuse: frozenset[int] = frozenset()


NOW_MS = 1_800_000_000_000


def run(batch: list[Message], recorder: Recorder, metrics: Metrics | None = None) -> Metrics:
    metrics = metrics or Metrics()
    intake = Intake(sink=recorder, dead_letters=recorder, metrics=metrics, clock_ms=lambda: NOW_MS)
    asyncio.run(intake.process(Stream.ORDERS, batch))
    return metrics


def test_a_batch_is_split_into_events_and_dead_letters() -> None:
    good = codec.dumps(sample("order.paid"))
    bad = b"{oops"
    recorder = Recorder()
    metrics = run([Message(good, 10), Message(bad, 11, headers=[("trace", b"t1")])], recorder)
    assert [(e.offset, e.event.type) for e in recorder.applied] == [(10, "order.paid")]
    [letter] = recorder.sent
    assert letter["value"] == bad
    assert letter["key"] == b"o-1"
    assert letter["headers"]["trace"] == b"t1"
    assert letter["headers"]["vane.reason"] == b"invalid_json"
    assert letter["headers"]["vane.source.offset"] == b"11"
    assert recorder.delivered == 1, "dead letters must be delivered before the batch is acked"
    assert (
        metrics.registry.get_sample_value(
            "vane_events_total", {"topic": "orders", "type": "order.paid"}
        )
        == 1
    )
    assert (
        metrics.registry.get_sample_value(
            "vane_dead_letters_total", {"topic": "orders", "reason": "invalid_json"}
        )
        == 1
    )


def test_an_empty_value_is_a_dead_letter_not_a_crash() -> None:
    recorder = Recorder()
    run([Message(None, 3)], recorder)
    assert recorder.sent[0]["headers"]["vane.reason"] == b"invalid_json"
    assert recorder.sent[0]["value"] is None


def test_a_validator_bug_becomes_a_dead_letter(monkeypatch: Any) -> None:
    def explode(stream: Stream, raw: bytes) -> None:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr("streams.intake.contract.parse", explode)
    recorder = Recorder()
    run([Message(b"{}", 5)], recorder)
    assert recorder.sent[0]["headers"]["vane.reason"] == Reason.INTERNAL_ERROR.encode()
    assert recorder.applied == []


def test_vane_headers_from_upstream_are_replaced_not_duplicated() -> None:
    message = Message(b"[]", 7, headers=[("vane.reason", b"forged"), ("x", b"1")])
    headers = DeadLetter("not_an_object", "detail", message).headers()
    assert [k for k, _ in headers].count("vane.reason") == 1
    assert dict(headers)["vane.reason"] == b"not_an_object"
    assert dict(headers)["x"] == b"1"


def test_an_event_from_the_future_is_a_dead_letter() -> None:
    beyond = NOW_MS + FUTURE_TOLERANCE_MS + 1
    recorder = Recorder()
    body_ok = sample("order.paid", event_id="ok")
    body_ok.update(ts=NOW_MS + FUTURE_TOLERANCE_MS, paid_at=NOW_MS + FUTURE_TOLERANCE_MS)
    body_late = sample("order.paid", event_id="ahead")
    body_late.update(ts=beyond, paid_at=beyond)
    run([Message(codec.dumps(body_ok), 1), Message(codec.dumps(body_late), 2)], recorder)
    assert [e.event.event_id for e in recorder.applied] == ["ok"]
    assert recorder.sent[0]["headers"]["vane.reason"] == b"from_future"
    assert recorder.sent[0]["headers"]["vane.source.offset"] == b"2"


def test_events_the_next_stage_refuses_are_dead_lettered_with_its_reason() -> None:
    recorder = Recorder()
    recorder.refuse = frozenset({21})
    bodies = [sample("order.paid", event_id=f"e{i}") for i in range(2)]
    run([Message(codec.dumps(b), 20 + i) for i, b in enumerate(bodies)], recorder)
    [letter] = recorder.sent
    assert letter["headers"]["vane.reason"] == b"too_late"
    assert letter["headers"]["vane.source.offset"] == b"21"
    assert letter["value"] == codec.dumps(bodies[1])


def test_a_header_key_that_is_not_utf8_is_a_dead_letter_with_its_bytes() -> None:
    bad = b"trace\xff".decode("utf-8", "surrogateescape")
    body = codec.dumps(sample("order.paid", event_id="h"))
    message = Message(body, 3, headers=[("vane.reason", b"forged"), (bad, b"v"), ("x", b"1")])
    recorder = Recorder()
    metrics = run([message, Message(codec.dumps(sample("order.paid")), 4)], recorder)
    [letter] = recorder.sent
    assert letter["value"] == body
    assert letter["headers"]["vane.reason"] == Reason.BAD_HEADER.encode()
    assert letter["headers"]["vane.raw_header_key"] == b"trace\xff"
    assert letter["headers"]["vane.raw_header_value"] == b"v"
    assert letter["headers"]["x"] == b"1"
    assert [s.offset for s in recorder.applied] == [4]
    assert metrics.dead_letters.labels("orders", "bad_header")._value.get() == 1
