"""Vane's configuration: one typed, frozen object, read once from the environment.

Every variable is ``VANE_<SECTION>_<FIELD>`` (upper case), e.g.
``VANE_KAFKA_SESSION_TIMEOUT_S=6``. Two plain names are honoured as fallbacks so
that the URLs printed by ``vane stack`` work as they are: ``KAFKA_BOOTSTRAP``
and ``REDIS_URL``.

    settings = Settings.from_env()
    settings.topics.dlq            # 'vane-dlq'
    settings.describe()            # a dict safe to log: secrets masked

Secrets (SASL password, Redis password, a password inside the Redis URL) are
held in ``Secret`` and never appear in ``repr``, ``str`` or ``describe()``.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from streams.errors import ConfigError

PREFIX = "VANE_"
MASK = "***"


@dataclass(frozen=True, slots=True)
class Secret:
    """A string that does not print itself: ``Secret('pw')`` shows as ``***``."""

    value: str = field(repr=False)

    def reveal(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError("must be > 0")
    return value


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError("must be >= 1")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("must be >= 0")
    return value


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 65535:
        raise ValueError("must be a port number 0-65535")
    return value


def _bootstrap(raw: str) -> str:
    servers = [s.strip() for s in raw.split(",")]
    for server in servers:
        host, _, port = server.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) <= 65535:
            raise ValueError("must be host:port[,host:port...], e.g. 127.0.0.1:9092")
    return ",".join(servers)


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().upper()
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    return parse


def _existing_file(raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_file():
        raise ValueError(f"no such file: {path}")
    return path


def _redis_url(raw: str) -> Secret:
    if urlsplit(raw).scheme not in ("redis", "rediss", "unix"):
        raise ValueError("must start with redis://, rediss:// or unix://")
    return Secret(raw)


def _key_prefix(raw: str) -> str:
    if not raw or any(c in raw for c in "{} \t\r\n"):
        raise ValueError("must be non-empty, without braces or whitespace")
    return raw


def _env(parse: Callable[[str], Any], fallback: str | None = None) -> Any:
    """Field metadata: how to parse the variable, and an optional un-prefixed fallback."""
    return {"parse": parse, "fallback": fallback}


@dataclass(frozen=True, slots=True)
class KafkaSettings:
    """Where the brokers are, how to authenticate, and consumer-group timings."""

    bootstrap: str = field(default="127.0.0.1:9092", metadata=_env(_bootstrap, "KAFKA_BOOTSTRAP"))
    security_protocol: str = field(
        default="PLAINTEXT",
        metadata=_env(_choice("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")),
    )
    sasl_mechanism: str = field(
        default="PLAIN", metadata=_env(_choice("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"))
    )
    sasl_username: str | None = field(default=None, metadata=_env(str))
    sasl_password: Secret | None = field(default=None, metadata=_env(Secret))
    ssl_cafile: Path | None = field(default=None, metadata=_env(_existing_file))
    ssl_certfile: Path | None = field(default=None, metadata=_env(_existing_file))
    ssl_keyfile: Path | None = field(default=None, metadata=_env(_existing_file))
    # 6 s: the least a stock Apache Kafka accepts (group.min.session.timeout.ms); a
    # smaller one is refused there and the worker never joins. Join delay is about half
    # the session timeout (INFRA.md); the embedded stack's workers use 3 s (joins ~3.5 s).
    session_timeout_s: float = field(default=6.0, metadata=_env(_positive_float))
    heartbeat_interval_s: float = field(default=0.5, metadata=_env(_positive_float))
    # Faust does not commit on revocation: this bounds re-delivery after a rebalance.
    commit_interval_s: float = field(default=0.5, metadata=_env(_positive_float))
    # The worker's producer (weight and dead-letter topics): idempotent with acks=all
    # when ON, or when AUTO and the broker grants a producer id (Kafka does, Tansu not).
    idempotence: str = field(default="AUTO", metadata=_env(_choice("AUTO", "ON", "OFF")))


@dataclass(frozen=True, slots=True)
class RedisSettings:
    """The window store's server; a password may sit in the URL or beside it."""

    url: Secret = field(
        default=Secret("redis://127.0.0.1:6379/0"), metadata=_env(_redis_url, "REDIS_URL")
    )
    password: Secret | None = field(default=None, metadata=_env(Secret))
    ssl_ca_file: Path | None = field(default=None, metadata=_env(_existing_file))
    # Every key starts with this; tests and tenants use their own.
    key_prefix: str = field(default="vane", metadata=_env(_key_prefix))
    # Upstream duplicates (same event_id) are dropped when they arrive within this.
    dedupe_horizon_s: float = field(default=86_400.0, metadata=_env(_positive_float))
    # An entity idle this long disappears (longest window 90 days, plus a day).
    entity_ttl_s: float = field(default=91 * 86_400.0, metadata=_env(_positive_float))
    # One window-store call (a pipeline, however long) fails as a retriable timeout after
    # this: one timer per call, not one per reply (docs/performance.md, part 7).
    call_timeout_s: float = field(default=10.0, metadata=_env(_positive_float))

    def describe_url(self) -> str:
        """The URL with any password masked."""
        return _mask_url(self.url.reveal())

    def credentials(self) -> tuple[str | None, str | None]:
        """(username, password) to present: an explicit ``password`` beats the URL's.

        ``RedisSettings(url=Secret("redis://app:u@h"), password=Secret("s")).credentials()``
        is ``("app", "s")``; the URL's parts are percent-decoded.
        """
        url = urlsplit(self.url.reveal())
        user = unquote(url.username) if url.username else None
        if self.password is not None:
            return user, self.password.reveal()
        return user, unquote(url.password) if url.password else None


