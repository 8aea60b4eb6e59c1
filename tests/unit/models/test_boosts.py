"""River boost and creator reward (SCORING.md §8).

Shop:    B = 1 + 0.05·floor(20·min(0.30, 0.10·ln(1 + D/10 000)) + 1e-9)
Creator: R = 1 + 0.05·floor(20·min(0.20, 0.08·ln(1 + G/10 000)) + 1e-9)
Step k is reached at D = 10 000·(e^(k/2) - 1) for the shop, at
G = 10 000·(e^(0.625·k) - 1) for the creator.
"""

from __future__ import annotations

import math

import pytest

from models import EntityWindows, boost
from models.boosts import river_multiplier
from tests.unit.models.build import CREATOR, PRODUCT, SHOP, creator, product, shop


@pytest.mark.parametrize(
    ("gmv_fen", "expected"),
    [
        (0, 1.00),
        (648_721, 1.00),  # D = 6 487.21 < 10 000·(e^0.5 - 1) = 6 487.2127
        (648_722, 1.05),
        (1_718_281, 1.05),  # 10 000·(e^1 - 1) = 17 182.818
        (1_718_282, 1.10),
        (3_000_000, 1.10),  # 20·0.10·ln(4) = 2.77 -> 2 steps
        (3_481_690, 1.15),  # 10 000·(e^1.5 - 1) = 34 816.891
        (6_389_057, 1.20),  # 10 000·(e^2 - 1) = 63 890.561
        (11_182_493, 1.20),
        (11_182_494, 1.25),  # 10 000·(e^2.5 - 1) = 111 824.940
        (19_085_536, 1.25),
        (19_085_537, 1.30),  # 10 000·(e^3 - 1) = 190 855.369: the 0.30 cap
        (1_000_000_000, 1.30),
    ],
)
def test_shop_boost_steps(gmv_fen: int, expected: float) -> None:
    assert boost(SHOP, shop(dist_gmv_fen=gmv_fen), "STANDARD") == expected


@pytest.mark.parametrize(
    ("gmv_fen", "expected"),
    [
        (868_245, 1.00),  # 10 000·(e^0.625 - 1) = 8 682.46
        (868_246, 1.05),
        (2_490_343, 1.10),  # 10 000·(e^1.25 - 1) = 24 903.43
        (5_520_819, 1.10),
        (5_520_820, 1.15),  # 10 000·(e^1.875 - 1) = 55 208.19
        (11_182_493, 1.15),
        (11_182_494, 1.20),  # 10 000·(e^2.5 - 1): the 0.20 cap
        (1_000_000_000, 1.20),
    ],
)
def test_creator_reward_steps(gmv_fen: int, expected: float) -> None:
    assert boost(CREATOR, creator(dist_gmv_fen=gmv_fen), "GOOD") == expected


@pytest.mark.parametrize(
    ("tier", "expected"),
    [
        ("EXCELLENT", 1.10),
        ("GOOD", 1.10),
        ("STANDARD", 1.10),
        ("WATCH", 1.0),
        ("POOR", 1.0),
        ("NEW", 1.0),
    ],
)
def test_boost_only_for_standard_or_better(tier: str, expected: float) -> None:
    assert boost(SHOP, shop(dist_gmv_fen=3_000_000), tier) == expected
    assert boost(CREATOR, creator(dist_gmv_fen=3_000_000), tier) == expected


@pytest.mark.parametrize(
    ("windows", "expected"),
    [
        pytest.param(shop(dist_gmv_fen=5_000_000, dist_refund_fen=2_000_000), 1.10, id="netted"),
        pytest.param(
            shop(dist_gmv_fen=5_000_000, dist_refund_fen=5_000_000), 1.00, id="all-refunded"
        ),
        pytest.param(shop(dist_gmv_fen=1_000, dist_refund_fen=9_000), 1.00, id="floored-at-0"),
        pytest.param(shop(ago={6: {"dist_gmv_fen": 3_000_000}}), 1.10, id="6-days-ago"),
        pytest.param(shop(ago={7: {"dist_gmv_fen": 3_000_000}}), 1.00, id="out-of-7-days"),
    ],
)
def test_net_distribution_gmv_over_7_days(windows: EntityWindows, expected: float) -> None:
    assert boost(SHOP, windows, "GOOD") == expected


def _threshold_from_below(k: int) -> float:
    """The largest D whose computed 20·0.10·ln(1 + D/10 000) is still below k."""
    amount = 10_000 * (math.exp(k / 2) - 1)
    while 20 * min(0.30, 0.10 * math.log(1 + amount / 10_000)) >= k:
        amount = math.nextafter(amount, 0.0)
    return amount


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_epsilon_absorbs_float_error_at_a_step(k: int) -> None:
    river = SHOP.boost
    assert river is not None
    edge = _threshold_from_below(k)
    raw = 20 * min(0.30, 0.10 * math.log(1 + edge / 10_000))
    assert k - 1e-9 < raw < k  # a plain floor would give k - 1 ...
    assert river_multiplier(river, edge) == pytest.approx(1 + 0.05 * k)  # ... + 1e-9 gives k
    assert river_multiplier(river, edge - 0.01) == pytest.approx(1 + 0.05 * (k - 1))


def test_boost_values_have_no_float_noise() -> None:
    river = SHOP.boost
    assert river is not None
    values = [river_multiplier(river, 10_000 * (math.exp(k / 2) - 1) + 1) for k in range(7)]
    assert values == [1.0, 1.05, 1.1, 1.15, 1.2, 1.25, 1.3]


def test_products_have_no_boost() -> None:
    assert boost(PRODUCT, product(paid=1), "EXCELLENT") == 1.0
