"""Files of one JSON value per line, plain or gzip (by the ``.gz`` suffix), or stdio (``-``)."""

from __future__ import annotations

import contextlib
import gzip
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, cast

from streams import codec


@contextlib.contextmanager
def open_lines(path: str) -> Iterator[Iterator[tuple[int, bytes]]]:
    """(line number from 1, line bytes without the newline); blank lines skipped."""
    with _open_read(path) as handle:
        yield ((n, line.rstrip(b"\r\n")) for n, line in enumerate(handle, 1) if line.strip())


@contextlib.contextmanager
def _open_read(path: str) -> Iterator[IO[bytes]]:
    if path == "-":
        yield sys.stdin.buffer
    elif path.endswith(".gz"):
        with gzip.open(path, "rb") as handle:
            yield cast(IO[bytes], handle)
    else:
        with Path(path).open("rb") as handle:
            yield handle


def write_lines(path: str, values: Iterable[Any]) -> int:
    """Write each value as a line of sorted-key JSON; return how many."""
    count = 0
    with _open_write(path) as handle:
        for value in values:
            handle.write(codec.dumps_sorted(value) + b"\n")
            count += 1
    return count


@contextlib.contextmanager
def _open_write(path: str) -> Iterator[IO[bytes]]:
    if path == "-":
        yield sys.stdout.buffer
    elif path.endswith(".gz"):
        with (
            Path(path).open("wb") as raw,
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as handle,
        ):
            yield cast(IO[bytes], handle)
    else:
        with Path(path).open("wb") as handle:
            yield handle
