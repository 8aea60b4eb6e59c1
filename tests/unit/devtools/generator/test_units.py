"""The generator's small parts: config, draws, time format, behaviour, ordering, purity."""

from __future__ import annotations

import ast
import random
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams import codec
from streams.devtools.generator import behaviour
from streams.devtools.generator.config import DAY_MS, GeneratorConfig
from streams.devtools.generator.draw import between, pick
from streams.devtools.generator.events import rfc3339
from streams.devtools.generator.ordering import Item, skewed
from streams.events import Stream
from streams.intake.contract import parse

PACKAGE = Path(__file__).resolve().parents[4] / "streams" / "devtools" / "generator"


@pytest.mark.parametrize(
    ("field", "value"),
    [("days", 0), ("shops", 0), ("creators", -1), ("orders_per_day", 0), ("max_skew_ms", -1)],
)
def test_config_rejects_out_of_range(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        GeneratorConfig(**{field: value})


def test_config_horizon() -> None:
    config = GeneratorConfig(days=3)
    assert config.end_ms - config.start_ms == 3 * DAY_MS


@given(st.integers(min_value=0, max_value=253_402_271_999_999))
def test_rfc3339_round_trips_through_the_contract(ms: int) -> None:
    text = rfc3339(ms)
    assert text.endswith("+08:00")
    body = {"event_id": "e", "type": "live.ended", "ts": text, "room_id": "r", "creator_id": "c"}
    assert parse(Stream.LIVESTREAM, codec.dumps(body)).ts_ms == ms


def test_draws_stay_in_range() -> None:
    rng = random.Random(3)
    assert all(5 <= between(rng, 5, 9) < 9 for _ in range(1000))
    assert between(rng, 7, 7) == 7
    picks = [pick(rng, "abc", [1.0, 1.0, 10.0]) for _ in range(2000)]
    assert set(picks) == {"a", "c"}  # b has no weight of its own
    assert picks.count("c") > 0.8 * len(picks)


# Fields that fall as quality rises; the others rise with it.
FALLING = {"p_carrier_fault": False, "p_free_shipping": False}


@pytest.mark.parametrize("name", [f.name for f in fields(behaviour.ShopBehaviour)])
def test_shop_behaviour_is_monotone_in_quality(name: str) -> None:
    values = [getattr(behaviour.shop_behaviour(q / 10), name) for q in range(11)]
    rising = FALLING.get(name, True)
    assert values == sorted(values, reverse=rising)
    assert values[0] != values[-1]


@pytest.mark.parametrize("name", [f.name for f in fields(behaviour.CreatorBehaviour)])
def test_creator_behaviour_gets_worse_as_quality_falls(name: str) -> None:
    values = [getattr(behaviour.creator_behaviour(q / 10), name) for q in range(11)]
    assert values == sorted(values, reverse=True)
    assert values[0] > values[-1]


def _items(times: list[tuple[int, int]]) -> list[tuple[int, list[Item]]]:
    streams = list(Stream)
    ordered = sorted((ts, n, streams[s], "t", b"") for n, (ts, s) in enumerate(times))
    return [(max((i[0] for i in ordered), default=0) + 1, ordered)]


@given(
    st.lists(st.tuples(st.integers(0, 10**7), st.integers(0, 3)), max_size=300),
    st.integers(0, 10**6),
    st.integers(0, 10_000),
)
def test_skew_is_bounded_and_keeps_each_topic_in_order(
    times: list[tuple[int, int]], max_skew_ms: int, seed: int
) -> None:
    batches = _items(times)
    out = list(skewed(batches, seed, max_skew_ms))
    assert sorted(out) == batches[0][1]
    latest = 0
    for item in out:
        assert item[0] >= latest - max_skew_ms
        latest = max(latest, item[0])
    for stream in Stream:
        mine = [item for item in out if item[2] is stream]
        assert mine == sorted(mine)


def test_zero_skew_writes_in_time_order() -> None:
    batches = _items([(ts, ts % 4) for ts in range(0, 5000, 7)])
    assert list(skewed(batches, 1, 0)) == batches[0][1]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_the_generator_is_pure(path: Path) -> None:
    """No infrastructure; randomness only from a seeded Random; no wall clock."""
    assert not _imports(path) & {"faust", "mode", "redis", "aiokafka", "orjson", "uuid", "secrets"}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.value.id == "random":
                assert node.attr == "Random", f"{path.name}: random.{node.attr}"
            if node.value.id in ("time", "datetime"):
                assert node.attr not in ("time", "now", "today", "utcnow", "time_ns")


def test_importing_the_generator_loads_no_infrastructure() -> None:
    code = (
        "import sys, streams.devtools.generator, streams.cli.generate; "
        "print(sorted({'faust', 'redis', 'aiokafka'} & {m.split('.')[0] for m in sys.modules}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
