"""What the demo tells a newcomer: what display is, and why a tier holds near a threshold."""

from __future__ import annotations

from typing import Any

import pytest

from models import load_models
from streams.devtools.demo import _change_line, legend

MODELS = load_models()


def test_the_legend_gives_each_display_range_from_the_models() -> None:
    text = legend(MODELS)
    assert "shop 3-5" in text
    assert "creator 0-5" in text
    assert "product: the score itself" in text
    assert "yesterday" in text and "margin" in text  # noqa: PT018 (one sentence)


def _message(**fields: Any) -> dict[str, Any]:
    body = {
        "entity_type": "shop", "entity_id": "s1", "tier": "GOOD", "weight": 1.1, "boost": 1.0,
        "score": 91.23, "display": 4.65, "previous": {"tier": "STANDARD"}, "reasons": [],
        "reference": {"tier": "GOOD", "score": 89.4},
    }  # fmt: skip
    return body | fields


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        (
            {},
            "yesterday GOOD at 89.40; 91.23 is below 92, the EXCELLENT threshold + 2: stays GOOD",
        ),
        ({"reference": None}, "no rating yesterday: the plain band"),
        ({"score": None, "display": None, "tier": "NEW"}, "unrated today"),
    ],
)
def test_a_weight_update_says_which_sentence_decided_its_tier(
    fields: dict[str, Any], says: str
) -> None:
    assert says in _change_line(_message(**fields), MODELS)


def test_a_model_1_message_without_reference_still_prints() -> None:
    body = _message()
    del body["reference"]
    line = _change_line(body, MODELS)
    assert line.startswith("shop s1: STANDARD -> GOOD (score 91.2, display 4.65")
    assert "yesterday" not in line
