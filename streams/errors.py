"""Every error Vane raises on purpose, in one tree.

    VaneError
    ├── ConfigError          a setting is missing or malformed (start-up)
    ├── MalformedEvent       an input message breaks the event contract
    ├── StackError           the embedded Kafka/Redis stack failed to start
    ├── KafkaUnavailable     Kafka cannot be reached or refused our TLS/SASL credentials
    └── StoreUnavailable     Redis cannot be reached or refused a call (retriable)
        └── ScriptsMissing   the server lost Vane's Lua scripts (restarted): reload

Library errors are translated at the boundary with ``raise ... from exc``.
``retriable`` says whether trying the same call again can succeed.
"""

from __future__ import annotations


class VaneError(Exception):
    """Base of all errors Vane raises on purpose."""

    retriable: bool = False


class ConfigError(VaneError):
    """A setting is missing or malformed; the message names the variable."""


class MalformedEvent(VaneError):
    """An input message breaks the event contract (SCORING.md §2).

    ``reason`` is a stable machine-readable code (see ``streams.events.Reason``);
    ``detail`` is a short human explanation naming the field.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class StackError(VaneError):
    """The embedded stack (Tansu, Valkey) could not be started."""


class KafkaUnavailable(VaneError):
    """Kafka cannot be reached, or refused our TLS or SASL credentials (retriable)."""

    retriable = True


class StoreUnavailable(VaneError):
    """The window store's Redis cannot be reached or failed a call; try again."""

    retriable = True


class ScriptsMissing(StoreUnavailable):
    """The Redis server lost Vane's Lua scripts (a restart): load them, then retry."""
