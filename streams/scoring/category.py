"""The product-to-category rule: a product is scored beside its category's windows.

A product's ``category`` label (latest by (ts, event_id), from ``order.paid``'s
``category_id``) names the category entity that the product model compares it
with; no other entity type has one. Re-scoring, the snapshot, explain and the
backfill all ask here.

    >>> category_key("product", {"category": "cat-7"})
    ('category', 'cat-7')
    >>> category_key("shop", {"category": "cat-7"}) is None
    True
"""

from __future__ import annotations

from collections.abc import Mapping

from streams.events import EntityKey


def category_key(entity_type: str, labels: Mapping[str, str]) -> EntityKey | None:
    """The category entity an entity is scored beside, or None."""
    label = labels.get("category")
    if entity_type != "product" or label is None:
        return None
    return ("category", label)
