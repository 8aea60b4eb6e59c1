"""The test broker's security settings and helpers, and the idempotence setting that
chooses between the brokers, without a broker (docs/security.md, docs/reliability.md)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from streams.devtools.apache_kafka import (
    ApacheKafka,
    _argfile_line,
    _pids,
    broker_properties,
    scram_format_args,
    security_properties,
)
from streams.errors import ConfigError
from streams.settings import Settings


def test_every_user_gets_both_scram_mechanisms() -> None:
    assert scram_format_args({"vane": "pw-1"}) == [
        "--add-scram", "SCRAM-SHA-256=[name=vane,password=pw-1]",
        "--add-scram", "SCRAM-SHA-512=[name=vane,password=pw-1]",
    ]  # fmt: skip


@pytest.mark.parametrize("password", ["", "a b", "a,b", "a]b", "a=b", 'a"b', "a\\b"])
def test_a_password_the_storage_tool_would_misparse_is_refused(password: str) -> None:
    with pytest.raises(ValueError, match="SCRAM user names and passwords"):
        ApacheKafka(scram_users={"vane": password})


def test_listeners_are_added_beside_plaintext(tmp_path: Path) -> None:
    base = broker_properties(9092, 9093, tmp_path)
    keystore = tmp_path / "keystore.pem"
    props = security_properties(base, {"SSL": 9094, "SASL_SSL": 9095}, keystore)
    assert props["listeners"].endswith(",SSL://127.0.0.1:9094,SASL_SSL://127.0.0.1:9095")
    assert props["advertised.listeners"].startswith("PLAINTEXT://127.0.0.1:9092,")
    assert props["listener.security.protocol.map"].endswith(",SSL:SSL,SASL_SSL:SASL_SSL")
    assert props["ssl.keystore.type"] == "PEM"
    assert props["ssl.keystore.location"] == str(keystore)
    mechanisms = "listener.name.sasl_ssl.sasl.enabled.mechanisms"
    assert props[mechanisms] == "SCRAM-SHA-256,SCRAM-SHA-512"
    assert "ScramLoginModule" in props["listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"]
    assert security_properties(base, {}, None) == {}


def test_argfile_arguments_are_quoted() -> None:
    assert _argfile_line('a "b" c\\d') == '"a \\"b\\" c\\\\d"\n'


def _batch(producer_id: int, records: bytes = b"r") -> bytes:
    """A v2 record batch header (enough of it) and a body, as on disk."""
    after_length = struct.pack(">ibIhiqqqhii", 0, 2, 0, 0, 0, 0, 0, producer_id, 0, 0, 1)
    body = after_length + records
    return struct.pack(">qi", 0, len(body)) + body


def test_producer_ids_are_read_from_log_segments(tmp_path: Path) -> None:
    segment = tmp_path / "00000000000000000000.log"
    segment.write_bytes(_batch(-1) + _batch(1000, b"longer") + bytes(64))  # preallocated tail
    assert _pids(segment) == [-1, 1000]


@pytest.mark.parametrize(("raw", "chosen"), [(None, "AUTO"), ("on", "ON"), ("Off", "OFF")])
def test_the_worker_producer_idempotence_is_auto_unless_set(raw: str | None, chosen: str) -> None:
    env = {} if raw is None else {"VANE_KAFKA_IDEMPOTENCE": raw}
    assert Settings.from_env(env).kafka.idempotence == chosen
    with pytest.raises(ConfigError, match="VANE_KAFKA_IDEMPOTENCE='maybe'"):
        Settings.from_env({"VANE_KAFKA_IDEMPOTENCE": "maybe"})
