"""``ScoringStage``'s rounds, on a fake store (pure logic: the real store and
worker are ``tests/integration``, whose crash and duplicate tests run through it).

Batches that arrive while a round is applied are applied together by the next
round; each is answered with its own rejections, at its own indexes, and a
failure is answered only to the batches it belongs to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest

from streams.errors import Interrupted, StoreRejected
from streams.events import Reason
from streams.metrics import Metrics
from streams.scoring.stage import ScoringStage
from streams.store import ApplyResult

# The fake store's events are strings: "late" is refused as too late, "bad"
# fails the call it is in, "slow" holds its call until ``release`` is set.


class _Store:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.release = asyncio.Event()
        self.stopping = False

    async def retrying(self, call: Callable[[Any], Awaitable[ApplyResult]]) -> ApplyResult:
        if self.stopping:
            raise Interrupted("stopping")
        return await call(self)

    async def apply(self, batch: Sequence[str]) -> ApplyResult:
        self.calls.append(list(batch))
        if "slow" in batch:
            await self.release.wait()
        if "bad" in batch:
            raise StoreRejected("a script error")
        entities = {("shop", e): object() for e in batch}
        return ApplyResult(
            too_late=[i for i, e in enumerate(batch) if e == "late"],
            duplicates=0,
            applied=len(batch),
            skipped=0,
            entities=entities,  # type: ignore[arg-type]
            causes={k: k[1] for k in entities},
            as_of_day=0,
            stream_time_ms=0,
            round_trips=1,
        )


class _Rescorer:
    def __init__(self) -> None:
        self.rounds: list[list[str]] = []

    async def rescore(self, snapshots: Any, causes: Any, as_of_ms: int) -> int:
        self.rounds.append([k[1] for k in snapshots])
        return 0


def _stage() -> tuple[ScoringStage, _Store, _Rescorer]:
    store, rescorer = _Store(), _Rescorer()
    return ScoringStage(store, rescorer, Metrics()), store, rescorer  # type: ignore[arg-type]


async def _started(stage: ScoringStage, batch: list[str]) -> asyncio.Task[Any]:
    task = asyncio.create_task(stage.apply(batch))  # type: ignore[arg-type]
    await asyncio.sleep(0)  # queued (and, if first, its round started)
    return task


def _late_indexes(rejections: Sequence[Any]) -> list[int]:
    assert all(r.reason is Reason.TOO_LATE for r in rejections)
    return [r.index for r in rejections]


def test_batches_that_wait_are_applied_and_rescored_together() -> None:
    async def run() -> None:
        stage, store, rescorer = _stage()
        first = await _started(stage, ["slow"])
        waiting = [
            await _started(stage, ["a", "late"]),
            await _started(stage, ["late", "b", "late"]),
            await _started(stage, []),
            await _started(stage, ["late"]),
        ]
        store.release.set()
        assert _late_indexes(await first) == []
        answers = [_late_indexes(await task) for task in waiting]
        assert answers == [[1], [0, 2], [], [0]]  # each batch's own indexes
        assert store.calls == [["slow"], ["a", "late", "late", "b", "late", "late"]]
        assert rescorer.rounds == [["slow"], ["a", "late", "b"]]

    asyncio.run(run())


def test_a_failing_round_is_applied_again_batch_by_batch() -> None:
    async def run() -> None:
        stage, store, _ = _stage()
        first = await _started(stage, ["slow"])
        good = await _started(stage, ["a", "late"])
        bad = await _started(stage, ["bad"])
        other = await _started(stage, ["late", "c"])
        store.release.set()
        await first
        assert _late_indexes(await good) == [1]
        with pytest.raises(StoreRejected):
            await bad
        assert _late_indexes(await other) == [0]
        assert store.calls[1:] == [
            ["a", "late", "bad", "late", "c"],
            *[["a", "late"], ["bad"], ["late", "c"]],
        ]

    asyncio.run(run())


def test_a_batch_alone_gets_its_own_failure() -> None:
    async def run() -> None:
        stage, _, _ = _stage()
        with pytest.raises(StoreRejected):
            await stage.apply(["bad"])  # type: ignore[list-item]
        assert await stage.apply(["a"]) == []  # type: ignore[list-item]

    asyncio.run(run())


def test_a_cancelled_round_interrupts_the_batches_it_took() -> None:
    async def run() -> None:
        stage, store, _ = _stage()
        first = await _started(stage, ["slow"])
        waiting = [await _started(stage, ["slow", "a"]), await _started(stage, ["b"])]
        await asyncio.sleep(0)
        await asyncio.sleep(0)  # the second round holds both and waits on "slow"
        assert store.calls == [["slow"]]
        first.cancel()  # the first round is stopped; its holder is gone
        with pytest.raises(asyncio.CancelledError):
            await first
        await asyncio.sleep(0)
        assert store.calls == [["slow"], ["slow", "a", "b"]]
        waiting[0].cancel()  # the second round's holder is stopped too
        with pytest.raises(asyncio.CancelledError):
            await waiting[0]
        with pytest.raises(Interrupted):  # left for Kafka to deliver again
            await waiting[1]
        store.release.set()
        assert await stage.apply(["c"]) == []  # type: ignore[list-item]
        assert store.calls[-1] == ["c"]

    asyncio.run(run())


def test_a_stopping_worker_interrupts_every_batch_of_the_round() -> None:
    async def run() -> None:
        stage, store, _ = _stage()
        first = await _started(stage, ["slow"])
        waiting = [await _started(stage, ["a"]), await _started(stage, ["b"])]
        store.stopping = True
        store.release.set()
        await first
        for task in waiting:
            with pytest.raises(Interrupted):
                await task
        assert store.calls == [["slow"]]

    asyncio.run(run())


def test_a_batch_cancelled_while_it_waits_leaves_the_queue() -> None:
    async def run() -> None:
        stage, store, _ = _stage()
        first = await _started(stage, ["slow"])
        gone = await _started(stage, ["gone"])
        kept = await _started(stage, ["kept"])
        gone.cancel()
        await asyncio.sleep(0)
        store.release.set()
        await first
        assert await kept == []
        assert store.calls == [["slow"], ["kept"]]

    asyncio.run(run())
