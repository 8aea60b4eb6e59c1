"""Session-wide servers for the integration tests (see tests/infra.py), and the
one Hypothesis profile of the suite.

``infra`` (Kafka and Redis) is parametrized by broker: every test that takes it
runs on Tansu and on Apache Kafka (ids ``[tansu]``, ``[kafka]``), or on the one
external broker; ``store_redis`` is Redis alone, for tests that need no Kafka.

Hypothesis runs the same way on every machine: no deadline (a shared 2-core box
is slow at random moments), and under CI (``CI`` set) derandomized with no
example database, so a run is a pure function of the code. ``HYPOTHESIS_PROFILE``
picks a profile by name (``ci`` or ``dev``) to reproduce either locally.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
from hypothesis import settings

from streams.devtools.embedded import BROKERS, Broker, kafka_unavailable
from tests.infra import FIGURES, Infra, Servers, kafka_choices
from tests.servers import RestartableValkey

settings.register_profile("dev", deadline=None, print_blob=True)
settings.register_profile(
    "ci", parent=settings.get_profile("dev"), derandomize=True, database=None
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    """Every server of the session, each started on first use (tests/infra.py)."""
    started = Servers()
    try:
        yield started
    finally:
        started.close()


def _skip_without_apache_kafka() -> None:
    if reason := kafka_unavailable():
        pytest.skip(f"the Apache Kafka tier: {reason}")


@pytest.fixture(scope="session", params=kafka_choices())
def infra(request: pytest.FixtureRequest, servers: Servers) -> Iterator[Infra]:
    """Kafka and Redis: external, containers, or embedded Tansu / Apache Kafka + Valkey."""
    if request.param == "kafka":
        _skip_without_apache_kafka()
    with servers.kafka(request.param) as both:
        yield both


@pytest.fixture(params=BROKERS)
def embedded_broker(request: pytest.FixtureRequest) -> Broker:
    """Each embedded broker in turn, for tests that start (and pause) their own stack."""
    if request.param == "kafka":
        _skip_without_apache_kafka()
    return cast(Broker, request.param)


@pytest.fixture(scope="session")
def store_redis(servers: Servers) -> str:
    """The session's Redis URL, for tests that need no Kafka (run once, not per broker)."""
    return servers.redis()[0]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The brokers' start time and memory, as measured in this session."""
    for line in FIGURES:
        terminalreporter.write_line(line)


@pytest.fixture
def unique() -> str:
    """A short unique suffix for this test's topics and consumer group."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def valkey(tmp_path: Path) -> Iterator[RestartableValkey]:
    """A Valkey of this test's own, for faults that must not touch the session's servers."""
    server = RestartableValkey(tmp_path / "valkey")
    server.folder.mkdir()
    server.start()
    try:
        yield server
    finally:
        server.stop()
