"""Every error the scoring models raise on purpose, in one tree.

    ModelError
    ├── ModelConfigError   a model config (models/<name>.toml) is unreadable or wrong;
    │                      the message names the file and the key
    └── ModelInputError    the windows given to a model do not fit it (a caller bug)

``models`` is pure and imports nothing from ``streams``; the streaming layer
translates these at its boundary (``raise ConfigError(...) from exc``).
"""

from __future__ import annotations


class ModelError(Exception):
    """Base of all errors the scoring models raise on purpose."""

    retriable: bool = False


class ModelConfigError(ModelError):
    """A model config is unreadable or inconsistent: ``<file>: <key>: <problem>``."""


class ModelInputError(ModelError):
    """The windows passed to a model are not the ones it scores (wrong type or day)."""
