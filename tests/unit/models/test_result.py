"""Rounding for display (half-even, 2 decimals) and the display formulas (§3, §4)."""

from __future__ import annotations

import pytest

from models import round_half_even
from models.result import display_value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2.675, 2.68),  # shortest decimal form, not the binary 2.67499...
        (0.125, 0.12),  # half to even
        (0.375, 0.38),
        (87.444, 87.44),
        (-0.005, -0.0),
        (99.995, 100.0),
    ],
)
def test_round_half_even(value: float, expected: float) -> None:
    assert round_half_even(value) == expected


@pytest.mark.parametrize(
    ("score", "offset", "span", "expected"),
    [
        (87.25, 3, 2, 4.74),  # 3 + 1.745: half to even (4)
        (87.75, 3, 2, 4.76),  # 3 + 1.755: half to even (6); float arithmetic would say 4.75
        (100.0, 3, 2, 5.0),
        (0.0, 3, 2, 3.0),
        (50.1, 0, 5, 2.5),  # 50.1/20 = 2.505
        (50.3, 0, 5, 2.52),  # 2.515
        (77.125, 0, 100, 77.12),
        (77.135, 0, 100, 77.14),
    ],
)
def test_display_formula(score: float, offset: float, span: float, expected: float) -> None:
    assert display_value(score, offset, span, 2) == expected
