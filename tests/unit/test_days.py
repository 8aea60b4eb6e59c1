"""Day numbers are shown as UTC+08:00 dates, through one helper."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from streams.events import anchor_day, day_text

STREAMS = Path(__file__).resolve().parents[2] / "streams"


def _ms(moment: str) -> int:
    return int(datetime.fromisoformat(moment).timestamp() * 1000)


@pytest.mark.parametrize(
    ("moment", "date"),
    [
        ("1970-01-01T00:00:00+08:00", "1970-01-01"),
        ("2026-11-22T10:00:00+08:00", "2026-11-22"),
        ("2026-11-30T23:59:59.999+08:00", "2026-11-30"),
        ("2026-11-30T16:00:00+00:00", "2026-12-01"),  # midnight at UTC+08:00
        ("2026-12-01T15:59:59+00:00", "2026-12-01"),
    ],
)
def test_a_day_number_reads_as_its_date_at_utc_plus_8(moment: str, date: str) -> None:
    assert day_text(anchor_day(_ms(moment))) == date


# A log or echo call whose format shows "day %d" (or "day {day}", "day=%d"): a day number.
DAY_AS_INTEGER = re.compile(
    r"""(?:log\.\w+|echo|print)\(\s*f?["'][^"']*\bday\s*[:=]?\s*(?:%d|\{\w*day\w*\})""", re.S
)


def test_no_log_line_shows_a_day_as_an_integer() -> None:
    found = [
        str(path.relative_to(STREAMS.parent))
        for path in STREAMS.rglob("*.py")
        if DAY_AS_INTEGER.search(path.read_text())
    ]
    assert not found, f"format days with streams.events.day_text: {found}"
