"""The explanation names R (rulebook v2 §7), the sentence that decides the tier, and how
shrinkage toward the platform baseline moved each rate away from x / n."""

from __future__ import annotations

import pytest

from models import EntityWindows
from streams.scoring.explain import _render, render_text
from streams.store import PublishedState, Snapshot
from tests.unit.models.build import DAY, SHOP, shop
from tests.unit.models.test_state import CLEAN

STREAM_MS = (DAY + 1) * 86_400_000 - 28_800_000 - 1  # the last ms of the as-of day


def explained(windows: EntityWindows) -> dict[str, object]:
    return _render(SHOP, Snapshot(windows, {}, PublishedState()), None, STREAM_MS)


@pytest.mark.parametrize(
    ("penalties", "reference", "tier", "sentence"),
    [
        # CLEAN scores 97.79 before penalties; points by days ago (d - 90 .. d - 1 is R's).
        (
            {90: 15, 0: 6},
            {"tier": "GOOD", "score": 82.79},
            "GOOD",
            "yesterday GOOD at 82.79; 91.79 is below 92, the EXCELLENT threshold + 2: stays GOOD",
        ),
        ({90: 15, 0: 5}, {"tier": "GOOD", "score": 82.79}, "EXCELLENT", "EXCELLENT"),
        ({1: 10, 0: 40}, {"tier": "GOOD", "score": 87.79}, "WATCH", "WATCH"),
    ],
)
def test_explain_names_the_reference_and_the_deciding_sentence(
    penalties: dict[int, int], reference: dict[str, object], tier: str, sentence: str
) -> None:
    ago: dict[int, dict[str, int]] = {b: {"penalty_points": p} for b, p in penalties.items()}
    ago[1] = {**CLEAN, **ago.get(1, {})}  # the orders were paid yesterday: rated both days
    e = explained(shop(ago=ago))
    assert (e["reference"], e["tier"]) == (reference, tier)
    assert sentence in str(e["tier_rule"])
    assert f"tier: {e['tier_rule']}" in render_text(e)


def test_no_reference_when_unrated_yesterday() -> None:
    e = explained(shop(**CLEAN))  # every order paid today: nothing as of d - 1
    assert e["reference"] is None
    assert "no rating yesterday" in str(e["tier_rule"])


def test_shrinkage_is_said_where_it_moves_a_rate() -> None:
    e = explained(shop(paid=40, free_shipping=40, quality_refunds=3))
    rows = {r["name"]: r for r in e["indicators"]}  # type: ignore[attr-defined]
    refund = rows["quality_refund_rate"]
    assert refund["baseline"] == pytest.approx(0.02)
    assert refund["shrinkage"].startswith("3 / 40 = 7.50 %, shrunk toward the 2.00 % baseline")
    assert rows["free_shipping_rate"]["shrinkage"].startswith("40 / 40 = 100.00 %")
    text = render_text(e)
    assert "shrunk toward the platform baseline" in text
    assert "quality_refund_rate: 3 / 40 = 7.50 %" in text
