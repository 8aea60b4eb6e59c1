"""``DayCloseSweeper._sweep``'s read-ahead, on a fake store (pure logic: the real
sweep against Redis is ``tests/integration/test_sweep_lease.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from streams.metrics import Metrics
from streams.scoring.sweep import DayCloseSweeper, LeaseLost


class _Store:
    def __init__(self, pages: list[list[tuple[str, str]]], renewals: int, slow: str = "") -> None:
        self.pages, self.renewals, self.log = pages, renewals, list[str]()
        self.slow = slow  # the id whose read takes a second
        self.closed = False

    async def shard_members(self, shards: Any, count: int) -> AsyncIterator[list[Any]]:
        try:
            for page in self.pages:
                yield page
        finally:
            self.closed = True

    async def sweep_snapshots(self, keys: list[Any], day: int) -> dict[Any, Any]:
        self.log.append(f"read {keys[0][1]}")
        try:
            await asyncio.sleep(1.0 if keys[0][1] == self.slow else 0.05)
        except asyncio.CancelledError:
            self.log.append(f"cancelled {keys[0][1]}")
            raise
        return dict.fromkeys(keys)

    async def renew_shards(self, owner: str, lease_ms: int, shards: Any) -> bool:
        self.renewals -= 1
        return self.renewals >= 0


class _Rescorer:
    scored_types = frozenset({"shop"})

    def __init__(self, store: _Store) -> None:
        self.store = store

    async def rescore(self, snapshots: dict[Any, Any], *args: Any, **kwargs: Any) -> int:
        self.store.log.append(f"score {next(iter(snapshots))[1]}")
        await asyncio.sleep(0.01)
        return 1


def _sweeper(store: _Store) -> DayCloseSweeper:
    return DayCloseSweeper(store, _Rescorer(store), Metrics(), chunk=1)  # type: ignore[arg-type]


def test_the_next_chunk_is_read_while_this_one_is_scored() -> None:
    store = _Store([[("shop", "a"), ("creator", "x"), ("shop", "b")], [("shop", "c")]], 10)
    done = asyncio.run(_sweeper(store)._sweep(store, [0], 20_000, 0))  # type: ignore[arg-type]
    assert done == (3, 3)  # the creator has no model here: not read, not scored
    assert store.log == ["read a", "read b", "score a", "read c", "score b", "score c"]
    assert store.closed


def test_a_lost_lease_cancels_the_read_ahead() -> None:
    store = _Store([[("shop", "a"), ("shop", "b"), ("shop", "c")]], 0, slow="b")
    with pytest.raises(LeaseLost):
        asyncio.run(_sweeper(store)._sweep(store, [0], 20_000, 0))  # type: ignore[arg-type]
    assert store.log == ["read a", "read b", "score a", "cancelled b"]
    assert store.closed
