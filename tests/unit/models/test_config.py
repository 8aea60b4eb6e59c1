"""Model configs: packaged, versioned, every rulebook number in place, bad ones refused."""

from __future__ import annotations

from importlib import resources

import pytest

from models import ModelConfigError, load_model, load_models, parse_model
from models.indicators import ShrunkIndicator

SHOP_TEXT = resources.files("models").joinpath("shop.toml").read_text(encoding="utf-8")


def test_three_models_are_packaged_and_versioned() -> None:
    models = load_models()
    assert list(models) == ["shop", "product", "creator"]
    for name, config in models.items():
        assert (config.name, config.version, config.source) == (name, "2", f"{name}.toml")
        assert config.entity_type == name
        assert config.total_weight == 100


# SCORING.md §4: (model, indicator, p0, good, bad, weight); p0 None = not shrunk.
RULEBOOK = [
    ("shop", "quality_refund_rate", 0.02, 0.005, 0.05, 20),
    ("shop", "negative_review_rate", 0.01, 0.003, 0.03, 15),
    ("shop", "pickup_on_time_rate", 0.95, 0.99, 0.90, 12),
    ("shop", "delivery_on_time_rate", 0.92, 0.97, 0.85, 10),
    ("shop", "logistics_exception_rate", 0.003, 0.001, 0.01, 4),
    ("shop", "free_shipping_rate", 0.80, 0.95, 0.50, 4),
    ("shop", "aftersales_hours", 24, 12, 72, 10),
    ("shop", "dispute_rate", 0.002, 0.0005, 0.005, 15),
    ("shop", "merchant_cancel_rate", 0.01, 0.005, 0.025, 10),
    ("product", "quality_refund_rate", 0.02, 0.005, 0.05, 20),
    ("product", "negative_review_rate", 0.01, 0.003, 0.03, 15),
    ("product", "pickup_on_time_rate", 0.95, 0.99, 0.90, 8),
    ("product", "merchant_cancel_rate", 0.01, 0.005, 0.025, 7),
    ("creator", "misdescription_rate", 0.008, 0.003, 0.03, 15),
    ("creator", "report_rate", 0.2, 0.05, 1.0, 15),
    ("creator", "quality_refund_rate", 0.02, 0.005, 0.05, 25),
    ("creator", "negative_review_rate", 0.01, 0.003, 0.03, 15),
    ("creator", "dispute_rate", 0.002, 0.0005, 0.005, 15),
    ("creator", "pickup_on_time_rate", 0.95, 0.99, 0.90, 15),
]


@pytest.mark.parametrize(("model", "name", "p0", "good", "bad", "weight"), RULEBOOK)
def test_rulebook_numbers(
    model: str, name: str, p0: float, good: float, bad: float, weight: float
) -> None:
    indicator = load_models()[model].indicator(name)
    assert isinstance(indicator, ShrunkIndicator)
    assert (indicator.p0, indicator.good, indicator.bad, indicator.weight) == (
        p0,
        good,
        bad,
        weight,
    )


def test_windows_evidence_and_shrinkage() -> None:
    shop, product, creator = (load_models()[n] for n in ("shop", "product", "creator"))
    assert (shop.window.days, shop.window.fallback_days, shop.window.fallback_below_paid) == (
        30,
        90,
        30,
    )
    assert (creator.window.days, creator.window.fallback_days) == (30, 90)
    assert (product.window.days, product.window.fallback_days) == (30, None)
    assert (shop.min_paid, creator.min_paid, product.min_paid) == (30, 30, 20)
    assert (shop.m, product.m, creator.m) == (30, 20, 20)
    assert product.indicator("heat").window_days == 7
    assert shop.penalty is not None
    assert (shop.penalty.window_days, shop.penalty.cap) == (90, 40)
    assert product.penalty is None


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("p0 = 0.02", 'p0 = "two"', r"shop\.toml: indicators\[0\]\.p0: expected a number"),
        ("weight = 20", "weight = 0", r"shop\.toml: indicators\[0\]\.weight: must be > 0"),
        (
            'x = "quality_refunds"',
            'x = "refunds"',
            r"indicators\[0\]\.x: 'refunds' is not a counter",
        ),
        ('kind = "rate"', 'kind = "ratio"', r"indicators\[0\]\.kind: unknown kind"),
        ("good = 0.005", "good = 0.05", r"indicators\[0\]\.bad: must differ from good"),
        ("config_schema = 1", "config_schema = 2", r"shop\.toml: config_schema: expected 1"),
        ("[penalty]", "[penalty]\nlimit = 3", r"shop\.toml: penalty\.limit: unknown key"),
        ('version = "2"', "", r"shop\.toml: model\.version: missing"),
        ("min_score = 80", "min_score = 95", r"shop\.toml: tiers\.bands: best first"),
        ('min_tier = "STANDARD"', 'min_tier = "OK"', r"boost\.min_tier: not a tier"),
        ("step = 0.05", "step = 0.07", r"shop\.toml: boost\.step: 1/step must be whole"),
        ('indicator = "merchant_cancel_rate"', 'indicator = "x"', r"new_entity_boost\.guard\[1\]"),
        ("days = 30", "days = 0", r"shop\.toml: window\.days: must be >= 1"),
        ("fallback_days = 90", "fallback_days = 20", r"window\.fallback_days: must be >= 31"),
        ("\n[model]\n", "\n[model\n", r"shop\.toml: not valid TOML"),
    ],
)
def test_bad_config_names_file_and_key(old: str, new: str, message: str) -> None:
    assert old in SHOP_TEXT
    with pytest.raises(ModelConfigError, match=message):
        parse_model(SHOP_TEXT.replace(old, new, 1), "shop.toml")


def test_unknown_model() -> None:
    with pytest.raises(ModelConfigError, match=r"nope\.toml: no such model config"):
        load_model("nope")


def test_configs_are_frozen() -> None:
    config = load_models()["shop"]
    with pytest.raises(AttributeError):
        config.m = 1  # type: ignore[misc]
