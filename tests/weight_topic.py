"""Checks every test applies to the weight topic (SCORING.md §9, docs/weight-topic.md)."""

from __future__ import annotations

import json
from collections import defaultdict
from importlib.resources import files
from typing import Any

from jsonschema import Draft202012Validator

from streams import codec

SCHEMA = json.loads((files("streams") / "schemas" / "weight-update-v1.schema.json").read_text())
VALIDATOR = Draft202012Validator(SCHEMA)
STATE = ("tier", "weight", "boost", "score", "display")
UNSEEN = {"tier": "NEW", "weight": 1.0, "boost": 1.0, "score": None, "display": None}


def check(records: list[Any]) -> dict[str, dict[str, Any]]:
    """Validate every message and each key's history; return each key's last message.

    Per key: valid against the schema; key = entity_type:entity_id; seq 1, 2, 3...
    in topic order (an identical re-send of a seq allowed anywhere later: a crash's
    re-send, a stalled publisher's late copy, the repair that re-sends the current
    message after it; a different message with a used seq not); ``previous`` equals
    the state of the message before (or NEW/1.00/1.00 for the first); tier, weight or
    boost changed; and the key's LAST record is its highest seq (what compaction keeps
    is the current state).
    """
    history: dict[str, list[tuple[dict[str, Any], bytes]]] = defaultdict(list)
    for record in records:
        message = codec.loads(record.value)
        VALIDATOR.validate(message)
        key = record.key.decode()
        assert key == f"{message['entity_type']}:{message['entity_id']}", key
        history[key].append((message, record.value))
    return {key: _check_key(key, entries) for key, entries in history.items()}


def _check_key(key: str, entries: list[tuple[dict[str, Any], bytes]]) -> dict[str, Any]:
    by_seq: dict[int, bytes] = {}
    last: dict[str, Any] | None = None
    for message, raw in entries:
        seq = message["seq"]
        if seq in by_seq:
            assert by_seq[seq] == raw, f"{key}: two different messages with seq {seq}"
            continue
        expected_seq = 1 if last is None else last["seq"] + 1
        assert seq == expected_seq, f"{key}: seq {seq} after {expected_seq - 1}"
        before = UNSEEN if last is None else {f: last[f] for f in STATE}
        assert message["previous"] == before, f"{key} seq {seq}: previous is not the last state"
        changed = [f for f in ("tier", "weight", "boost") if message[f] != before[f]]
        assert changed, f"{key} seq {seq}: published without a tier, weight or boost change"
        by_seq[seq] = raw
        last = message
    assert last is not None
    final = entries[-1][0]["seq"]
    assert final == last["seq"], f"{key}: last record seq {final}, current is {last['seq']}"
    return last
