"""The evaluator: a model config and one entity's windows in, a ``Score`` out (§3-§6).

    shop = load_models()["shop"]
    w = EntityWindows.from_days("shop", "s1", 20400, {20400: {"paid": 40}})
    s = score(shop, w)
    s.window_days, s.rated       # 30, True

A product's price index needs its category's windows, passed as ``category=``:
the category is not among the product's counters, so the caller must know it.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Hashable
from typing import NamedTuple

from models.config import ModelConfig, Penalty, Window
from models.errors import ModelInputError
from models.indicators import (
    CATEGORY,
    CategoryRatioIndicator,
    FlagIndicator,
    Indicator,
    LogCountIndicator,
    RegisterIndicator,
    ShrunkIndicator,
)
from models.result import IndicatorResult, Score, display_value
from models.windows import EntityWindows


class _Measure(NamedTuple):
    """What one indicator reads from the windows, before weighing (a tuple: cheap)."""

    x: float | None
    n: float | None
    value: float
    sub: float
    window_days: int
    defaulted: bool = False
    p0: float | None = None
    m: float | None = None
    unit: str = ""


class _Inputs(NamedTuple):
    windows: EntityWindows
    window_days: int
    m: float
    category: EntityWindows | None


def score(
    config: ModelConfig, windows: EntityWindows, *, category: EntityWindows | None = None
) -> Score:
    """The model applied to one entity's windows as of ``windows.as_of_day``."""
    _check(config, windows, category)
    days = window_days(config.window, windows)
    paid = windows.total(config.window.paid_counter, days)
    rated = paid >= config.min_paid
    breakdown = _breakdown(config, _Inputs(windows, days, config.m, category))
    before = sum(r.weight * r.sub for r in breakdown) / config.total_weight
    penalty = penalty_points(config.penalty, windows) if rated else 0.0
    value = _clamp(before - penalty, 0.0, 100.0) if rated else None
    return Score(
        entity_type=windows.entity_type,
        entity_id=windows.entity_id,
        model=config.name,
        model_version=config.version,
        as_of_day=windows.as_of_day,
        rated=rated,
        value=value,
        display=None if value is None else _display(config, value),
        window_days=days,
        paid=paid,
        before_penalty=before,
        penalty=penalty,
        breakdown=breakdown,
    )


#: Score values by their inputs: the model, the totals, the registers and the category's
#: totals (a score reads nothing else; the entity and the day are only carried along).
#: ``reference`` (§7) scores yesterday's windows, which are, barring a late event, the
#: windows a score was taken of yesterday and every batch since: it reads them here.
VALUE_MEMO = 50_000
#: Oldest first. An OrderedDict drops its oldest entry in O(1); a plain dict does not:
#: ``next(iter(d))`` steps over every slot deleted before it until the dict is resized,
#: which was ~22 % of a day-close sweep's samples (docs/performance.md, part 5).
_VALUES: OrderedDict[tuple[object, ...], float | None] = OrderedDict()
_CONFIGS: dict[int, ModelConfig] = {}  # keeps alive the configs whose id() a key holds


def score_value(
    config: ModelConfig, windows: EntityWindows, *, category: EntityWindows | None = None
) -> float | None:
    """``score(config, windows, category=category).value``, remembered by its inputs."""
    _check(config, windows, category)
    key = _key(config, windows, category)
    if key in _VALUES:
        return _VALUES[key]
    value = _value(config, windows, category)
    _keep(key, value)
    return value


def yesterday_value(
    config: ModelConfig, windows: EntityWindows, *, category: EntityWindows | None = None
) -> float | None:
    """``score_value`` of ``windows.yesterday()`` (and the category's yesterday): looked
    up by its key first, so a remembered R builds no windows of yesterday."""
    _check(config, windows, category)
    key = _key(config, windows, category, previous=True)
    if key in _VALUES:
        return _VALUES[key]
    before = None if category is None else category.yesterday()
    value = _value(config, windows.yesterday(), before)
    _keep(key, value)
    return value


