"""The published state of an entity (tier, weight, boost) and the decision to publish it.

    d = decide(shop, windows, previous=stored_state)    # stored_state: EntityState | None
    if d.changed:
        publish(d.state, previous=d.previous, reasons=d.score.reasons())
    store(d.state)

An entity never published before is, for the recommender, NEW with weight and
boost 1.00 (``unseen``): a first decision that says just that publishes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.boosts import NO_BOOST, boost, weight
from models.config import ModelConfig
from models.evaluate import score
from models.result import Score
from models.tiers import next_tier
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
    """A fresh score, the state it leads to, and the state before (``unseen`` if none)."""

    score: Score
    state: EntityState
    previous: EntityState

    @property
    def changed(self) -> bool:
        """True when tier, weight or boost differ from before: publish then, and only then."""
        return self.state.published != self.previous.published


def unseen(config: ModelConfig) -> EntityState:
    """The implicit state of an entity never published: NEW, unrated weight, no boost."""
    return EntityState(config.tiers.unrated, config.tiers.unrated_weight, NO_BOOST)


def entity_state(
    config: ModelConfig, score: Score, windows: EntityWindows, previous_tier: str | None
) -> EntityState:
    """Tier (with hysteresis), weight (with the new-shop boost) and river boost of a score."""
    tier = next_tier(config, score, previous_tier)
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
    """Score the entity and compare its new state with ``previous`` (None: never published)."""
    fresh = score(config, windows, category=category)
    previous_tier = None if previous is None else previous.tier
    state = entity_state(config, fresh, windows, previous_tier)
    return Decision(fresh, state, unseen(config) if previous is None else previous)
