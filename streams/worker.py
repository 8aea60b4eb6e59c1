"""The composition root: settings in, a ready Faust app with every part wired.

    app = build(Settings.from_env()).app

Nothing else constructs the app, its topics, metrics or processing stages.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass

import faust
from faust.utils.terminal.spinners import SpinnerHandler

from models import load_models
from streams.agents import day_close
from streams.agents import intake as intake_agents
from streams.agents import outbox as outbox_scan
from streams.app import create_app
from streams.intake.policy import Intake
from streams.metrics import Metrics
from streams.ops import health, lag_sampler, web
from streams.scoring.outbox import OutboxScanner
from streams.scoring.rescorer import Rescorer
from streams.scoring.stage import ScoringStage
from streams.scoring.sweep import DayCloseSweeper
from streams.settings import Settings
from streams.store.handle import StoreHandle
from streams.topics import Topics, create_outputs_on_join, declare_topics

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Worker:
    """The wired parts of one worker process."""

    settings: Settings
    app: faust.App
    topics: Topics
    metrics: Metrics
    store: StoreHandle


def build(settings: Settings) -> Worker:
    """Wire a worker: topics, metrics, store, agents, the day-close timer, web pages."""
    app = create_app(settings)
    topics = declare_topics(app, settings.topics)
    create_outputs_on_join(app, topics)
    metrics = Metrics()
    models = load_models()
    store = StoreHandle(settings.redis, metrics, stopping=lambda: _stopping(app))
    takeover_ms = round(settings.worker.outbox_takeover_s * 1000)
    recheck_ms = takeover_ms + round(settings.worker.outbox_recheck_s * 1000)
    rescorer = Rescorer(
        store,
        topics.weights,
        metrics,
        models,
        takeover_after_ms=takeover_ms,
        recheck_after_ms=recheck_ms,
    )
    stage = ScoringStage(store, rescorer, metrics)
    intake = Intake(
        sink=stage,
        dead_letters=topics.dlq,
        metrics=metrics,
        stopping=store.stopping,
        max_message_bytes=settings.worker.max_message_bytes,
        topic_generation=settings.topics.generation,
    )
    intake_agents.register(app, topics, intake, settings.worker, metrics, store.stopping)
    day_close.register(app, DayCloseSweeper(store, rescorer, metrics))
    outbox_scan.register(app, OutboxScanner(store, rescorer), settings.worker.outbox_scan_s)
    web.register(app, metrics, store, models)
    health.register(app, settings, metrics, topics, store)
    lag_sampler.register(app, settings, metrics, topics)
    app.task(_once_running)
    return Worker(settings, app, topics, metrics, store)


async def _once_running() -> None:
    """What startup leaves behind that the running worker should not pay for."""
    _freeze_startup()
    _drop_startup_spinner()


def _freeze_startup() -> None:
    """Move everything startup made (modules, the app, Faust's and aiokafka's state) out
    of the cyclic collector's reach. It lives for the process anyway, and every full
    collection walked all of it again (in process, a 20k-entity sweep's full
    collections took 0.15 s frozen against 0.43 s: docs/performance.md, "Hot path,
    part 3")."""
    gc.freeze()
    log.info("%d startup objects kept out of the cyclic collector", gc.get_freeze_count())


def _drop_startup_spinner(root: logging.Logger = logging.root) -> None:
    """Faust's worker at ``-l warn`` or above shows a progress spinner while it starts:
    it sets the root logger to DEBUG and adds a handler that spins once per record.
    The spinner stops when the worker has started, the level stays: every debug call
    of aiokafka, Faust and mode then built a record that no handler wrote (1.5 % of a
    live day's samples, docs/performance.md, "Hot path, part 7"). Once running, the
    spinner's handler goes and the root logger takes the least level of the others."""
    spinners = [h for h in root.handlers if isinstance(h, SpinnerHandler)]
    for handler in spinners:
        root.removeHandler(handler)
    levels = [h.level for h in root.handlers]
    if spinners and levels and logging.NOTSET not in levels:
        root.setLevel(min(levels))


def _stopping(app: faust.App) -> bool:
    """Retry loops give up when the worker stops or its partitions are being revoked:
    Faust waits for the batches in flight before either can finish."""
    return bool(app.should_stop or app.rebalancing)
