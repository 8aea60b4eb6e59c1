"""A seeded corpus of malformed messages: every kind of bad input a topic can carry."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

from streams import codec
from streams.errors import MalformedEvent
from streams.events import Stream
from streams.intake.contract import parse
from tests.samples import STREAM_OF_TYPE, TYPES, sample

HOSTILE_IDS = [
    "a{b",
    "a}b",
    "{shop:s1}",
    "has space",
    "x" * 10_000,
    "tab\there",
    "nul\x00",
    "é",
    "",
]
BIG = 2 * 1024 * 1024


def _random_bytes(rng: random.Random) -> bytes:
    return rng.randbytes(rng.randrange(0, 300))


def _bad_utf8(rng: random.Random) -> bytes:
    body = codec.dumps(sample(rng.choice(TYPES)))
    cut = rng.randrange(1, len(body) - 1)
    return body[:cut] + rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80"]) + body[cut:]


def _deep(rng: random.Random) -> bytes:
    depth = rng.randrange(1100, 3000)
    return b'{"event_id":' + b"[" * depth + b"]" * depth + b"}"


def _numbers(rng: random.Random) -> bytes:
    body = codec.dumps(sample("order.paid", amount_fen=1)).decode()
    bad = rng.choice(["1e400", "-1e400", "NaN", "Infinity", "1" * 40, "-0.5", "2.5e10"])
    return body.replace('"amount_fen":1', f'"amount_fen":{bad}').encode()


def _wrong_type(rng: random.Random) -> bytes:
    event = sample(rng.choice(TYPES))
    field = rng.choice([k for k in event if k != "type"])
    event[field] = rng.choice([None, True, [], {}, 1.5, "", -1, "x" * 70])
    return codec.dumps(event)


def _hostile_id(rng: random.Random) -> bytes:
    event = sample(rng.choice(TYPES))
    ids = [k for k in event if k.endswith("_id") and event[k] is not None]
    event[rng.choice(ids)] = rng.choice(HOSTILE_IDS)
    return codec.dumps(event)


def _missing(rng: random.Random) -> bytes:
    event = sample(rng.choice(TYPES))
    del event[rng.choice(list(event))]
    return codec.dumps(event)


def _not_object(rng: random.Random) -> bytes:
    return rng.choice([b"[]", b'"order.paid"', b"42", b"null", b"true", b"[{}]"])


def _unknown_type(rng: random.Random) -> bytes:
    return codec.dumps(sample(rng.choice(TYPES), type=rng.choice(["order.shipped", "", 7, None])))


def _huge(rng: random.Random) -> bytes:
    return b'{"event_id":"big","pad":"' + b"z" * BIG + b'"}'


KINDS: list[tuple[Callable[[random.Random], bytes], int]] = [
    (_random_bytes, 20), (_bad_utf8, 10), (_deep, 3), (_numbers, 10), (_wrong_type, 20),
    (_hostile_id, 15), (_missing, 10), (_not_object, 5), (_unknown_type, 7),
]  # fmt: skip


def malformed(rng: random.Random, count: int, huge: int = 3) -> Iterator[tuple[Stream, bytes]]:
    """``count`` messages that break the contract on the stream they are sent to."""
    makers = [maker for maker, weight in KINDS for _ in range(weight)]
    made = 0
    while made < count - huge:
        raw = rng.choice(makers)(rng)
        stream = rng.choice(list(Stream))
        if _is_malformed(stream, raw):
            made += 1
            yield stream, raw
    for _ in range(huge):
        yield rng.choice(list(Stream)), _huge(rng)


def _is_malformed(stream: Stream, raw: bytes) -> bool:
    try:
        parse(stream, raw)
    except MalformedEvent:
        return True
    return False


def stream_of(event: dict[str, Any]) -> Stream:
    return STREAM_OF_TYPE[event["type"]]
