"""The benchmark's arithmetic: percentiles, ratios, CDF points, steady-state rates."""

from __future__ import annotations

import math
import os

import pytest

from streams.devtools.benchmark.figures import (
    Sample,
    Throughput,
    between,
    cdf,
    cpu_seconds,
    percentile,
    ratio,
    steady,
)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 50, 5.0),
        ([5.0], 99, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([4.0, 1.0, 3.0, 2.0], 50, 2.5),  # order does not matter
        (list(map(float, range(1, 101))), 99, 99.01),
        ([0.0, 10.0], 90, 9.0),
    ],
)
def test_percentile(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(percentile([], 50))


@pytest.mark.parametrize(
    ("value", "base", "expected"),
    [(9.0, 6.0, 1.5), (1.0, 4.0, 0.25), (None, 2.0, None), (2.0, None, None), (2.0, 0.0, None)],
)
def test_ratio(value: float | None, base: float | None, expected: float | None) -> None:
    assert ratio(value, base) == expected


def test_cdf_ends_at_one_and_rises() -> None:
    points = cdf([float(v) for v in range(1000)], points=10)
    assert points[-1] == (999.0, 1.0)
    assert [p[1] for p in points] == sorted(p[1] for p in points)
    assert len(points) <= 11
    assert cdf([]) == []


def test_throughput_units() -> None:
    th = Throughput(events=50_000, seconds=5.0, cpu_s=2.0)
    assert th.per_s == 10_000
    assert th.cpu_s_per_100k == 4.0


def test_steady_skips_the_start_and_stops_at_done() -> None:
    samples = [
        Sample(0.0, 0, 0.5),  # joining the group: not counted
        Sample(1.0, 0, 0.9),
        Sample(2.0, 1_000, 1.0),
        Sample(4.0, 5_000, 3.0),
        Sample(6.0, 9_000, 5.0),
        Sample(7.0, 9_000, 5.1),  # after the end: not counted
    ]
    th = steady(samples, total=9_000)
    assert th == between(samples[2], samples[4])
    assert (th.events, th.seconds, th.cpu_s) == (8_000, 4.0, 4.0)


def test_steady_without_the_end_uses_the_last_sample() -> None:
    samples = [Sample(0.0, 10, 0.0), Sample(1.0, 20, 1.0)]
    assert steady(samples, total=100).events == 10


def test_cpu_seconds_of_this_process() -> None:
    used = cpu_seconds(os.getpid())
    sum(range(200_000))
    assert 0 < used <= cpu_seconds(os.getpid())
