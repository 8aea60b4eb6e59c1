"""The probes' pure parts: RESP encoding, AUTH from the settings, the readiness verdict."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from streams.ops.health import Membership, readiness
from streams.settings import RedisSettings, Secret
from streams.store.probe import auth_command
from streams.store.probe import resp as _resp


def test_resp_encodes_a_command() -> None:
    assert _resp(["PING"]) == b"*1\r\n$4\r\nPING\r\n"
    assert _resp(["AUTH", "pä"]) == b"*2\r\n$4\r\nAUTH\r\n$3\r\np\xc3\xa4\r\n"


@pytest.mark.parametrize(
    ("password", "user", "url_password", "command"),
    [
        (None, None, None, []),
        (None, None, "s%40cret", ["AUTH", "s@cret"]),
        (None, "app", "pw", ["AUTH", "app", "pw"]),
        ("from-settings", None, "from-url", ["AUTH", "from-settings"]),
        (None, None, "", []),
    ],
)
def test_auth_command(
    password: str | None, user: str | None, url_password: str | None, command: list[str]
) -> None:
    userinfo = (
        "" if user is None and url_password is None else f"{user or ''}:{url_password or ''}@"
    )
    url = Secret(f"redis://{userinfo}127.0.0.1:6379/0")
    settings = RedisSettings(url=url, password=Secret(password) if password else None)
    assert auth_command(settings) == command


class _App:
    rebalancing = False


def _checks(**answers: bool) -> dict[str, Any]:
    async def answer(value: bool) -> bool:
        return value

    return {name: (lambda v=value: answer(v)) for name, value in answers.items()}


def test_not_ready_before_the_first_assignment() -> None:
    got = asyncio.run(readiness(_App(), Membership(), _checks(kafka=True, redis=True)))  # type: ignore[arg-type]
    assert got == {"partitions": False, "kafka": True, "redis": True}


def test_ready_after_an_assignment_even_an_empty_one() -> None:
    membership = Membership()
    asyncio.run(membership.on_assigned(None, set()))
    got = asyncio.run(readiness(_App(), membership, _checks(kafka=True, redis=True)))  # type: ignore[arg-type]
    assert all(got.values())


def test_not_ready_while_rebalancing_or_a_server_is_down() -> None:
    membership = Membership()
    asyncio.run(membership.on_assigned(None, {("orders", 0), ("orders", 1)}))
    asyncio.run(membership.on_revoked(None, {("orders", 1)}))
    assert membership.assigned == {("orders", 0)}
    app = _App()
    app.rebalancing = True
    assert not asyncio.run(readiness(app, membership, _checks()))["partitions"]  # type: ignore[arg-type]
    got = asyncio.run(readiness(_App(), membership, _checks(kafka=True, redis=False)))  # type: ignore[arg-type]
    assert got == {"partitions": True, "kafka": True, "redis": False}
