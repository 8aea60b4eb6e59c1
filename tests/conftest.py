"""Session-wide servers for the integration tests (see tests/infra.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.infra import Infra, provision


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    """Kafka and Redis for the whole session: external, containers or embedded."""
    with provision() as servers:
        yield servers


@pytest.fixture
def unique() -> str:
    """A short unique suffix for this test's topics and consumer group."""
    return uuid.uuid4().hex[:10]
