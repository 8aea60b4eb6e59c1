"""The composition root: settings in, a ready Faust app with every part wired.

    app = build(Settings.from_env()).app

Nothing else constructs the app, its topics, metrics or processing stages.
"""

from __future__ import annotations

from dataclasses import dataclass

import faust

from streams import web
from streams.agents import intake as intake_agents
from streams.app import create_app
from streams.intake import EventSink, Intake
from streams.metrics import Metrics
from streams.scoring import ScoringStage
from streams.settings import Settings
from streams.topics import Topics, declare_topics


@dataclass(frozen=True, slots=True)
class Worker:
    """The wired parts of one worker process."""

    settings: Settings
    app: faust.App
    topics: Topics
    metrics: Metrics
    intake: Intake


def build(settings: Settings, sink: EventSink | None = None) -> Worker:
    """Wire a worker: topics, metrics, the intake agents and the web pages."""
    app = create_app(settings)
    topics = declare_topics(app, settings.topics)
    metrics = Metrics()
    sink = sink or ScoringStage(settings.redis, metrics)
    intake = Intake(sink=sink, dead_letters=topics.dlq, metrics=metrics)
    intake_agents.register(app, topics, intake, settings.worker)
    web.register(app, metrics)
    return Worker(settings, app, topics, metrics, intake)
