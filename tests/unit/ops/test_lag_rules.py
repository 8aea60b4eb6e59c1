"""The Burrow-style evaluator as a table, the sliding window, and the gauges it feeds."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from streams.kafka.lag_reader import Reading
from streams.metrics import Metrics
from streams.ops.lag import LagRules, PartitionWindow, Sample, Status, evaluate
from streams.ops.lag_sampler import LagSampler
from streams.settings import WorkerSettings

RULES = LagRules(interval_s=1.0, window=4, stop_after_s=30.0)


def window(*points: tuple[int, int], start_s: float = 100.0) -> list[Sample]:
    """Samples one second apart from (committed, end) pairs."""
    return [Sample(start_s + i, committed, end) for i, (committed, end) in enumerate(points)]


@pytest.mark.parametrize(
    ("points", "moved_at_s", "status"),
    [
        pytest.param([], 100.0, Status.OK, id="no samples"),
        pytest.param([(5, 10)], 100.0, Status.OK, id="one sample is no evidence"),
        pytest.param([(5, 10), (5, 12), (5, 14), (14, 14)], 103.0, Status.OK, id="caught up now"),
        pytest.param([(0, 0), (0, 0), (0, 0), (0, 0)], 100.0, Status.OK, id="idle topic"),
        pytest.param([(10, 20), (12, 22), (5, 25), (6, 26)], 103.0, Status.REWIND, id="rewind"),
        pytest.param([(10, 20), (4, 21)], 101.0, Status.REWIND, id="rewind, window not full"),
        pytest.param([(10, 20), (4, 4)], 101.0, Status.OK, id="rewound but caught up"),
        pytest.param(
            [(10, 10), (10, 12), (10, 14), (10, 16)], 100.0, Status.OK, id="lag 0 in window"
        ),
        pytest.param(
            [(5, 10), (5, 12), (5, 14), (5, 16)], 100.0, Status.STALL, id="stuck, input arrives"
        ),
        pytest.param([(5, 10), (5, 10), (5, 10), (5, 10)], 100.0, Status.STALL, id="stuck"),
        pytest.param([(5, 10), (5, 12), (5, 14)], 100.0, Status.OK, id="stuck, window not full"),
        pytest.param(
            [(5, 10), (5, 12), (5, 14), (5, 16)], 73.0, Status.STOP, id="stuck for stop_after_s"
        ),
        pytest.param([(5, 10), (5, 12)], 60.0, Status.STOP, id="stop needs no full window"),
        pytest.param(
            [(10, 20), (12, 22), (5, 25), (6, 26)], 0.0, Status.REWIND, id="rewind before stop"
        ),
        pytest.param(
            [(5, 10), (6, 12), (7, 14), (8, 16)], 103.0, Status.WARN, id="falling behind"
        ),
        pytest.param(
            [(5, 10), (6, 11), (7, 12), (8, 13)], 103.0, Status.WARN, id="lag never shrinks"
        ),
        pytest.param(
            [(5, 10), (6, 12), (9, 13), (10, 16)], 103.0, Status.OK, id="lag shrank once"
        ),
        pytest.param([(5, 10), (8, 11), (10, 12)], 102.0, Status.OK, id="keeping up"),
    ],
)
def test_evaluate(points: list[tuple[int, int]], moved_at_s: float, status: Status) -> None:
    assert evaluate(window(*points), moved_at_s, RULES) is status


def test_lag_is_never_negative() -> None:
    assert Sample(0.0, committed=12, end=10).lag == 0
    assert Sample(0.0, committed=5, end=9).lag == 4


def test_window_goes_stall_then_stop_then_ok_again() -> None:
    part = PartitionWindow(RULES)
    seen = [part.observe(Sample(100.0 + t, 5, 10 + t)) for t in range(40)]
    assert seen[:3] == [Status.OK] * 3
    assert seen[3] is Status.STALL
    assert seen[29] is Status.STALL
    assert seen[30] is Status.STOP
    assert part.observe(Sample(141.0, 50, 50)) is Status.OK


def test_window_keeps_the_newest_samples_only() -> None:
    part = PartitionWindow(RULES)
    for t in range(10):
        part.observe(Sample(float(t), t, t + 3))
    assert [s.committed for s in part.samples] == [6, 7, 8, 9]
    assert part.moved_at_s == 9.0


def test_rules_default_without_lag_settings() -> None:
    assert LagRules.from_settings(WorkerSettings()) == LagRules()


@pytest.mark.parametrize(
    "bad", [{"window": 1}, {"interval_s": 0.0}, {"stop_after_s": -1.0}], ids=str
)
def test_rules_refuse_windows_that_cannot_see_a_stall(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="lag rules"):
        LagRules(**bad)  # type: ignore[arg-type]


class _NoKafka:
    async def read(self, timeout_s: float) -> dict[TopicPartition, Reading]:
        raise AssertionError("not used")

    async def close(self) -> None:
        return None


def _exposed(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.exposition()[0].decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_sampler_sets_lag_gauges_and_one_status() -> None:
    metrics = Metrics()
    sampler = LagSampler(_NoKafka(), metrics, RULES, "g")  # type: ignore[arg-type]
    tp = TopicPartition("orders", 3)
    sampler.record({tp: Reading(committed=5, end=9, head_ts_ms=97_500)}, now_s=100.0)
    got = _exposed(metrics)
    labels = (("group", "g"), ("partition", "3"), ("topic", "orders"))
    assert got[("kafka_consumergroup_group_lag", labels)] == 4
    assert got[("kafka_consumergroup_group_lag_seconds", labels)] == pytest.approx(2.5)
    status = {dict(k[1])["status"]: v for k, v in got.items() if k[0] == "vane_partition_status"}
    assert status == {"OK": 1.0, "WARN": 0.0, "STALL": 0.0, "STOP": 0.0, "REWIND": 0.0}
    assert sampler.snapshot()["partitions"][0]["lag"] == 4


def test_lag_seconds_keeps_the_last_figure_when_the_head_was_not_fetched() -> None:
    metrics = Metrics()
    sampler = LagSampler(_NoKafka(), metrics, RULES, "g")  # type: ignore[arg-type]
    tp = TopicPartition("orders", 0)
    sampler.record({tp: Reading(5, 9, 98_000)}, now_s=100.0)
    sampler.record({tp: Reading(5, 9, None)}, now_s=101.0)
    assert sampler.views[tp].lag_seconds == pytest.approx(2.0)
    sampler.record({tp: Reading(9, 9, None)}, now_s=102.0)
    assert sampler.views[tp].lag_seconds == 0.0


def test_the_group_max_is_the_worst_partition() -> None:
    metrics = Metrics()
    sampler = LagSampler(_NoKafka(), metrics, RULES, "g")  # type: ignore[arg-type]
    readings = {
        TopicPartition("orders", 0): Reading(5, 9, 97_000),
        TopicPartition("refunds", 1): Reading(0, 10, 99_000),
        TopicPartition("refunds", 2): Reading(3, 3, None),
    }
    sampler.record(readings, now_s=100.0)
    got = _exposed(metrics)
    assert got[("kafka_consumergroup_group_max_lag", (("group", "g"),))] == 10
    assert got[("kafka_consumergroup_group_max_lag_seconds", (("group", "g"),))] == 3.0


def test_while_kafka_cannot_be_read_the_oldest_message_keeps_getting_older() -> None:
    """A broker outage shows as lag: nothing can be committed while it lasts."""
    metrics = Metrics()
    sampler = LagSampler(_NoKafka(), metrics, RULES, "g")  # type: ignore[arg-type]
    waiting, idle = TopicPartition("orders", 0), TopicPartition("orders", 1)
    sampler.record({waiting: Reading(5, 9, 98_000), idle: Reading(4, 4, None)}, now_s=100.0)
    sampler.age(now_s=130.0)
    assert sampler.views[waiting].lag_seconds == pytest.approx(32.0)
    assert sampler.views[waiting].lag == 4, "the lag in messages keeps its last value"
    assert sampler.views[idle].lag_seconds == 0.0
    got = _exposed(metrics)
    labels = (("group", "g"), ("partition", "0"), ("topic", "orders"))
    assert got[("kafka_consumergroup_group_lag_seconds", labels)] == pytest.approx(32.0)
    assert got[("kafka_consumergroup_group_max_lag_seconds", (("group", "g"),))] == pytest.approx(
        32.0
    )


def test_a_failed_tick_ages_the_lag() -> None:
    metrics = Metrics()
    sampler = LagSampler(_NoKafka(), metrics, RULES, "g")  # type: ignore[arg-type]
    tp = TopicPartition("orders", 0)
    sampler.record({tp: Reading(5, 9, 1_000)}, now_s=2.0)
    asyncio.run(sampler.tick())  # _NoKafka.read raises: a failed round
    assert sampler._failing
    assert sampler.views[tp].lag_seconds > 1000.0
