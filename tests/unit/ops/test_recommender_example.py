"""The example recommender consumer's table: idempotent on seq, schema-aware."""

from __future__ import annotations

import json

from tests.deploy.examples import recommender_consumer


def _value(seq: int, tier: str = "GOOD", weight: float = 1.1, schema: int = 1) -> bytes:
    return json.dumps(
        {"schema": schema, "seq": seq, "tier": tier, "weight": weight, "boost": 1.0}
    ).encode()


def test_highest_seq_wins_and_older_or_equal_is_ignored() -> None:
    table = recommender_consumer().WeightTable()
    assert table.apply(b"shop:s1", _value(1, "STANDARD", 1.0))
    assert table.apply(b"shop:s1", _value(3))
    assert not table.apply(b"shop:s1", _value(3))
    assert not table.apply(b"shop:s1", _value(2, "POOR", 0.8))
    assert table.weight("shop", "s1") == ("GOOD", 1.1, 1.0)
    assert table.ignored == 2


def test_unknown_entities_unknown_schemas_tombstones_and_keyless_records() -> None:
    table = recommender_consumer().WeightTable()
    assert table.weight("creator", "c9") == ("NEW", 1.0, 1.0)
    assert not table.apply(b"shop:s1", _value(1, schema=2))
    assert not table.apply(None, _value(1))
    assert table.apply(b"shop:s1", _value(1))
    assert table.apply(b"shop:s1", None)
    assert table.weight("shop", "s1") == ("NEW", 1.0, 1.0)
