"""Sampling profile of a worker process with py-spy (``vane bench --profile``).

py-spy attaches to the running worker (no restart, no code change) and writes
folded stacks; ``summary`` turns them into the share of samples per function,
self and inclusive, per thread: the table docs/performance.md quotes.
"""

from __future__ import annotations

import collections
import re
import shutil
import subprocess
import sys
from pathlib import Path

_LOCATION = re.compile(r" \((?P<file>[^()]*?)(?::\d+)?\)$")
_NOISE = ("site-packages/", "lib/python3.11/")


def py_spy() -> str | None:
    """The py-spy executable: beside this Python first, then on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start(pid: int, out: Path, rate_hz: int = 200) -> subprocess.Popen[bytes] | None:
    """Record ``pid`` until it exits; None when py-spy is not installed."""
    exe = py_spy()
    if exe is None:
        return None
    argv = [exe, "record", "-p", str(pid), "-r", str(rate_hz), "-f", "raw", "-o", str(out)]
    with out.with_suffix(".log").open("wb") as log:
        return subprocess.Popen([*argv, "--threads"], stdout=log, stderr=subprocess.STDOUT)


def _frame(text: str) -> str:
    match = _LOCATION.search(text)
    if match is None:
        return text
    path = match["file"]
    for noise in _NOISE:
        path = path.split(noise, 1)[-1]
    return f"{text[: match.start()]} ({path})"


def summary(folded: str, top: int = 30) -> str:
    """Self and inclusive shares of the samples, per function, and per thread."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    threads: collections.Counter[str] = collections.Counter()
    total = 0
    for line in folded.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n, frames = int(count), stack.split(";")
        total += n
        threads[frames[0]] += n
        names = [_frame(f) for f in frames[1:]] or [frames[0]]
        own[names[-1]] += n
        for name in set(names):
            inclusive[name] += n
    if not total:
        return "no samples\n"
    out = [f"{total} samples"]
    out += [f"{100 * n / total:5.1f}%  {name}" for name, n in threads.most_common()]
    out.append("\nself (where the CPU is):")
    out += [f"{100 * n / total:5.1f}%  {name}" for name, n in own.most_common(top)]
    out.append("\ninclusive (what it is spent for):")
    out += [f"{100 * n / total:5.1f}%  {name}" for name, n in inclusive.most_common(top * 2)]
    return "\n".join(out) + "\n"
