"""The weight message's schema keeps the evolution policy docs/weight-topic.md states:
an added optional field keeps ``schema: 1``, and a consumer built on schema 1 keeps
working (it validates, and the example recommender applies, messages with new fields)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

from models import decide
from streams import codec
from streams.scoring import weights
from tests.deploy.examples import recommender_consumer
from tests.unit.models.build import SHOP, shop
from tests.unit.models.test_state import CLEAN
from tests.weight_topic import SCHEMA

VALIDATOR = Draft202012Validator(SCHEMA)
# The fields of schema 1 as first published: required then, required for ever.
SCHEMA_1_REQUIRED = [
    "schema", "entity_type", "entity_id", "tier", "weight", "boost", "score", "display",
    "previous", "reasons", "model", "as_of", "as_of_ms", "cause", "seq",
]  # fmt: skip


def message(**penalties: int) -> dict[str, Any]:
    ago = {1: {**CLEAN, "penalty_points": penalties.get("yesterday", 0)}}
    decision = decide(SHOP, shop(ago=ago))
    return weights.build(decision, SHOP, seq=1, as_of_ms=1_795_312_800_000, cause="e1")


def test_messages_carry_the_reference_and_validate() -> None:
    m = message(yesterday=8)
    VALIDATOR.validate(m)
    assert m["reference"] == {"tier": "GOOD", "score": 89.79}
    assert m["model"]["version"] == "2"


def test_a_message_of_model_1_without_reference_still_validates() -> None:
    m = message()
    del m["reference"]
    VALIDATOR.validate(m)


def test_the_fields_of_schema_1_stay_required() -> None:
    assert SCHEMA["required"] == SCHEMA_1_REQUIRED
    for field in SCHEMA_1_REQUIRED:
        m = message()
        del m[field]
        with pytest.raises(ValidationError):
            VALIDATOR.validate(m)


@pytest.mark.parametrize("where", [(), ("previous",), ("model",), ("reasons", 0), ("reference",)])
def test_a_field_added_later_anywhere_keeps_the_message_valid(where: tuple[Any, ...]) -> None:
    m = copy.deepcopy(message(yesterday=8))
    target = m
    for step in where:
        target = target[step]
    target["added_in_a_later_release"] = {"any": ["shape"]}
    VALIDATOR.validate(m)


def test_the_example_recommender_applies_a_message_with_new_fields() -> None:
    table = recommender_consumer().WeightTable()
    m = message(yesterday=8) | {"added_in_a_later_release": 1}
    assert table.apply(b"shop:s1", codec.dumps(m))
    assert table.weight("shop", "s1") == (m["tier"], m["weight"], m["boost"])
