"""No id can address another entity's keys or break a hash tag (cluster slots)."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from models.counting import ENTITY_TYPES
from streams.settings import RedisSettings
from streams.store import WindowStore, dedupe

ID = st.from_regex(r"[A-Za-z0-9._:-]{1,64}", fullmatch=True)
STORE = WindowStore(client=None, settings=RedisSettings())  # type: ignore[arg-type]  # keys only


def hash_tag(key: str) -> str:
    """The part of a key Redis Cluster hashes: between the first { and the next }."""
    match = re.search(r"\{([^}]*)\}", key)
    assert match is not None, key
    assert match.group(1), key
    return match.group(1)


@given(entity_type=st.sampled_from(ENTITY_TYPES), entity_id=ID)
def test_every_key_of_an_entity_hashes_on_exactly_type_and_id(
    entity_type: str, entity_id: str
) -> None:
    windows = STORE.entity_key(entity_type, entity_id)
    state = STORE.state_key(entity_type, entity_id)
    assert hash_tag(windows) == hash_tag(state) == f"{entity_type}:{entity_id}"


@given(
    a=st.tuples(st.sampled_from(ENTITY_TYPES), ID), b=st.tuples(st.sampled_from(ENTITY_TYPES), ID)
)
def test_different_entities_never_share_a_key_or_a_tag(
    a: tuple[str, str], b: tuple[str, str]
) -> None:
    if a != b:
        assert hash_tag(STORE.entity_key(*a)) != hash_tag(STORE.entity_key(*b))
        assert STORE.entity_key(*a) != STORE.entity_key(*b)
        assert STORE.state_key(*a) not in (STORE.entity_key(*b), STORE.state_key(*b))


@given(event_id=ID, entity_type=st.sampled_from(ENTITY_TYPES), entity_id=ID)
def test_dedupe_markers_and_the_clock_never_collide_with_entities(
    event_id: str, entity_type: str, entity_id: str
) -> None:
    entity_tag = hash_tag(STORE.entity_key(entity_type, entity_id))
    tag, _ = dedupe.marker(event_id, "O:0:0")
    assert hash_tag(STORE._dedupe_key(tag)) != entity_tag
    assert hash_tag(STORE._legacy_marker_key(event_id)) != entity_tag
    assert hash_tag(STORE._clock_key) != entity_tag
