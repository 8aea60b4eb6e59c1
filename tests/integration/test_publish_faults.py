"""A dead letter over the producer's size limit: a truncated copy, consumption goes on."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams import codec
from tests import kafka_helpers as kafka
from tests.infra import Infra
from tests.samples import sample
from tests.worker_process import WorkerProcess, topic_names, wait_until, worker_env

pytestmark = pytest.mark.integration

LIMIT = 8192  # VANE_MAX_MESSAGE_BYTES: the worker's producer refuses larger records
BODY = 20_000


def test_an_oversized_dead_letter_goes_out_truncated_and_consumption_goes_on(
    infra: Infra, unique: str, tmp_path: Path
) -> None:
    topics = topic_names(unique)
    kafka.create_topics(infra.kafka_bootstrap, list(topics.values()))
    env = worker_env(infra, unique, topics, tmp_path) | {"VANE_MAX_MESSAGE_BYTES": str(LIMIT)}
    oversized = b"{" + b"x" * (BODY - 1)  # invalid JSON, too big to re-publish whole
    valid = codec.dumps(sample("order.paid", "e-after"))
    ends = kafka.produce_keyed(
        infra.kafka_bootstrap,
        [(topics["orders"], b"o-1", oversized), (topics["orders"], b"o-1", valid)],
    )
    with WorkerProcess(env, tmp_path / "worker.log") as worker:
        group = env["VANE_APP_ID"]
        consumed = lambda: kafka.committed(infra.kafka_bootstrap, group, list(ends)) == ends  # noqa: E731
        wait_until(consumed, 90, interval_s=0.5, what="both messages consumed")
        letters = kafka.consume(infra.kafka_bootstrap, topics["dlq"], 1, timeout_s=10)
        metrics = worker.metrics()
        worker.assert_running()
    assert len(letters) == 1
    headers = dict(letters[0].headers)
    assert headers["vane.reason"] == b"invalid_json"
    assert headers["vane.truncated"] == str(BODY).encode()
    assert letters[0].value == oversized[: LIMIT // 2]
    outcome = (("error", "MessageSizeTooLargeError"), ("outcome", "truncated"), ("topic", "dlq"))
    assert metrics.get(("vane_publish_errors_total", outcome)) == 1
    events = (("topic", topics["orders"]), ("type", "order.paid"))
    assert metrics.get(("vane_events_total", events)) == 1
