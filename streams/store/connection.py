"""The Redis client: connection (standalone or cluster), Lua scripts, errors.

The only module that imports ``redis``. Library errors are translated here, at
the boundary: ``StoreUnavailable`` (retriable) or ``StoreRejected`` (see ``translate``).
"""

from __future__ import annotations

import asyncio
import importlib.resources
import re
from collections.abc import Awaitable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as aioredis
import redis.exceptions as redis_errors
from redis.asyncio.cluster import RedisCluster

from streams.errors import ScriptsMissing, StoreError, StoreRejected, StoreUnavailable
from streams.settings import RedisSettings

Client = aioredis.Redis | RedisCluster
T = TypeVar("T")

INCLUDE = re.compile(r"^-- include: (\w+)$", re.MULTILINE)
AUTH_HINT = " (set the password in REDIS_URL or VANE_REDIS_PASSWORD, which wins)"
SCRIPTS = (
    "apply",
    "dedupe",
    "clock",
    "commit",
    "published",
    "claim",
    "outbox_add",
    "outbox_due",
    "sweep_done",
    "shard_take",
    "shard_done",
    "lease",
)


CONNECT_TIMEOUT_S = 5.0


async def connect(settings: RedisSettings) -> Client:
    """A standalone or cluster client, whichever the server at the URL is.

    Its replies have no timeout of their own: every call is awaited through
    ``guarded``, which bounds the whole call (``RedisSettings.call_timeout_s``). A
    timer per reply cost about as much of the worker's CPU as the replies' parsing
    (docs/performance.md, "Hot path, part 7")."""
    url = settings.url.reveal()
    options: dict[str, Any] = {"socket_timeout": None, "socket_connect_timeout": CONNECT_TIMEOUT_S}
    _, password = settings.credentials()  # the explicit setting beats the URL's
    if password is not None:
        # redis-py would let a password in the URL win over this option: take it out.
        url = _without_password(url)
        options["password"] = password
    if settings.ssl_ca_file is not None:
        options["ssl_ca_certs"] = str(settings.ssl_ca_file)
    probe = aioredis.Redis.from_url(url, **options | {"socket_timeout": settings.call_timeout_s})
    try:
        info = await probe.info("cluster")
    except redis_errors.AuthenticationError as exc:
        where = settings.describe_url()
        message = f"redis at {where} refused our credentials: {exc}{AUTH_HINT}"
        raise StoreUnavailable(message) from exc
    except (redis_errors.RedisError, OSError) as exc:
        raise StoreUnavailable(f"cannot reach redis at {settings.describe_url()}: {exc}") from exc
    finally:
        await probe.aclose()
    if info.get("cluster_enabled"):
        return RedisCluster.from_url(url, **options)
    return aioredis.Redis.from_url(url, **options)


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}@" if parts.username else ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=user + host))


def script_text(name: str) -> str:
    """The script ``lua/<name>.lua``, a line ``-- include: <other>`` replaced by
    ``lua/<other>.lua`` (a helper several scripts share)."""
    text = _lua(name)
    return INCLUDE.sub(lambda m: _lua(m.group(1)), text)


def _lua(name: str) -> str:
    return (importlib.resources.files("streams.store") / "lua" / f"{name}.lua").read_text()


async def load_scripts(client: Client) -> dict[str, str]:
    """Load every script on every primary; name -> SHA1."""
    return {name: await _load_everywhere(client, script_text(name)) for name in SCRIPTS}


async def _load_everywhere(client: Client, text: str) -> str:
    if isinstance(client, RedisCluster):
        await client.initialize()
        loads = (
            client.execute_command("SCRIPT", "LOAD", text, target_nodes=node)
            for node in client.get_primaries()
        )
        shas = {_text(sha) for sha in await asyncio.gather(*loads)}
        assert len(shas) == 1, shas
        return shas.pop()
    return str(await client.script_load(text))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


# Server error codes that describe a passing state of the server, not of the call:
# out of memory under ``noeviction``, a demoted primary, a failover, a load, a busy script.
RETRIABLE_CODES = frozenset(
    {"OOM", "READONLY", "MASTERDOWN", "LOADING", "BUSY", "TRYAGAIN", "CLUSTERDOWN",
     "NOREPLICAS", "MISCONF", "NOPERM", "NOAUTH", "WRONGPASS"}
)  # fmt: skip
# redis-py strips the code from these replies and tells it by the class instead.
_CODE_OF_CLASS: tuple[tuple[type[Exception], str], ...] = (
    (redis_errors.OutOfMemoryError, "OOM"),
    (redis_errors.ReadOnlyError, "READONLY"),
    (redis_errors.NoPermissionError, "NOPERM"),
    (redis_errors.BusyLoadingError, "LOADING"),
    (redis_errors.AuthenticationError, "auth"),
    (redis_errors.TimeoutError, "timeout"),
    (TimeoutError, "timeout"),
    (redis_errors.ConnectionError, "connection"),
    (OSError, "connection"),
)


async def guarded(call: Awaitable[T], timeout_s: float) -> T:
    """Await a Redis call for at most ``timeout_s``, translating library errors (the
    policy: ``translate``; running out of time is a retriable "timeout").

    A call cut short leaves no half-read reply behind: redis-py drops a connection
    whose read or write was interrupted, and the next call opens a new one."""
    try:
        async with asyncio.timeout(timeout_s):
            return await call
    except (redis_errors.RedisError, OSError) as exc:  # asyncio's TimeoutError included
        raise translate(exc) from exc


def translate(exc: BaseException) -> StoreError:
    """Every Redis error class has a policy: retry it (``StoreUnavailable``) or not.

    A connection error, a timeout, or a server in a passing state (``RETRIABLE_CODES``)
    is retriable; anything else the server answers (a Lua runtime error, wrong arity,
    WRONGTYPE) is a bug that retrying cannot fix: ``StoreRejected``.
    """
    if isinstance(exc, redis_errors.NoScriptError):
        return ScriptsMissing("scripts missing (server restarted?)", kind="NOSCRIPT")
    code = error_code(exc)
    if code in RETRIABLE_CODES or code in ("auth", "timeout", "connection", "cluster"):
        return StoreUnavailable(f"redis {code}: {exc}", kind=code)
    return StoreRejected(f"redis refused the call: {exc}", kind=code)


def error_code(exc: BaseException) -> str:
    """The server's error code (``OOM``, ``READONLY``, ...), or what kind of failure it was."""
    for cls, code in _CODE_OF_CLASS:
        if isinstance(exc, cls):
            return code
    first = str(exc).split(" ", 1)[0]
    if first.isupper() and first.isalpha():
        return first
    if isinstance(exc, redis_errors.ClusterError):
        return "cluster"
    return "script"
