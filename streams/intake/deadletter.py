"""The dead-letter topic: where malformed input goes, whole, with its reason.

A dead letter is the original message re-published unchanged — same key, same
value bytes, same headers — plus ``vane.*`` headers that say why and where from:

    vane.reason            stable code, e.g. ``bad_id`` (streams.events.Reason)
    vane.detail            one line naming the field and the offending value
    vane.source.topic      topic the message was read from
    vane.source.partition  its partition (decimal)
    vane.source.offset     its offset (decimal)

Keeping the value as it was (rather than wrapping it in JSON) is what keeps
non-UTF-8 and non-JSON bodies intact byte for byte. A header whose key is not
UTF-8 cannot be sent as it was (producers send text keys): it travels as
``vane.raw_header_key`` (the key's bytes) and ``vane.raw_header_value``, in its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from streams.intake import headers as record_headers
from streams.topics import Publisher, SourceMessage, send_all

HEADER_PREFIX = "vane."
MAX_DETAIL_CHARS = 500


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Why a message was rejected, and the message itself."""

    reason: str
    detail: str
    message: SourceMessage

    def headers(self) -> list[tuple[str, bytes]]:
        """Original headers first, then the ``vane.*`` envelope headers."""
        msg = self.message
        envelope = {
            "reason": self.reason,
            "detail": self.detail[:MAX_DETAIL_CHARS],
            "source.topic": msg.topic,
            "source.partition": str(msg.partition),
            "source.offset": str(msg.offset),
        }
        own = [(HEADER_PREFIX + k, v.encode("utf-8", "replace")) for k, v in envelope.items()]
        return [*_original_headers(msg.headers), *own]


def _original_headers(headers: Any) -> list[tuple[str, bytes]]:
    kept = [
        (k, v)
        for k, v in record_headers.items(headers)
        if not (record_headers.text(k) or "").startswith(HEADER_PREFIX)
    ]
    # A null header value is sent as null: aiokafka writes it as such.
    return cast(list[tuple[str, bytes]], record_headers.republishable(kept))


async def publish_all(publisher: Publisher, letters: Sequence[DeadLetter]) -> None:
    """Publish a batch of dead letters and wait until the broker has them all."""
    await send_all(publisher, ((d.message.key, d.message.value, d.headers()) for d in letters))
