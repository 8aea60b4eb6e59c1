"""The worker's event loop: uvloop, chosen before Faust makes a loop."""

from __future__ import annotations

import asyncio

import uvloop


def use_uvloop() -> None:
    """Make new event loops uvloop ones (idempotent; call before creating the app)."""
    if not isinstance(asyncio.get_event_loop_policy(), uvloop.EventLoopPolicy):
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
