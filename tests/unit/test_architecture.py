"""Architectural facts, pinned: who may import what, and the order an event travels.

The runtime is ``streams/`` without ``streams/cli/`` (the face) and
``streams/devtools/`` (the harness). Its rooms stand in layers, in the order an
event travels; a room imports its own modules and lower layers only:

    cli/                                      the face (may use devtools/)
    worker                                    the composition root
    app  agents/  ops/                        Faust: the app, its agents, its pages
    scoring/                                  stage, re-scorer, sweep, weights, ...
    intake/                                   contract, policy, dead letters
    topics  kafka/  store/                    the wire and the window store
    settings                                  one frozen object, read once
    errors codec metrics events semantics     the vocabulary
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STREAMS = ROOT / "streams"
SOURCES = sorted(STREAMS.rglob("*.py")) + sorted((ROOT / "models").rglob("*.py"))

# Library -> the only places (a file, or a folder ending in "/") allowed to import it.
OWNERS = {
    "orjson": {"streams/codec.py"},
    "redis": {"streams/store/connection.py"},
    "aiokafka": {"streams/kafka/", "streams/devtools/"},
    "faust": {
        "streams/app.py", "streams/worker.py", "streams/topics.py", "streams/agents/",
        "streams/ops/", "streams/kafka/fastpath/", "streams/cli/worker.py", "streams/devtools/",
    },
}  # fmt: skip
OWNERS["mode"] = OWNERS["faust"]
INFRASTRUCTURE = ("faust", "mode", "redis", "aiokafka", "orjson")

LAYERS = [
    ["errors", "codec", "metrics", "events", "semantics"],
    ["settings"],
    ["topics", "kafka", "store"],
    ["intake"],
    ["scoring"],
    ["app", "agents", "ops"],
    ["worker"],
    ["cli"],
]
LAYER_OF = {room: i for i, rooms in enumerate(LAYERS) for room in rooms}
HARNESS = ("cli", "devtools")  # not the runtime


def _imports(path: Path) -> set[str]:
    """Top-level names of every absolute import (in functions too)."""
    return {name.split(".")[0] for name in _modules(path, top_level_only=False)}


def _modules(path: Path, *, top_level_only: bool) -> Iterator[str]:
    """Every module an absolute import in ``path`` names; ``from X import m`` names X.m
    when that is a module of the tree."""
    tree = ast.parse(path.read_text(), filename=str(path))
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                yield sub if _source(sub) is not None else node.module


def _source(module: str) -> Path | None:
    base = ROOT.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _room(module: str) -> str:
    """``streams.scoring.sweep`` -> ``scoring``; ``streams.settings`` -> ``settings``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "streams"


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _owned(path: Path, owners: set[str]) -> bool:
    where = str(path.relative_to(ROOT))
    return any(where == o or (o.endswith("/") and where.startswith(o)) for o in owners)


RUNTIME = [p for p in sorted(STREAMS.rglob("*.py")) if _room(_name(p)) not in HARNESS]


def test_sources_are_found() -> None:
    assert len(SOURCES) > 10
    assert len(RUNTIME) > 30


@pytest.mark.parametrize("library", sorted(OWNERS))
def test_each_client_library_has_its_owners(library: str) -> None:
    users = {str(p.relative_to(ROOT)) for p in SOURCES if library in _imports(p)}
    strays = {u for u in users if not _owned(ROOT / u, OWNERS[library])}
    assert not strays, f"{library} imported outside {sorted(OWNERS[library])}"


def test_models_are_pure() -> None:
    for path in (ROOT / "models").rglob("*.py"):
        assert not _imports(path) & set(INFRASTRUCTURE), f"{path} imports infrastructure"
        assert "streams" not in _imports(path), f"{path} imports streams"


def test_nothing_in_the_runtime_imports_the_harness() -> None:
    for path in RUNTIME:
        for module in _modules(path, top_level_only=False):
            if module.startswith("streams."):
                assert _room(module) not in HARNESS, f"{_name(path)} imports {module}"


def test_every_room_has_a_layer() -> None:
    rooms = {_room(_name(p)) for p in RUNTIME} - {"streams"}
    assert rooms <= set(LAYER_OF), rooms - set(LAYER_OF)


@pytest.mark.parametrize("path", RUNTIME, ids=lambda p: str(p.relative_to(STREAMS)))
def test_imports_run_down_the_data_path(path: Path) -> None:
    """A room imports itself and lower layers only (see the module docstring)."""
    here = _room(_name(path))
    for module in _modules(path, top_level_only=False):
        if module.startswith("streams.") and _room(module) != here:
            there = _room(module)
            assert LAYER_OF[there] < LAYER_OF[here], f"{_name(path)} -> {module}"


def test_no_import_circles() -> None:
    """Imports form no cycle anywhere in streams/, deferred (function-level) ones included:
    a deferred import that closes a loop only hides the circle from the interpreter."""
    graph = {
        _name(p): {m for m in _modules(p, top_level_only=False) if m.startswith("streams.")}
        for p in sorted(STREAMS.rglob("*.py"))
    }
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            raise AssertionError(" -> ".join([*trail[trail.index(module) :], module]))
        if module in done:
            return
        for target in sorted(graph.get(module, ())):
            visit(target, [*trail, module])
        done.add(module)

    for module in graph:
        visit(module, [])
