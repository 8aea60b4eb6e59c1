"""The py-spy summary: shares per thread, self and inclusive, paths shortened."""

from __future__ import annotations

from streams.devtools.benchmark.profile import summary

RUN = "run (/x/lib/python3.11/asyncio/base_events.py:600)"
APPLY = "apply (streams/store/window_store.py:120)"
FOLDED = "\n".join(
    [
        f"thread (1): MainThread;{RUN};{APPLY};loads (streams/codec.py:14) 6",
        f"thread (1): MainThread;{RUN};{APPLY} 2",
        "thread (2): Thread-1;fetch (/v/site-packages/aiokafka/fetcher.py:9) 2",
        "not a sample line",
    ]
)


def test_shares() -> None:
    text = summary(FOLDED)
    assert text.startswith("10 samples")
    assert " 80.0%  thread (1): MainThread" in text
    assert " 20.0%  thread (2): Thread-1" in text
    self_part, inclusive_part = text.split("inclusive")
    assert " 60.0%  loads (streams/codec.py)" in self_part
    assert " 20.0%  fetch (aiokafka/fetcher.py)" in self_part
    assert " 80.0%  apply (streams/store/window_store.py)" in inclusive_part
    assert " 80.0%  run (asyncio/base_events.py)" in inclusive_part


def test_no_samples() -> None:
    assert summary("") == "no samples\n"
