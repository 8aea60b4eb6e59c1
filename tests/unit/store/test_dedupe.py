"""The packing of dedupe markers (streams.store.dedupe): pure, no Redis."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.store import dedupe

IDS = st.text(alphabet="abcAB019._:-", min_size=1, max_size=64)


@given(event_id=IDS, position=st.text(min_size=1, max_size=20))
def test_a_marker_is_18_bytes_and_a_stable_function_of_id_and_position(
    event_id: str, position: str
) -> None:
    tag, record = dedupe.marker(event_id, position)
    assert 0 <= tag < dedupe.TAGS
    assert len(record) == dedupe.RECORD
    assert dedupe.marker(event_id, position) == (tag, record)


def test_the_same_id_keeps_its_tag_and_fingerprint_whatever_its_position() -> None:
    (tag_a, a), (tag_b, b) = dedupe.marker("e1", "O:0:1"), dedupe.marker("e1", "O:1:7")
    assert tag_a == tag_b
    assert a[:10] == b[:10]
    assert a[10:] != b[10:]


@given(events=st.lists(st.tuples(IDS, st.sampled_from(["O:0:1", "S:2:3"])), max_size=60))
def test_lookups_keep_batch_order_within_each_tag_and_read_back_per_event(
    events: list[tuple[str, str]],
) -> None:
    found = dedupe.lookups(events)
    assert sum(len(r) for r in found.records.values()) == dedupe.RECORD * len(events)
    for (event_id, position), (tag, i) in zip(events, found.order, strict=True):
        assert (
            bytes(found.records[tag][dedupe.RECORD * i : dedupe.RECORD * (i + 1)])
            == dedupe.marker(event_id, position)[1]
        )
    # a reply of one status per record, e.g. "0", "1", "2" by index, reads back in batch order
    replies = {
        t: "".join("012"[i % 3] for i in range(len(r) // dedupe.RECORD)).encode()
        for t, r in found.records.items()
    }
    assert dedupe.statuses(found, replies) == ["012"[i % 3] for _, i in found.order]
