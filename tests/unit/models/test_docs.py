"""docs/scoring.md is generated from the configs: the committed file must match."""

from __future__ import annotations

from pathlib import Path

from models import load_models
from models._choices import COUNTER_MEANINGS
from models.counting import COUNTERS, REGISTERS
from models.docs import render_scoring_md

DOC = Path(__file__).resolve().parents[3] / "docs" / "scoring.md"


def test_committed_docs_match_the_configs() -> None:
    expected = render_scoring_md(load_models())
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/scoring.md is stale: run `python -m models.docs > docs/scoring.md`"
    )


def test_every_counter_and_register_is_explained() -> None:
    kept = {name for names in (*COUNTERS.values(), *REGISTERS.values()) for name in names}
    assert kept == set(COUNTER_MEANINGS)


def test_docs_name_every_indicator_and_mark_choices() -> None:
    text = render_scoring_md(load_models())
    for config in load_models().values():
        assert f"models/{config.source}" in text
        for indicator in config.indicators:
            assert f"| {indicator.name} |" in text
    assert text.count("Vane's choice") >= 15


def test_docs_describe_rulebook_v2_hysteresis() -> None:
    text = render_scoring_md(load_models())
    assert "SCORING.md, version 2" in text
    assert text.count("against the reference tier R") == len(load_models())
    assert text.count("today's register values") == 1  # the product alone has registers
    assert "penalties over the 90 days ending d - 1" in text
