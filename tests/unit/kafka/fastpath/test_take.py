"""``take_ready`` on a real Faust agent over an in-memory channel (Faust's own
test context): what waits is one batch at once, at most ``max_``, acknowledged
after it is processed. The agents on Kafka run it in every worker test.

``within`` is an hour here, so a batch that waited for its timer (as
``take_events`` does) would never come: the guard below fails the test then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import faust

from streams.kafka.fastpath.take import take_ready

AN_HOUR = 3600.0
GUARD_S = 30.0  # far longer than any of these takes; only a wait on the timer reaches it


def _run(
    max_: int, scenario: Callable[[Any, list[list[Any]], asyncio.Event], Awaitable[None]]
) -> list[list[Any]]:
    """Run ``scenario(agent, batches, release)``; the agent holds its first batch
    until ``release`` is set. Returns the batches' events."""
    batches: list[list[Any]] = []

    async def main() -> None:
        app = faust.App("take-ready-test", store="memory://")  # on the running loop
        release = asyncio.Event()

        @app.agent(app.channel())
        async def collect(stream: Any) -> None:
            async for batch in take_ready(stream, max_, AN_HOUR):
                batches.append(list(batch))
                await release.wait()

        try:
            async with collect.test_context() as agent:
                await asyncio.wait_for(scenario(agent, batches, release), GUARD_S)
        finally:
            # The stream made the app's Kafka consumer, whose thread (never
            # started: nothing here talks to Kafka) made an event loop of its own.
            app.consumer._thread.thread_loop.close()

    asyncio.run(main())
    return batches


async def _until(done: Callable[[], bool]) -> None:
    while not done():
        await asyncio.sleep(0.005)


def _values(batches: list[list[Any]]) -> list[list[Any]]:
    return [[event.value for event in batch] for batch in batches]


def test_what_waits_is_taken_at_once_up_to_max() -> None:
    async def scenario(agent: Any, batches: list[list[Any]], release: asyncio.Event) -> None:
        release.set()
        for value in range(5):
            await agent.put(value, wait=False)
        await _until(lambda: sum(map(len, batches)) == 5)

    assert _values(_run(3, scenario)) == [[0, 1, 2], [3, 4]]


def test_what_arrives_while_a_batch_is_processed_is_the_next_batch() -> None:
    async def scenario(agent: Any, batches: list[list[Any]], release: asyncio.Event) -> None:
        await agent.put("first", wait=False)
        await _until(lambda: len(batches) == 1)
        for value in range(4):  # the agent is still on its first batch
            await agent.put(value, wait=False)
        await asyncio.sleep(0.05)
        assert len(batches) == 1
        release.set()
        await _until(lambda: len(batches) == 2)

    assert _values(_run(10, scenario)) == [["first"], [0, 1, 2, 3]]


def test_a_batch_is_acknowledged_once_it_is_processed() -> None:
    acked: list[list[bool]] = []

    async def scenario(agent: Any, batches: list[list[Any]], release: asyncio.Event) -> None:
        for value in range(2):
            await agent.put(value, wait=False)
        await _until(lambda: len(batches) == 1)
        acked.append([event.message.acked for event in batches[0]])
        release.set()
        await agent.put("next", wait=False)  # taken once the first batch is done
        await _until(lambda: len(batches) == 2)
        acked.append([event.message.acked for event in batches[0]])

    _run(10, scenario)
    assert acked == [[False, False], [True, True]]