def _value(
    config: ModelConfig, windows: EntityWindows, category: EntityWindows | None
) -> float | None:
    """``score(...).value`` without the breakdown's objects: the same sums, in the
    same order, so the same float (``tests/unit/models/test_reference.py``)."""
    days = window_days(config.window, windows)
    if windows.total(config.window.paid_counter, days) < config.min_paid:
        return None
    inputs = _Inputs(windows, days, config.m, category)
    total = config.total_weight
    before = sum(i.weight * _sub(i, inputs) for i in config.indicators) / total
    return _clamp(before - penalty_points(config.penalty, windows), 0.0, 100.0)


def _sub(indicator: Indicator, inputs: _Inputs) -> float:
    """``_measure(indicator, inputs).sub``; a shrunk rate or mean (most indicators)
    without building its ``_Measure``: the same operations, so the same float."""
    if isinstance(indicator, ShrunkIndicator):
        days = indicator.window_days or inputs.window_days
        x = inputs.windows.total(indicator.x, days) / indicator.x_divisor
        n = inputs.windows.total(indicator.n, days) / indicator.n_divisor
        value = (x + inputs.m * indicator.p0) / (n + inputs.m)
        return normalise(value, indicator.good, indicator.bad)
    return _measure(indicator, inputs).sub


def remember(
    config: ModelConfig,
    windows: EntityWindows,
    value: float | None,
    *,
    category: EntityWindows | None = None,
) -> None:
    """Note ``value`` as the score of these inputs (a ``score`` just taken)."""
    _keep(_key(config, windows, category), value)


def _key(
    config: ModelConfig,
    windows: EntityWindows,
    category: EntityWindows | None,
    *,
    previous: bool = False,
) -> tuple[object, ...]:
    """The memo's key of these inputs; ``previous``: of their yesterday() (the same key
    ``_key(config, windows.yesterday(), category.yesterday())`` gives)."""
    _CONFIGS.setdefault(id(config), config)
    own = _totals_key(windows, previous)
    regs = tuple(windows.latest_values.items())  # yesterday() keeps today's registers
    if category is None:
        return (id(config), own, regs)
    return (id(config), own, regs, _totals_key(category, previous))


def _totals_key(windows: EntityWindows, previous: bool = False) -> Hashable:
    """The windows' ``totals_key`` (the store's counts: a flat tuple of ints), else one
    made of the totals (nested tuples: never equal to a flat tuple of ints); with
    ``previous``, the same of ``previous_key`` / ``previous_totals``."""
    given = windows.previous_key if previous else windows.totals_key
    if given is not None:
        return given
    totals = windows.previous_totals if previous else windows.totals
    return tuple([(h, tuple(t.items())) for h, t in totals.items()])


def _keep(key: tuple[object, ...], value: float | None) -> None:
    if len(_VALUES) >= VALUE_MEMO:
        _VALUES.popitem(last=False)  # the oldest
    _VALUES[key] = value


def window_days(window: Window, windows: EntityWindows) -> int:
    """``window.days``, or the fallback while paid orders in ``days`` are too few."""
    if window.fallback_days is None:
        return window.days
    paid = windows.total(window.paid_counter, window.days)
    return window.fallback_days if paid < window.fallback_below_paid else window.days


def penalty_points(penalty: Penalty | None, windows: EntityWindows) -> float:
    """Penalty points in the penalty window, capped (applied to rated entities only)."""
    if penalty is None:
        return 0.0
    return float(min(penalty.cap, windows.total(penalty.counter, penalty.window_days)))


def normalise(value: float, good: float, bad: float) -> float:
    """``100·clamp((bad - value)/(bad - good), 0, 1)``, for either direction."""
    return 100.0 * _clamp((bad - value) / (bad - good), 0.0, 1.0)


def _clamp(value: float, low: float, high: float) -> float:
    """``max(low, min(high, value))`` (NaN gives ``high`` as there), without the calls."""
    upper = value if value < high else high
    return upper if upper > low else low


def _display(config: ModelConfig, value: float) -> float:
    shape = config.display
    return display_value(value, shape.offset, shape.span, shape.decimals)


def _check(config: ModelConfig, windows: EntityWindows, category: EntityWindows | None) -> None:
    if windows.entity_type != config.entity_type:
        kind = windows.entity_type
        raise ModelInputError(f"model {config.name} scores {config.entity_type}, not {kind}")
    if category is None:
        return
    if category.entity_type != CATEGORY or category.as_of_day != windows.as_of_day:
        raise ModelInputError(f"category windows must be a category as of day {windows.as_of_day}")


