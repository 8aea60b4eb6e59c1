from __future__ import annotations

from pathlib import Path

import pytest

from streams.errors import ConfigError
from streams.settings import Secret, Settings, env_name


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
