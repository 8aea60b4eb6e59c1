"""Session-wide servers for the integration tests (see tests/infra.py), and the
one Hypothesis profile of the suite.

Hypothesis runs the same way on every machine: no deadline (a shared 2-core box
is slow at random moments), and under CI (``CI`` set) derandomized with no
example database, so a run is a pure function of the code. ``HYPOTHESIS_PROFILE``
picks a profile by name (``ci`` or ``dev``) to reproduce either locally.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.infra import Infra, provision

settings.register_profile("dev", deadline=None, print_blob=True)
settings.register_profile(
    "ci", parent=settings.get_profile("dev"), derandomize=True, database=None
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    """Kafka and Redis for the whole session: external, containers or embedded."""
    with provision() as servers:
        yield servers


@pytest.fixture
def unique() -> str:
    """A short unique suffix for this test's topics and consumer group."""
    return uuid.uuid4().hex[:10]
