"""The published state of an entity (tier, weight, boost) and the decision to publish it.

    d = decide(shop, windows, previous=stored_state)    # stored_state: EntityState | None
    if d.changed:
        publish(d.state, previous=d.previous, reference=d.reference, reasons=d.score.reasons())
    store(d.state)

    d = decide_if_changed(shop, windows, previous=stored_state)   # None: nothing to publish

The tier depends on the events alone (SCORING.md §7, v2): today's score and
the reference R, the plain band of the score as of the previous day, which
``decide`` computes from the windows' previous totals. ``previous`` only says
whether anything changed. An entity never published before is, for the
recommender, NEW with weight and boost 1.00 (``unseen``): a first decision that
says just that publishes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.boosts import NO_BOOST, boost, weight
from models.config import ModelConfig
from models.evaluate import remember, score, score_value, yesterday_value
from models.result import Score
from models.tiers import Reference, plain_band, tier_against, tier_of, tier_weight
from models.windows import EntityWindows


@dataclass(frozen=True, slots=True)
class EntityState:
    """What the weight topic carries for an entity; ``score``/``display`` None while NEW.

    >>> EntityState("GOOD", 1.10, 1.05, score=84.2, display=4.68).published
    ('GOOD', 1.1, 1.05)
    """

    tier: str
    weight: float
    boost: float
    score: float | None = None
    display: float | None = None

    @property
    def published(self) -> tuple[str, float, float]:
        """The fields whose change triggers a message: tier, weight, boost."""
        return (self.tier, self.weight, self.boost)


@dataclass(frozen=True, slots=True)
class Decision:
    """A fresh score, the state it leads to, the state before (``unseen`` if none), and R."""

    score: Score
    state: EntityState
    previous: EntityState
    #: yesterday's band and score (§7); None when unrated as of the previous day
    reference: Reference | None = None

    @property
    def changed(self) -> bool:
        """True when tier, weight or boost differ from before: publish then, and only then."""
        return self.state.published != self.previous.published


def unseen(config: ModelConfig) -> EntityState:
    """The implicit state of an entity never published: NEW, unrated weight, no boost."""
    return EntityState(config.tiers.unrated, config.tiers.unrated_weight, NO_BOOST)


def reference(
    config: ModelConfig, windows: EntityWindows, category: EntityWindows | None = None
) -> Reference | None:
    """R of §7: the plain band of the score as of the previous day (None: unrated then).

    The same model on ``windows.yesterday()`` (every window ending on day d-1,
    today's registers) and, for a product, its category's totals as of d-1.
    Raises ``ModelInputError`` when the windows carry no previous totals.
    """
    if not windows.knows_yesterday:
        score(config, windows.yesterday())  # raises: no previous totals
    value = yesterday_value(config, windows, category=category)
    if value is None:
        return None
    return Reference(plain_band(config.tiers, value), value)


def entity_state(
    config: ModelConfig, score: Score, windows: EntityWindows, reference: Reference | None
) -> EntityState:
    """Tier (against ``reference``), weight (with the new-shop boost) and river boost."""
    tier = tier_of(config, score, reference)
    return EntityState(
        tier=tier,
        weight=weight(config, score, windows, tier),
        boost=boost(config, windows, tier),
        score=score.value,
        display=score.display,
    )


def decide(
    config: ModelConfig,
    windows: EntityWindows,
    previous: EntityState | None = None,
    *,
    category: EntityWindows | None = None,
) -> Decision:
    """Score the entity, take its tier against R, and compare with ``previous`` (None: unseen).

    The windows (and the category's) must carry yesterday's totals, as the window
    store and ``EntityWindows.from_days`` give them: without them R cannot be known,
    and ``ModelInputError`` says so rather than a tier without its reference.
    """
    fresh = score(config, windows, category=category)
    remember(config, windows, fresh.value, category=category)  # tomorrow's R, most likely
    ref = reference(config, windows, category)
    state = entity_state(config, fresh, windows, ref)
    return Decision(fresh, state, unseen(config) if previous is None else previous, ref)


def decide_if_changed(
    config: ModelConfig,
    windows: EntityWindows,
    previous: EntityState | None = None,
    *,
    category: EntityWindows | None = None,
) -> Decision | None:
    """``decide(...)`` when tier, weight or boost change, else None (nothing to publish).

    Most re-scores change nothing: this takes the published fields from the score's
    value alone (``score_value``, the same float as ``score(...).value``) and builds
    the score with its breakdown only for a decision that changes them. A NEW entity
    of a model with a new-entity boost takes the full path: the boost's guard reads
    the breakdown. ``tests/unit/models/test_state.py`` holds the two paths equal.
    """
    value = score_value(config, windows, category=category)  # also tomorrow's R, most likely
    ref = reference(config, windows, category)
    tier = tier_against(config.tiers, value, None if ref is None else ref.tier)
    if tier == config.tiers.unrated and config.new_entity_boost is not None:
        full = decide(config, windows, previous, category=category)
        return full if full.changed else None
    before = unseen(config) if previous is None else previous
    now = (tier, tier_weight(config.tiers, tier), boost(config, windows, tier))
    if now == before.published:
        return None
    return decide(config, windows, previous, category=category)
