"""The ground truth: it names the entities of the events, and the events reveal it."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence

import pytest

from models.counting import QUALITY_REASONS
from tests.unit.devtools.generator.conftest import Run

MIN_ORDERS = 30


def ranks(values: Sequence[float]) -> list[float]:
    """Ranks from 0, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2
        i = j + 1
    return out


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Spearman's rank correlation: Pearson's over the ranks."""
    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    var_x = sum((a - mx) ** 2 for a in rx)
    var_y = sum((b - my) ** 2 for b in ry)
    return cov / (var_x * var_y) ** 0.5


@pytest.mark.parametrize(
    ("xs", "ys", "rho"),
    [
        ([1, 2, 3, 4], [10, 20, 30, 40], 1.0),
        ([1, 2, 3, 4], [4, 3, 2, 1], -1.0),
        ([1, 2, 3, 4, 5], [2, 1, 4, 3, 5], 0.8),
        ([1, 2, 2, 3], [1, 2, 3, 4], 0.9486832980505138),
    ],
)
def test_spearman_reference_values(xs: list[float], ys: list[float], rho: float) -> None:
    assert spearman(xs, ys) == pytest.approx(rho)


def _quality(run: Run, entity_type: str) -> dict[str, float]:
    return {r["entity_id"]: r["quality"] for r in run.truth if r["entity_type"] == entity_type}


def test_truth_names_every_entity_of_the_events(default_run: Run) -> None:
    seen: dict[str, set[str]] = defaultdict(set)
    for event in default_run.events:
        for entity_type in ("shop", "product", "creator"):
            entity_id = event.body.get(f"{entity_type}_id")
            if entity_id is not None:
                seen[entity_type].add(entity_id)
    for entity_type, ids in seen.items():
        truth = _quality(default_run, entity_type)
        assert ids <= set(truth), entity_type
        assert len(ids) >= 0.9 * len(truth), entity_type  # few entities never show up
    config = default_run.config
    assert len(_quality(default_run, "shop")) == config.shops
    hosts = [r for r in default_run.truth if r["entity_type"] == "creator" and r["host_of"]]
    assert len(_quality(default_run, "creator")) == config.creators + len(hosts)
    assert all(0.0 <= r["quality"] <= 1.0 for r in default_run.truth)


def _per_shop(run: Run) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for event in run.events:
        b = event.body
        if "order_id" not in b:
            continue
        c = counts[b["shop_id"]]
        if event.type == "order.paid":
            c["paid"] += 1
        elif event.type == "refund.requested":
            c["quality_refunds"] += b["reason"] in QUALITY_REASONS
        elif event.type == "order.reviewed":
            c["bad_reviews"] += b["rating"] <= 2
        elif event.type == "shipment.collected":
            c["late_pickups"] += event.ts_ms > b["ship_by"]
        elif event.type == "order.cancelled":
            c["merchant_cancels"] += b["cancelled_by"] != "buyer"
        elif event.type == "refund.resolved" and b["resolved_by"] == "platform":
            c["lost_disputes"] += b["merchant_liable"]
    return counts


BAD = ("quality_refunds", "bad_reviews", "late_pickups", "merchant_cancels", "lost_disputes")
GOOD_BEHAVIOUR: dict[str, Callable[[Counter[str]], float]] = {
    "1 - quality refund rate": lambda c: 1 - c["quality_refunds"] / c["paid"],
    "1 - bad things per order": lambda c: 1 - sum(c[k] for k in BAD) / c["paid"],
}


@pytest.mark.parametrize(("behaviour", "floor"), [("1 - quality refund rate", 0.6),
                                                   ("1 - bad things per order", 0.8)])  # fmt: skip
def test_shop_quality_is_recoverable(default_run: Run, behaviour: str, floor: float) -> None:
    truth = _quality(default_run, "shop")
    shops = [(shop, c) for shop, c in _per_shop(default_run).items() if c["paid"] >= MIN_ORDERS]
    assert len(shops) >= 50
    rho = spearman([truth[s] for s, _ in shops], [GOOD_BEHAVIOUR[behaviour](c) for _, c in shops])
    print(f"Spearman(shop quality, {behaviour}) over {len(shops)} shops: {rho:.3f}")
    assert rho > floor


def test_creator_quality_is_recoverable_from_reports(default_run: Run) -> None:
    minutes: Counter[str] = Counter()
    reports: Counter[str] = Counter()
    for event in default_run.events:
        if event.type == "live.stats":
            minutes[event.body["creator_id"]] += event.body["viewer_minutes"]
        elif event.type == "live.report":
            reports[event.body["creator_id"]] += 1
    truth = _quality(default_run, "creator")
    creators = [c for c in minutes if minutes[c] >= 10_000]
    assert len(creators) >= 40
    rate = [-reports[c] / minutes[c] for c in creators]
    assert spearman([truth[c] for c in creators], rate) > 0.8
