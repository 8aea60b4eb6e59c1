"""Same arguments, same bytes; a shorter run is the start of a longer one."""

from __future__ import annotations

import gzip
from pathlib import Path

from streams.devtools.generator import GeneratorConfig, build, generate, write, write_truth

SMALL = GeneratorConfig(days=4, shops=20, creators=6, orders_per_day=300, seed=11)


def _bytes(config: GeneratorConfig) -> bytes:
    return b"".join(line for _, line in generate(config))


def test_same_config_same_bytes() -> None:
    assert _bytes(SMALL) == _bytes(SMALL)


def test_another_seed_another_marketplace() -> None:
    other = GeneratorConfig(days=4, shops=20, creators=6, orders_per_day=300, seed=12)
    assert _bytes(SMALL) != _bytes(other)


def test_files_plain_and_gzip_are_identical_run_to_run(tmp_path: Path) -> None:
    paths = [tmp_path / name for name in ("a.jsonl", "b.jsonl", "a.jsonl.gz", "b.jsonl.gz")]
    for path in paths:
        write(SMALL, str(path))
    plain_a, plain_b, packed_a, packed_b = (p.read_bytes() for p in paths)
    assert plain_a == plain_b == _bytes(SMALL)
    assert packed_a == packed_b
    assert packed_a[4:8] == b"\0\0\0\0"  # gzip mtime 0
    assert gzip.decompress(packed_a) == plain_a


def test_ground_truth_is_identical_run_to_run(tmp_path: Path) -> None:
    first, second = tmp_path / "1.jsonl", tmp_path / "2.jsonl"
    write_truth(build(SMALL), str(first))
    write_truth(build(SMALL), str(second))
    assert first.read_bytes() == second.read_bytes()


def test_a_shorter_run_is_the_start_of_a_longer_one() -> None:
    short = GeneratorConfig(days=2, shops=20, creators=6, orders_per_day=300, seed=11)
    long_lines = set(_bytes(SMALL).splitlines())
    short_lines = set(_bytes(short).splitlines())
    assert short_lines < long_lines
