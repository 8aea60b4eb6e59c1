from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from streams.errors import ConfigError
from streams.settings import (
    KafkaSettings,
    Secret,
    Settings,
    env_name,
    unknown_variables,
    variable_names,
)


def test_defaults_match_the_documented_topic_names() -> None:
    topics = Settings.from_env({}).topics
    names = (topics.orders, topics.shipping, topics.refunds, topics.livestream)
    assert names == ("orders", "shipping", "refunds", "livestream")
    assert (topics.weights, topics.dlq) == ("traffic-weights", "vane-dlq")


@pytest.mark.parametrize(
    ("env", "section", "field", "value"),
    [
        ({"VANE_KAFKA_BOOTSTRAP": "k1:9092,k2:9092"}, "kafka", "bootstrap", "k1:9092,k2:9092"),
        ({"KAFKA_BOOTSTRAP": "plain:1"}, "kafka", "bootstrap", "plain:1"),
        (
            {"KAFKA_BOOTSTRAP": "plain:1", "VANE_KAFKA_BOOTSTRAP": "vane:2"},
            "kafka",
            "bootstrap",
            "vane:2",
        ),
        ({"VANE_KAFKA_SESSION_TIMEOUT_S": "2.5"}, "kafka", "session_timeout_s", 2.5),
        ({"VANE_KAFKA_SECURITY_PROTOCOL": "sasl_ssl"}, "kafka", "security_protocol", "SASL_SSL"),
        ({"VANE_TOPIC_DLQ": "dead"}, "topics", "dlq", "dead"),
        ({"VANE_TOPIC_PARTITIONS": "12"}, "topics", "partitions", 12),
        ({"VANE_WEB_PORT": "8080"}, "worker", "web_port", 8080),
        ({"VANE_DATA_DIR": "/tmp/x"}, "worker", "data_dir", Path("/tmp/x")),
        ({"VANE_OUTBOX_TAKEOVER_S": "3.5"}, "worker", "outbox_takeover_s", 3.5),
        ({"VANE_OUTBOX_RECHECK_S": "30"}, "worker", "outbox_recheck_s", 30.0),
        ({"VANE_OUTBOX_SCAN_S": "0.5"}, "worker", "outbox_scan_s", 0.5),
    ],
)
def test_environment_overrides(
    env: dict[str, str], section: str, field: str, value: object
) -> None:
    assert getattr(getattr(Settings.from_env(env), section), field) == value


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        ("VANE_KAFKA_SESSION_TIMEOUT_S", "soon"),
        ("VANE_KAFKA_SESSION_TIMEOUT_S", "-1"),
        ("VANE_KAFKA_SECURITY_PROTOCOL", "carrier-pigeon"),
        ("VANE_TOPIC_PARTITIONS", "0"),
        ("VANE_WEB_PORT", "70000"),
        ("VANE_REDIS_URL", "http://example"),
        ("VANE_KAFKA_SSL_CAFILE", "/no/such/ca.pem"),
        ("VANE_OUTBOX_TAKEOVER_S", "0"),
    ],
)
def test_a_bad_value_names_its_variable(variable: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env({variable: raw})


def test_secrets_never_print() -> None:
    env = {
        "VANE_KAFKA_SASL_PASSWORD": "hunter2-kafka",
        "VANE_REDIS_PASSWORD": "hunter2-redis",
        "REDIS_URL": "redis://user:hunter2-url@cache:6380/1",
    }
    settings = Settings.from_env(env)
    shown = f"{settings!r} {settings} {settings.describe()}"
    assert "hunter2" not in shown
    assert settings.describe()["redis"]["url"] == "redis://user:***@cache:6380/1"
    assert settings.kafka.sasl_password == Secret("hunter2-kafka")


def test_a_bad_secret_is_not_echoed_in_the_error() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"VANE_REDIS_URL": "http://:hunter2@x"})
    assert "hunter2" not in str(caught.value)


def test_env_names_follow_the_prefix_rule() -> None:
    assert env_name("kafka", "bootstrap") == "VANE_KAFKA_BOOTSTRAP"
    assert env_name("topics", "dlq") == "VANE_TOPIC_DLQ"
    assert env_name("worker", "web_port") == "VANE_WEB_PORT"


def test_the_web_server_binds_loopback_unless_told_otherwise() -> None:
    assert Settings.from_env({}).worker.web_host == "127.0.0.1"
    assert Settings.from_env({"VANE_WEB_HOST": "0.0.0.0"}).worker.web_host == "0.0.0.0"


@pytest.mark.parametrize(
    ("env", "shown"),
    [
        ({"VANE_KAFKA_BOOTSTRAP": "notahost"}, "VANE_KAFKA_BOOTSTRAP='notahost'"),
        ({"VANE_KAFKA_BOOTSTRAP": "h:1,"}, "VANE_KAFKA_BOOTSTRAP='h:1,'"),
        ({"KAFKA_BOOTSTRAP": "127.0.0.1:abc"}, "KAFKA_BOOTSTRAP='127.0.0.1:abc'"),
        ({"KAFKA_BOOTSTRAP": "127.0.0.1:0"}, "KAFKA_BOOTSTRAP='127.0.0.1:0'"),
    ],
)
def test_a_bootstrap_that_is_not_host_port_is_a_config_error(
    env: dict[str, str], shown: str
) -> None:
    with pytest.raises(ConfigError, match="must be host:port") as caught:
        Settings.from_env(env)
    assert str(caught.value).startswith(shown)


def test_the_known_variables_come_from_the_fields() -> None:
    names = variable_names()
    assert {env_name("kafka", f.name) for f in dataclasses.fields(KafkaSettings)} <= names
    assert {"VANE_WEB_PORT", "VANE_TOPIC_DLQ", "VANE_REDIS_URL"} <= names


def test_an_unknown_variable_is_named_with_the_closest_known_one() -> None:
    env = {"VANE_KAFKA_BOOTSTRAPS": "h:1", "VANE_WEB_PORT": "1", "VANE_ZZZ": "", "HOME": "/"}
    assert unknown_variables(env) == [
        ("VANE_KAFKA_BOOTSTRAPS", "VANE_KAFKA_BOOTSTRAP"),
        ("VANE_ZZZ", None),
    ]
    assert unknown_variables(env, also=frozenset({"VANE_ZZZ"})) == [
        ("VANE_KAFKA_BOOTSTRAPS", "VANE_KAFKA_BOOTSTRAP")
    ]
