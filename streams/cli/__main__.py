"""``python -m streams.cli``: the same as the ``vane`` console script."""

from streams.cli import run

run()
