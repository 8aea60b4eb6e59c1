"""``vane demo``: the embedded stack, a worker, and a trickle of events to watch.

Starts Tansu and Valkey, runs ``vane worker`` against them, produces a small
stream of example events (a few of them malformed on purpose) and prints what
the worker counted, every two seconds, until Ctrl-C stops everything.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

from streams import codec
from streams.contract import Stream
from streams.embedded import EmbeddedStack, free_port, spawn_child

REPORT_EVERY_S = 2.0
WORKER_STOP_S = 20.0


def example_events(start_ms: int) -> Iterator[tuple[Stream, bytes, bytes]]:
    """An endless order lifecycle stream, one malformed message in twenty."""
    for n in itertools.count():
        paid, order_id = start_ms + n * 1000, f"o{n}"
        order = {
            "order_id": order_id,
            "shop_id": f"shop{n % 5}",
            "product_id": f"p{n % 17}",
            "creator_id": f"cr{n % 3}" if n % 2 else None,
            "paid_at": paid,
        }
        yield Stream.ORDERS, order_id.encode(), codec.dumps({
            "event_id": f"e{n}.paid", "type": "order.paid", "ts": paid, **order,
            "category_id": "c1", "channel": "live", "quantity": 1, "amount_fen": 9900,
            "freight_fen": 0, "ship_by": paid + 86_400_000, "promised_by": paid + 259_200_000,
        })  # fmt: skip
        yield Stream.SHIPPING, order_id.encode(), codec.dumps({
            "event_id": f"e{n}.col", "type": "shipment.collected", "ts": paid + 3_600_000,
            **order, "ship_by": paid + 86_400_000,
        })  # fmt: skip
        if n % 20 == 7:
            yield (
                Stream.REFUNDS,
                b"bad",
                b'{"event_id": "has a space", "type": "refund.requested"}',
            )


async def _produce(bootstrap: str, topics: dict[Stream, str], rate_per_s: float) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for stream, key, value in example_events(int(time.time() * 1000)):
            await producer.send(topics[stream], value=value, key=key)
            await asyncio.sleep(1 / rate_per_s)
    finally:
        await producer.stop()


def _report(web_port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/metrics", timeout=2) as r:
            lines = r.read().decode().splitlines()
    except OSError:
        return "worker starting..."
    counts = [
        line for line in lines if line.startswith(("vane_events_total", "vane_dead_letters_total"))
    ]
    return "\n".join(counts) or "worker up, nothing counted yet"


def run(rate_per_s: float = 20.0) -> None:
    """Run the demo in the foreground until Ctrl-C."""
    with EmbeddedStack() as stack:
        web_port = free_port()
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
            "REDIS_URL": stack.redis_url,
            "VANE_WEB_PORT": str(web_port),
            "VANE_DATA_DIR": str(stack.workdir / "worker"),
        }
        argv = [sys.executable, "-m", "streams.cli", "worker", "-l", "info"]
        worker = spawn_child(argv, stack.workdir / "worker.log", env)
        print(f"KAFKA_BOOTSTRAP={stack.kafka_bootstrap} REDIS_URL={stack.redis_url}")
        print(f"worker metrics: http://127.0.0.1:{web_port}/metrics  (Ctrl-C stops everything)")
        try:
            asyncio.run(_watch(stack, web_port, rate_per_s))
        except KeyboardInterrupt:
            print("\nstopping")
        finally:
            _stop(worker)


def _stop(worker: subprocess.Popen[bytes]) -> None:
    """SIGTERM the worker and wait for its clean exit (SIGKILL if it hangs)."""
    worker.terminate()
    try:
        worker.wait(timeout=WORKER_STOP_S)
    except subprocess.TimeoutExpired:
        print("worker did not stop in time: killed")
        worker.kill()
        worker.wait()


async def _watch(stack: EmbeddedStack, web_port: int, rate_per_s: float) -> None:
    topics = {s: s.value for s in Stream}  # the worker runs with the default topic names
    producing = asyncio.create_task(_produce(stack.kafka_bootstrap, topics, rate_per_s))
    while not producing.done():
        await asyncio.sleep(REPORT_EVERY_S)
        stack.check_alive()
        print(f"--- {time.strftime('%H:%M:%S')}\n{_report(web_port)}", flush=True)
    producing.result()