@dataclass(frozen=True, slots=True)
class TopicSettings:
    """Kafka topic names; ``partitions`` applies to topics Vane creates itself."""

    orders: str = field(default="orders", metadata=_env(str))
    shipping: str = field(default="shipping", metadata=_env(str))
    refunds: str = field(default="refunds", metadata=_env(str))
    livestream: str = field(default="livestream", metadata=_env(str))
    weights: str = field(default="traffic-weights", metadata=_env(str))
    dlq: str = field(default="vane-dlq", metadata=_env(str))
    partitions: int = field(default=4, metadata=_env(_positive_int))
    # Bump when the input topics' offsets restart under the same names (a topic deleted
    # and recreated, a rebuilt cluster): watermarks are per (name, generation).
    generation: int = field(default=0, metadata=_env(_non_negative_int))


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """The Faust worker: group id, web server, batching and local data."""

    app_id: str = field(default="vane", metadata=_env(str))
    # Loopback unless told otherwise: the pages have no auth (/scores explains every
    # merchant). Containers set VANE_WEB_HOST=0.0.0.0 so that probes and scrapes reach them.
    web_host: str = field(default="127.0.0.1", metadata=_env(str))
    web_port: int = field(default=6066, metadata=_env(_port))
    # An intake agent's batch: at most max_batch events, filled for at most batch_within_s
    # while events keep arriving; taken as soon as nothing more waits (fastpath.take_ready).
    max_batch: int = field(default=1000, metadata=_env(_positive_int))
    batch_within_s: float = field(default=0.05, metadata=_env(_positive_float))
    # Largest message the worker re-publishes to the dead-letter topic, whole.
    max_message_bytes: int = field(default=16 * 1024 * 1024, metadata=_env(_positive_int))
    data_dir: Path = field(default=Path(".vane"), metadata=_env(Path))
    # Lag sampler (streams/ops/lag_sampler.py): seconds between samples, samples per window (>= 2),
    # seconds without progress before a stalled partition counts as stopped.
    lag_interval_s: float = field(default=2.0, metadata=_env(_positive_float))
    lag_window: int = field(default=10, metadata=_env(_positive_int))
    lag_stop_after_s: float = field(default=120.0, metadata=_env(_positive_float))
    # The outbox (docs/reliability.md): an entry not marked published this long after its
    # commit (Redis TIME) is taken over by whichever worker looks; the current message of a
    # taken-over entity is re-sent once more this long after the takeover age; every worker
    # looks for such entries this often. The takeover age must exceed a healthy send.
    outbox_takeover_s: float = field(default=10.0, metadata=_env(_positive_float))
    outbox_recheck_s: float = field(default=60.0, metadata=_env(_positive_float))
    outbox_scan_s: float = field(default=2.0, metadata=_env(_positive_float))


