"""``vane demo``: a generated marketplace streamed through a real worker, watched live.

Starts the embedded stack and a worker, streams a generated marketplace (SCORING.md
events, hidden shop and creator qualities) at a modest rate, and shows: events/s
produced and consumed, consumer lag, dead letters, the best and worst shops and
creators with their scores, and tier changes as they are published, with their
reasons. In a terminal it is a live view (rich); piped, it prints plain lines.
Ctrl-C stops the producer, then the worker, then the servers. It starts with a
legend (``legend``): what ``display`` is, and why a tier does not follow every
move of the score (rulebook v2's reference, shown on each weight update).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table

from models import ModelConfig, Reference, load_models, tier_sentence
from streams import codec
from streams.devtools.embedded import EmbeddedStack
from streams.devtools.generator import GeneratorConfig, generate
from streams.devtools.generator.config import DAY_MS
from streams.devtools.replay import RateLimiter
from streams.devtools.supervision import free_port, spawn_child, stop_child
from streams.events import Stream
from streams.intake.routing import route
from streams.scoring.snapshot import current_states
from streams.settings import RedisSettings, Secret
from streams.store import WindowStore

WORKER_STOP_S = 20.0
TASK_STOP_S = 10.0  # each background task's own clean-up (a producer's flush, a close)
TOPICS = {s: s.value for s in Stream}  # the worker runs with the default topic names
WEIGHTS = "traffic-weights"


@dataclass
class Board:
    """What the view shows; updated by the background tasks."""

    started: float = field(default_factory=time.monotonic)
    produced: int = 0
    consumed: float = 0.0
    dead: float = 0.0
    lag: float | None = None
    rates: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=10))
    changes: deque[str] = field(default_factory=lambda: deque(maxlen=12))
    change_count: int = 0
    leaders: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def events_per_s(self) -> float:
        if len(self.rates) < 2:
            return 0.0
        (t0, c0), (t1, c1) = self.rates[0], self.rates[-1]
        return (c1 - c0) / max(t1 - t0, 1e-9)


def run(rate_per_s: float = 1500.0, days: int = 30, stop: threading.Event | None = None) -> None:
    """Run the demo in the foreground until ``stop`` is set (the CLI sets it on Ctrl-C)."""
    console = Console()
    stop = stop or threading.Event()
    with EmbeddedStack() as stack:
        web_port = free_port()
        worker = _start_worker(stack, web_port)
        console.print(f"KAFKA_BOOTSTRAP={stack.kafka_bootstrap} REDIS_URL={stack.redis_url}")
        console.print(f"worker: http://127.0.0.1:{web_port}/metrics   (Ctrl-C stops everything)")
        console.print(legend(load_models()), soft_wrap=True, markup=False)
        board = Board()
        try:
            _run_bounded(_watch(stack, web_port, rate_per_s, days, board, console, stop))
            console.print("\nstopping")
        finally:
            stop_child(worker, WORKER_STOP_S)


def _run_bounded(main: Coroutine[Any, Any, None]) -> None:
    """``asyncio.run``, except that stopping never waits without bound.

    ``asyncio.run`` waits at exit for every task left and for the executor's threads;
    a client whose clean-up hangs (a producer flushing to a starved broker) would
    keep Ctrl-C from ever finishing. Here every task left (``_watch``'s, cancelled)
    gets ``TASK_STOP_S`` to finish its clean-up (each client's own is bounded too,
    ``_bounded``); whatever is still running then is abandoned with a line naming it.
    """
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(main)
    finally:
        try:
            left = asyncio.all_tasks(loop)
            for task in left:
                if not task.cancelling():  # a second cancel would cut its clean-up short
                    task.cancel()
            if left:
                loop.run_until_complete(asyncio.wait(left, timeout=TASK_STOP_S))
            _report_stuck(left)
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()  # the default executor's threads (bounded urllib reads) are not joined


def _start_worker(stack: EmbeddedStack, web_port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
        "REDIS_URL": stack.redis_url,
        "VANE_WEB_PORT": str(web_port),
        "VANE_DATA_DIR": str(stack.workdir / "worker"),
        **stack.worker_env,
    }
    argv = [sys.executable, "-m", "streams.cli", "worker", "-l", "info"]
    return spawn_child(argv, stack.workdir / "worker.log", env)


async def _watch(
    stack: EmbeddedStack,
    web_port: int,
    rate: float,
    days: int,
    board: Board,
    console: Console,
    stop: threading.Event,
) -> None:
    tasks = [
        asyncio.create_task(_produce(stack.kafka_bootstrap, rate, days, board), name="producer"),
        asyncio.create_task(_tail_weights(stack.kafka_bootstrap, board, console), name="tail"),
        asyncio.create_task(_poll_metrics(web_port, board), name="metrics"),
        asyncio.create_task(_poll_leaders(stack.redis_url, board), name="leaders"),
    ]
    try:
        if console.is_terminal:
            with Live(_render(board), console=console, refresh_per_second=2) as live:
                while not stop.is_set():
                    await asyncio.sleep(0.5)
                    _check(stack, tasks)
                    live.update(_render(board))
        else:
            while not stop.is_set():
                await asyncio.sleep(2.0)
                _check(stack, tasks)
                console.print(_status(board), soft_wrap=True)
    finally:
        for task in tasks:
            task.cancel()  # their clean-up is waited for, bounded, by ``_run_bounded``


def _report_stuck(tasks: set[asyncio.Task[Any]]) -> None:
    """One line per task that did not finish its clean-up in time, with where it waits.

    A task that ended with an error has it retrieved here, not raised: ``_check``
    raises errors while the demo runs; one in a clean-up at exit changes nothing.
    """
    for task in tasks:
        if task.done():
            if not task.cancelled():
                task.exception()
        else:
            frames = task.get_stack(limit=1)
            where = f" at {frames[0].f_code.co_qualname}" if frames else ""
            print(
                f"vane demo: abandoned {task.get_name()}{where} (clean-up took over "
                f"{TASK_STOP_S:.0f} s)",
                file=sys.stderr,
            )


def _check(stack: EmbeddedStack, tasks: list[asyncio.Task[None]]) -> None:
    stack.check_alive()
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


async def _produce(bootstrap: str, rate: float, days: int, board: Board) -> None:
    start_ms = int(time.time() * 1000) // DAY_MS * DAY_MS - days * DAY_MS
    config = GeneratorConfig(
        days=days, shops=60, creators=30, orders_per_day=1500, start_ms=start_ms
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    limiter = RateLimiter(rate)
    try:
        for _, line in generate(config):
            routed = route(line.rstrip(b"\n"), TOPICS)
            await limiter.wait()
            await producer.send(routed.topic, value=routed.value, key=routed.key)
            board.produced += 1
    finally:
        await _bounded(producer.stop())


async def _tail_weights(bootstrap: str, board: Board, console: Console) -> None:
    consumer = AIOKafkaConsumer(WEIGHTS, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    models = load_models()
    await consumer.start()
    try:
        async for record in consumer:
            line = _change_line(codec.loads(record.value), models)
            board.changes.appendleft(line)
            board.change_count += 1
            if not console.is_terminal:
                console.print(f"weight update: {line}", soft_wrap=True, markup=False)
    finally:
        await _bounded(consumer.stop())


def legend(models: Mapping[str, ModelConfig]) -> str:
    """What the numbers mean, from the models themselves (docs/scoring.md)."""
    ranges = ", ".join(
        f"{name} {_display_range(models[name])}" for name in ("shop", "creator") if name in models
    )
    return (
        "display: the merchant-facing value of the score S (0-100), offset + span*S/100: "
        f"{ranges}; product: the score itself (docs/scoring.md).\n"
        "tiers: each day's tier is decided against yesterday's (the reference R of rulebook "
        "v2): near a threshold an entity keeps yesterday's tier until its score passes the "
        "threshold by the model's margin, so a score that wobbles does not flip the tier. "
        "Each weight update says which sentence decided it."
    )


def _display_range(model: ModelConfig) -> str:
    low, high = model.display.offset, model.display.offset + model.display.span
    return f"{low:g}-{high:g}"


def _change_line(m: dict[str, Any], models: Mapping[str, ModelConfig] | None = None) -> str:
    reasons = ", ".join(
        f"{r['indicator']} {r['value']:.3g} (sub {r['sub']:.0f})" for r in m["reasons"]
    )
    score = "-" if m["score"] is None else f"{m['score']:.1f}"
    display = "" if m.get("display") is None else f", display {m['display']:.2f}"
    return (
        f"{m['entity_type']} {m['entity_id']}: {m['previous']['tier']} -> {m['tier']} "
        f"(score {score}{display}, weight {m['weight']:.2f}, boost {m['boost']:.2f})"
        + _why(m, models or {})
        + (f"; costs: {reasons}" if reasons else "")
    )


def _why(m: dict[str, Any], models: Mapping[str, ModelConfig]) -> str:
    """The sentence that decided the tier, from the message's reference (model 2 on)."""
    model = models.get(m["entity_type"])
    if model is None or "reference" not in m:
        return ""
    ref = m["reference"]
    reference = None if ref is None else Reference(ref["tier"], ref["score"])
    return f"; {tier_sentence(model.tiers, m['score'], reference)}"


async def _poll_metrics(web_port: int, board: Board) -> None:
    url = f"http://127.0.0.1:{web_port}/metrics"
    while True:
        text = await asyncio.to_thread(_fetch, url)
        if text:
            board.consumed = _sum(text, "vane_events_total")
            board.dead = _sum(text, "vane_dead_letters_total")
            lag = _sum(text, "kafka_consumergroup_group_lag")
            board.lag = lag if "kafka_consumergroup_group_lag{" in text else None
            board.rates.append((time.monotonic(), board.consumed))
        await asyncio.sleep(1.0)


def _fetch(url: str) -> str:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return str(response.read().decode())
    except OSError:
        return ""


def _sum(text: str, name: str) -> float:
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{")
    )


async def _poll_leaders(redis_url: str, board: Board) -> None:
    models = load_models()
    store = await WindowStore.connect(RedisSettings(url=Secret(redis_url)))
    try:
        while True:
            rows = await current_states(store, models)
            for entity_type in ("shop", "creator"):
                rated = [
                    r for r in rows if r["entity_type"] == entity_type and r["score"] is not None
                ]
                rated.sort(key=lambda r: -r["score"])
                board.leaders[entity_type] = rated[:5] + (rated[-5:] if len(rated) > 10 else [])
            await asyncio.sleep(3.0)
    finally:
        await _bounded(store.close())


async def _bounded(cleanup: Coroutine[Any, Any, Any]) -> None:
    """A client's clean-up, given up after ``TASK_STOP_S`` (it only ends the demo)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(TASK_STOP_S / 2):
            await cleanup


def _status(board: Board) -> str:
    lag = "-" if board.lag is None else f"{board.lag:.0f}"
    return (
        f"[{time.monotonic() - board.started:5.0f}s] produced {board.produced}  "
        f"consumed {board.consumed:.0f} ({board.events_per_s():,.0f}/s)  lag {lag}  "
        f"dead letters {board.dead:.0f}  weight updates {board.change_count}"
    )


def _render(board: Board) -> Group:
    tables = [_leaders(board, t) for t in ("shop", "creator")]
    changes = Table(
        title="latest weight updates (tier, weight or boost changed)",
        show_header=False,
        expand=True,
    )
    for line in board.changes:
        changes.add_row(line)
    return Group(_status(board), *tables, changes)


def _leaders(board: Board, entity_type: str) -> Table:
    table = Table(title=f"best and worst {entity_type}s", expand=True)
    for column in ("id", "score", "display", "tier", "weight", "boost"):
        table.add_column(column)
    for row in board.leaders.get(entity_type, []):
        table.add_row(
            row["entity_id"], f"{row['score']:.2f}", f"{row['display']:.2f}",
            row["tier"], f"{row['weight']:.2f}", f"{row['boost']:.2f}",
        )  # fmt: skip
    return table
