"""Files of one JSON value per line, plain or gzip (by the ``.gz`` suffix), or stdio (``-``).

A file that cannot be read to its end (a truncated or corrupt ``.gz``) is a
``click.ClickException`` naming the file and the cause: one line from ``vane``.
``OUTPUT`` is the parameter type of an output file: its folder must exist.
"""

from __future__ import annotations

import contextlib
import gzip
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, cast

import click

from streams import codec


class OutputFile(click.ParamType):
    """A file to write (``-``: stdout) whose folder exists, checked before any work."""

    name = "file"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        folder = Path(value).expanduser().parent
        if value != "-" and not folder.is_dir():
            self.fail(f"{value!r}: folder {str(folder)!r} does not exist", param, ctx)
        return str(value)


OUTPUT = OutputFile()


@contextlib.contextmanager
def open_lines(path: str) -> Iterator[Iterator[tuple[int, bytes]]]:
    """(line number from 1, line bytes without the newline); blank lines skipped."""
    with _open_read(path) as handle:
        yield _lines(path, handle)


def _lines(path: str, handle: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    try:
        for number, line in enumerate(handle, 1):
            if line.strip():
                yield number, line.rstrip(b"\r\n")
    except EOFError as exc:  # gzip: the data ends before the end-of-stream marker
        raise click.ClickException(f"{path}: truncated: {exc}") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise click.ClickException(f"{path}: not a valid gzip file: {exc}") from None


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
    with line_writer(path) as write:
        for value in values:
            write(value)
            count += 1
    return count


@contextlib.contextmanager
def line_writer(path: str, *, flush: bool = False) -> Iterator[Callable[[Any], None]]:
    """A function writing one value as a line of sorted-key JSON (flushed if ``flush``)."""
    with _open_write(path) as handle:

        def write(value: Any) -> None:
            handle.write(codec.dumps_sorted(value) + b"\n")
            if flush:
                handle.flush()

        yield write


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