def _breakdown(config: ModelConfig, inputs: _Inputs) -> tuple[IndicatorResult, ...]:
    total = config.total_weight
    return tuple(_result(i, _measure(i, inputs), total) for i in config.indicators)


def _result(indicator: Indicator, measure: _Measure, total_weight: float) -> IndicatorResult:
    return IndicatorResult(
        name=indicator.name,
        kind=indicator.kind,
        x=measure.x,
        n=measure.n,
        value=measure.value,
        sub=measure.sub,
        weight=indicator.weight,
        points_lost=indicator.weight * (100.0 - measure.sub) / total_weight,
        window_days=measure.window_days,
        defaulted=measure.defaulted,
        p0=measure.p0,
        m=measure.m,
        unit=measure.unit,
    )


def _measure(indicator: Indicator, inputs: _Inputs) -> _Measure:
    days = indicator.window_days or inputs.window_days
    if isinstance(indicator, ShrunkIndicator):
        return _shrunk(indicator, inputs, days)
    if isinstance(indicator, LogCountIndicator):
        return _log_count(indicator, inputs.windows, days)
    if isinstance(indicator, CategoryRatioIndicator):
        return _category_ratio(indicator, inputs, days)
    if isinstance(indicator, RegisterIndicator):
        return _register(indicator, inputs.windows, days)
    return _flag(indicator, inputs.windows, days)


def _shrunk(indicator: ShrunkIndicator, inputs: _Inputs, days: int) -> _Measure:
    """§3: ``r = (x + m·p0)/(n + m)``; a mean is the same with x = Σhours, n = k."""
    x = inputs.windows.total(indicator.x, days) / indicator.x_divisor
    n = inputs.windows.total(indicator.n, days) / indicator.n_divisor
    value = (x + inputs.m * indicator.p0) / (n + inputs.m)
    sub = normalise(value, indicator.good, indicator.bad)
    return _Measure(x, n, value, sub, days, p0=indicator.p0, m=inputs.m, unit=indicator.unit)


def _log_count(indicator: LogCountIndicator, windows: EntityWindows, days: int) -> _Measure:
    """Heat: ``100·min(1, ln(1 + x)/ln(1 + saturation))``."""
    x = windows.total(indicator.x, days)
    sub = 100.0 * min(1.0, math.log(1 + x) / math.log(1 + indicator.saturation))
    return _Measure(float(x), None, float(x), sub, days)


def _category_ratio(indicator: CategoryRatioIndicator, inputs: _Inputs, days: int) -> _Measure:
    """Price index: own average over the category's average; ``missing`` when unknown."""
    own = _average(inputs.windows, indicator, days)
    of_category = None if inputs.category is None else _average(inputs.category, indicator, days)
    if own is None or not of_category:
        value, defaulted = indicator.missing, True
    else:
        value, defaulted = own / of_category, False
    sub = normalise(value, indicator.good, indicator.bad)
    return _Measure(own, of_category, value, sub, days, defaulted)


def _average(windows: EntityWindows, indicator: CategoryRatioIndicator, days: int) -> float | None:
    n = windows.total(indicator.n, days)
    return windows.total(indicator.x, days) / n if n > 0 else None


def _register(indicator: RegisterIndicator, windows: EntityWindows, days: int) -> _Measure:
    """Listing quality: the latest value in the window, else the default."""
    latest = windows.latest(indicator.register, days)
    value = indicator.default if latest is None else float(latest)
    sub = normalise(value, indicator.good, indicator.bad)
    return _Measure(None, None, value, sub, days, defaulted=latest is None)


def _flag(indicator: FlagIndicator, windows: EntityWindows, days: int) -> _Measure:
    """Brand: ``if_true`` when the latest value in the window is true, else ``otherwise``."""
    latest = windows.latest(indicator.register, days)
    value = 1.0 if latest else 0.0
    sub = indicator.if_true if latest else indicator.otherwise
    return _Measure(None, None, value, sub, days, defaulted=latest is None)
