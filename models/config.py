"""The scoring models as data: one TOML file per model, read into frozen dataclasses.

    models = load_models()
    shop = models["shop"]
    shop.window.days                 # 30
    shop.indicators[0].name          # 'quality_refund_rate'

Every number of SCORING.md §3-§8 lives in ``models/<name>.toml``. This module
reads and validates those files: an unknown key, a counter that
``models.counting`` does not keep, or an inconsistent tier table is a
``ModelConfigError`` naming the file and the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType

from models._toml import Table
from models.counting import COUNTERS
from models.errors import ModelConfigError
from models.indicators import Indicator, ShrunkIndicator, read_indicators

CONFIG_SCHEMA = 1
MODEL_NAMES = ("shop", "product", "creator")


@dataclass(frozen=True, slots=True)
class Window:
    """The score window: ``days``, or ``fallback_days`` while paid < ``fallback_below_paid``."""

    days: int
    fallback_days: int | None
    fallback_below_paid: int
    paid_counter: str


@dataclass(frozen=True, slots=True)
class Penalty:
    """Penalty points: the counter's total over ``window_days``, at most ``cap``."""

    counter: str
    window_days: int
    cap: float


@dataclass(frozen=True, slots=True)
class Display:
    """``display = offset + span·S/100``, rounded half-even to ``decimals``."""

    offset: float
    span: float
    decimals: int


@dataclass(frozen=True, slots=True)
class Band:
    """A tier: reached by a score >= ``min_score``; its traffic ``weight``."""

    name: str
    min_score: float
    weight: float


@dataclass(frozen=True, slots=True)
class Tiers:
    """Tier bands best first (the last starts at 0), hysteresis margin, the unrated tier."""

    bands: tuple[Band, ...]
    margin: float
    immediate_below: float
    unrated: str
    unrated_weight: float
    #: The bands' names, best first (derived once: every tier decision reads them).
    names: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(band.name for band in self.bands))


@dataclass(frozen=True, slots=True)
class GuardRule:
    """The guard trips when this indicator's value is strictly ``above``."""

    indicator: str
    above: float


@dataclass(frozen=True, slots=True)
class NewEntityBoost:
    """§5 new-shop boost: ``weight`` for a NEW entity whose paid orders are all recent."""

    weight: float
    lookback_days: int
    max_age_days: int
    guard_min_paid: int
    guard: tuple[GuardRule, ...]


