"""Pure arithmetic of the benchmark: rates, CPU per 100k events, ratios, percentiles.

>>> percentile([1.0, 2.0, 3.0, 4.0], 50)
2.5
>>> ratio(9_000.0, 6_000.0)
1.5
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear between closest ranks; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def ratio(value: float | None, base: float | None) -> float | None:
    """``value / base``, None when either is missing or the base is 0."""
    if value is None or base is None or base == 0:
        return None
    return value / base


def cdf(values: Sequence[float], points: int = 200) -> list[tuple[float, float]]:
    """(value, fraction <= value) at up to ``points`` evenly spaced ranks."""
    ordered = sorted(values)
    if not ordered:
        return []
    step = max(1, len(ordered) // points)
    out = [(ordered[i], (i + 1) / len(ordered)) for i in range(0, len(ordered), step)]
    if out[-1][1] < 1.0:
        out.append((ordered[-1], 1.0))
    return out


@dataclass(frozen=True, slots=True)
class Sample:
    """A progress observation: when, how many events done, CPU seconds used so far."""

    t: float
    done: int
    cpu_s: float


@dataclass(frozen=True, slots=True)
class Throughput:
    """Events over the measured interval, with the CPU they cost."""

    events: int
    seconds: float
    cpu_s: float

    @property
    def per_s(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else math.nan

    @property
    def cpu_s_per_100k(self) -> float:
        return self.cpu_s / self.events * 100_000 if self.events else math.nan


def between(first: Sample, last: Sample) -> Throughput:
    """The throughput from one observation to a later one."""
    return Throughput(last.done - first.done, last.t - first.t, last.cpu_s - first.cpu_s)


def steady(samples: Sequence[Sample], total: int) -> Throughput:
    """From the first sample showing progress to the first showing all ``total`` done.

    Both ends are seen the same way (committed offsets, polled), so the polling and
    commit-interval delays cancel out; start-up and the group join are left out.
    """
    started = next(s for s in samples if s.done > 0)
    finished = next((s for s in samples if s.done >= total), samples[-1])
    return between(started, finished)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and all its threads (Linux /proc)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _TICKS_PER_S
