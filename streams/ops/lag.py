"""Consumer lag rules: a Burrow-style status per partition, from a window of samples.

Pure: ``Sample``, ``LagRules``, ``evaluate`` and ``PartitionWindow`` know no Kafka.
The reader (``streams.kafka.lag_reader``) fetches the figures; the sampler
(``streams.ops.lag_sampler``) feeds them here and serves ``/lag``. See
docs/operations.md.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import pairwise

from streams.settings import WorkerSettings


class Status(StrEnum):
    """A partition's status, as Burrow names them (see ``evaluate``)."""

    OK = "OK"
    WARN = "WARN"
    STALL = "STALL"
    STOP = "STOP"
    REWIND = "REWIND"


@dataclass(frozen=True, slots=True)
class Sample:
    """One observation of a partition: ``Sample(at_s=10.0, committed=5, end=9).lag == 4``."""

    at_s: float  # wall clock, epoch seconds
    committed: int  # the group's committed offset (next offset to consume)
    end: int  # high watermark (offset of the next message to be written)

    @property
    def lag(self) -> int:
        return max(0, self.end - self.committed)


@dataclass(frozen=True, slots=True)
class LagRules:
    """How often to sample, how many samples make a window, when a stall is a stop."""

    interval_s: float = 2.0
    window: int = 10  # at least 2: a window of one sample never sees a stall
    stop_after_s: float = 120.0

    def __post_init__(self) -> None:
        if self.interval_s <= 0 or self.window < 2 or self.stop_after_s <= 0:
            raise ValueError(
                f"lag rules need interval_s > 0, window >= 2, stop_after_s > 0: {self}"
            )

    @classmethod
    def from_settings(cls, worker: WorkerSettings) -> LagRules:
        """The ``VANE_LAG_INTERVAL_S``, ``VANE_LAG_WINDOW``, ``VANE_LAG_STOP_AFTER_S`` settings."""
        return cls(worker.lag_interval_s, worker.lag_window, worker.lag_stop_after_s)


def evaluate(samples: Sequence[Sample], moved_at_s: float, rules: LagRules) -> Status:
    """The status of a partition from its window of samples, oldest first.

    ``moved_at_s`` is when the committed offset last changed (or was first seen).
    First matching rule wins:

    1. OK      fewer than 2 samples, or no lag now;
    2. REWIND  the committed offset went backwards inside the window;
    3. OK      the lag was 0 somewhere in the window (caught up a moment ago);
    4. STOP    the committed offset has not moved for ``stop_after_s``;
    5. STALL   the window is full and the committed offset did not move across it;
    6. WARN    the window is full, the offset moves, but the lag never shrank
               between two consecutive samples (the group is falling behind);
    7. OK      otherwise.
    """
    if len(samples) < 2 or samples[-1].lag == 0:
        return Status.OK
    newest = samples[-1]
    if any(b.committed < a.committed for a, b in pairwise(samples)):
        return Status.REWIND
    if any(s.lag == 0 for s in samples):
        return Status.OK
    if newest.at_s - moved_at_s >= rules.stop_after_s:
        return Status.STOP
    if len(samples) < rules.window:
        return Status.OK
    if samples[0].committed == newest.committed:
        return Status.STALL
    if all(b.lag >= a.lag for a, b in pairwise(samples)):
        return Status.WARN
    return Status.OK


@dataclass(slots=True)
class PartitionWindow:
    """The sliding window of one partition: feed samples, read the status."""

    rules: LagRules
    samples: deque[Sample] = field(init=False)
    moved_at_s: float = 0.0

    def __post_init__(self) -> None:
        self.samples = deque(maxlen=self.rules.window)

    def observe(self, sample: Sample) -> Status:
        last = self.samples[-1] if self.samples else None
        if last is None or last.committed != sample.committed:
            self.moved_at_s = sample.at_s
        self.samples.append(sample)
        return evaluate(self.samples, self.moved_at_s, self.rules)
