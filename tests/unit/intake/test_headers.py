"""Header checks and the dead letter of a record with an undecodable header key."""

from __future__ import annotations

import pytest

from streams.errors import MalformedEvent
from streams.events import Reason
from streams.intake import headers

BAD = b"k\xff".decode("utf-8", "surrogateescape")


@pytest.mark.parametrize(
    "given",
    [None, [], [("a", b"1")], [("", None)], [("é", b"\xff")], {"x": b"1"}, [("a", b"1")] * 500],
)
def test_text_keys_pass(given: object) -> None:
    headers.check(given)


@pytest.mark.parametrize(
    "given", [[(BAD, b"1")], [("ok", b"1"), (BAD, None)], [(b"\xc3\x28", b"")]]
)
def test_a_key_that_is_not_utf8_is_bad_header(given: object) -> None:
    with pytest.raises(MalformedEvent) as caught:
        headers.check(given)
    assert caught.value.reason == Reason.BAD_HEADER
    assert "not UTF-8" in caught.value.detail


def test_republishable_keeps_every_byte_in_order() -> None:
    got = headers.republishable([("a", b"1"), (BAD, None), (b"b", b"2")])
    assert got == [
        ("a", b"1"),
        (headers.RAW_KEY, b"k\xff"),
        (headers.RAW_VALUE, None),
        ("b", b"2"),
    ]
    for key, _ in got:
        key.encode("utf-8")  # a producer can send every key
