"""Architectural facts, pinned: who may import what."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "streams").rglob("*.py")) + sorted((ROOT / "models").rglob("*.py"))

# Library -> the only module allowed to import it.
SINGLE_OWNER = {
    "orjson": "streams/codec.py",
    "redis": "streams/store/connection.py",
}
INFRASTRUCTURE = ("faust", "mode", "redis", "aiokafka", "orjson")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_sources_are_found() -> None:
    assert len(SOURCES) > 10


@pytest.mark.parametrize("library", sorted(SINGLE_OWNER))
def test_one_module_owns_each_client_library(library: str) -> None:
    owners = {str(p.relative_to(ROOT)) for p in SOURCES if library in _imports(p)}
    assert owners <= {SINGLE_OWNER[library]}


def test_models_are_pure() -> None:
    for path in (ROOT / "models").rglob("*.py"):
        assert not _imports(path) & set(INFRASTRUCTURE), f"{path} imports infrastructure"