@dataclass(frozen=True, slots=True)
class RiverBoost:
    """§8 distribution boost on net distribution GMV over ``window_days``."""

    title: str
    window_days: int
    gmv: str
    refunds: str
    fen_per_yuan: float
    scale_yuan: float
    coefficient: float
    cap: float
    step: float
    epsilon: float
    min_tier: str

    @property
    def steps_per_unit(self) -> int:
        """1/step as an integer (20 for steps of 0.05), as the rulebook writes it."""
        return round(1 / self.step)


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """One scoring model, every number of it (see models/<name>.toml)."""

    name: str
    version: str
    title: str
    entity_type: str
    source: str
    m: float
    window: Window
    min_paid: int
    indicators: tuple[Indicator, ...]
    penalty: Penalty | None
    display: Display
    tiers: Tiers
    new_entity_boost: NewEntityBoost | None
    boost: RiverBoost | None

    total_weight: float = field(init=False)  # the indicators' weights summed

    def __post_init__(self) -> None:
        object.__setattr__(self, "total_weight", sum(i.weight for i in self.indicators))

    def indicator(self, name: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.name == name:
                return indicator
        raise KeyError(name)


def load_models() -> Mapping[str, ModelConfig]:
    """The packaged models by name: ``shop``, ``product``, ``creator`` (read once, pass down)."""
    return MappingProxyType({name: load_model(name) for name in MODEL_NAMES})


def load_model(name: str) -> ModelConfig:
    """The packaged ``models/<name>.toml``, parsed and validated."""
    source = f"{name}.toml"
    try:
        text = resources.files("models").joinpath(source).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ModelConfigError(f"{source}: no such model config") from exc
    config = parse_model(text, source)
    if config.name != name:
        raise ModelConfigError(f"{source}: model.name: {config.name!r} differs from the file name")
    return config


def parse_model(text: str, source: str) -> ModelConfig:
    """A model from TOML text; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ModelConfigError(f"{source}: not valid TOML: {exc}") from exc
    root = Table(data, source)
    schema = root.integer("config_schema")
    root.check(schema == CONFIG_SCHEMA, "config_schema", f"expected {CONFIG_SCHEMA}, got {schema}")
    config = _model(root)
    root.finish()
    return config


def _model(root: Table) -> ModelConfig:
    head = root.table("model")
    entity_type = head.text("entity_type")
    head.check(entity_type in COUNTERS, "entity_type", f"unknown entity type {entity_type!r}")
    counters = COUNTERS[entity_type]
    window = _window(root.table("window"), counters)
    evidence = root.table("evidence")
    shrinkage = root.table("shrinkage")
    indicators = read_indicators(root, entity_type)
    tiers = _tiers(root.table("tiers"))
    config = ModelConfig(
        name=head.text("name"),
        version=head.text("version"),
        title=head.text("title"),
        entity_type=entity_type,
        source=root.source,
        m=shrinkage.positive("m"),
        window=window,
        min_paid=evidence.count("min_paid"),
        indicators=indicators,
        penalty=_penalty(root.table("penalty"), counters) if root.has("penalty") else None,
        display=_display(root.table("display")),
        tiers=tiers,
        new_entity_boost=_new_entity_boost(root, indicators)
        if root.has("new_entity_boost")
        else None,
        boost=_river_boost(root.table("boost"), counters, tiers) if root.has("boost") else None,
    )
    for table in (head, evidence, shrinkage):
        table.finish()
    return config


def _counter(table: Table, key: str, counters: tuple[str, ...]) -> str:
    return table.choice(key, counters, "a counter of this entity type")


def _window(table: Table, counters: tuple[str, ...]) -> Window:
    days = table.count("days", 1)
    fallback = table.count("fallback_days", days + 1) if table.has("fallback_days") else None
    below = table.count("fallback_below_paid", 1) if fallback is not None else 0
    paid = _counter(table, "paid_counter", counters)
    table.finish()
    return Window(days, fallback, below, paid)


def _penalty(table: Table, counters: tuple[str, ...]) -> Penalty:
    penalty = Penalty(
        _counter(table, "counter", counters), table.count("window_days", 1), table.number("cap")
    )
    table.check(penalty.cap >= 0, "cap", "must be >= 0")
    table.finish()
    return penalty


def _display(table: Table) -> Display:
    display = Display(table.number("offset"), table.number("span"), table.count("decimals"))
    table.finish()
    return display


def _tiers(table: Table) -> Tiers:
    bands = tuple(_band(band) for band in table.tables("bands"))
    tiers = Tiers(
        bands=bands,
        margin=table.number("margin"),
        immediate_below=table.number("immediate_below"),
        unrated=table.text("unrated"),
        unrated_weight=table.positive("unrated_weight"),
    )
    table.check(len(bands) >= 2, "bands", "need at least two bands")
    scores = [band.min_score for band in bands]
    table.check(scores == sorted(set(scores), reverse=True), "bands", "best first, distinct")
    table.check(scores[-1] == 0, "bands", "the last band must start at 0")
    names = [*tiers.names, tiers.unrated]
    table.check(len(set(names)) == len(names), "bands", "tier names must be unique")
    table.check(tiers.margin >= 0, "margin", "must be >= 0")
    table.check(0 <= tiers.immediate_below <= 100, "immediate_below", "must be within 0..100")
    table.finish()
    return tiers


def _band(table: Table) -> Band:
    band = Band(table.text("name"), table.number("min_score"), table.positive("weight"))
    table.finish()
    return band


def _new_entity_boost(root: Table, indicators: tuple[Indicator, ...]) -> NewEntityBoost:
    table = root.table("new_entity_boost")
    shrunk = {i.name for i in indicators if isinstance(i, ShrunkIndicator)}
    guard = tuple(_guard_rule(rule, shrunk) for rule in table.tables("guard"))
    boost = NewEntityBoost(
        weight=table.positive("weight"),
        lookback_days=table.count("lookback_days", 1),
        max_age_days=table.count("max_age_days", 1),
        guard_min_paid=table.count("guard_min_paid"),
        guard=guard,
    )
    table.check(boost.max_age_days <= boost.lookback_days, "max_age_days", "<= lookback_days")
    table.finish()
    return boost


def _guard_rule(table: Table, shrunk: set[str]) -> GuardRule:
    rule = GuardRule(table.text("indicator"), table.number("above"))
    table.check(rule.indicator in shrunk, "indicator", "must name a rate or mean indicator")
    table.finish()
    return rule


def _river_boost(table: Table, counters: tuple[str, ...], tiers: Tiers) -> RiverBoost:
    boost = RiverBoost(
        title=table.text("title"),
        window_days=table.count("window_days", 1),
        gmv=_counter(table, "gmv", counters),
        refunds=_counter(table, "refunds", counters),
        fen_per_yuan=table.positive("fen_per_yuan"),
        scale_yuan=table.positive("scale_yuan"),
        coefficient=table.positive("coefficient"),
        cap=table.positive("cap"),
        step=table.positive("step"),
        epsilon=table.number("epsilon"),
        min_tier=table.text("min_tier"),
    )
    table.check(abs(1 / boost.step - boost.steps_per_unit) < 1e-9, "step", "1/step must be whole")
    table.check(boost.min_tier in tiers.names, "min_tier", f"not a tier of {tiers.names}")
    table.check(0 <= boost.epsilon < boost.step, "epsilon", "must be within 0..step")
    table.finish()
    return boost