_SECTIONS = {
    "kafka": KafkaSettings,
    "redis": RedisSettings,
    "topics": TopicSettings,
    "worker": WorkerSettings,
}
_ENV_SECTION = {"kafka": "KAFKA", "redis": "REDIS", "topics": "TOPIC", "worker": ""}


@dataclass(frozen=True, slots=True)
class Settings:
    """All of Vane's configuration; build it once with ``Settings.from_env()``."""

    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    topics: TopicSettings = field(default_factory=TopicSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read every ``VANE_*`` variable; raise ConfigError naming a bad one."""
        env = os.environ if environ is None else environ
        sections = {name: _read_section(name, kind, env) for name, kind in _SECTIONS.items()}
        return cls(**sections)

    def describe(self) -> dict[str, dict[str, Any]]:
        """Every setting as plain values, secrets masked: safe to log or print."""
        return {name: _describe_section(getattr(self, name)) for name in _SECTIONS}


def env_name(section: str, field_name: str) -> str:
    """The variable that sets a field: ``env_name('kafka', 'bootstrap')``."""
    middle = _ENV_SECTION[section]
    return f"{PREFIX}{middle + '_' if middle else ''}{field_name.upper()}"


def variable_names() -> frozenset[str]:
    """Every ``VANE_*`` variable a setting reads, from the sections' fields themselves."""
    return frozenset(
        env_name(section, f.name)
        for section, kind in _SECTIONS.items()
        for f in dataclasses.fields(kind)
    )


def unknown_variables(
    environ: Mapping[str, str], also: frozenset[str] = frozenset()
) -> list[tuple[str, str | None]]:
    """``VANE_*`` names that no setting reads (nor ``also``), each with the closest known one.

    ``unknown_variables({"VANE_KAFKA_BOOTSTRAPS": "h:1"})`` is
    ``[("VANE_KAFKA_BOOTSTRAPS", "VANE_KAFKA_BOOTSTRAP")]``.
    """
    known = variable_names()
    strays = sorted(n for n in environ if n.startswith(PREFIX) and n not in known | also)
    return [(n, next(iter(difflib.get_close_matches(n, known, n=1)), None)) for n in strays]


def _read_section(section: str, kind: type[Any], env: Mapping[str, str]) -> Any:
    values: dict[str, Any] = {}
    for f in dataclasses.fields(kind):
        name = env_name(section, f.name)
        fallback = f.metadata["fallback"]
        raw = env.get(name) or (env.get(fallback) if fallback else None)
        if raw is None or raw == "":
            continue
        try:
            values[f.name] = f.metadata["parse"](raw)
        except ValueError as exc:
            shown = MASK if "password" in f.name or f.name == "url" else repr(raw)
            given = name if env.get(name) or not fallback else fallback
            raise ConfigError(f"{given}={shown}: {exc}") from exc
    return kind(**values)


def _describe_section(section: Any) -> dict[str, Any]:
    return {f.name: _shown(getattr(section, f.name)) for f in dataclasses.fields(section)}


def _shown(value: Any) -> Any:
    if isinstance(value, Secret):
        return _mask_url(value.value) if "://" in value.value else MASK
    if isinstance(value, Path):
        return str(value)
    return value


def _mask_url(url: str) -> str:
    """Hide the password of a URL: ``redis://:pw@h:1/0`` → ``redis://:***@h:1/0``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    netloc = f"{user}:{MASK}@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
