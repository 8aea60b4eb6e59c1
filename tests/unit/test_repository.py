"""Facts about the checkout a newcomer meets: what it declares, ignores and promises."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _third_party_imports() -> set[str]:
    """Top-level modules the shipped code imports (the harness in devtools/ aside)."""
    found: set[str] = set()
    for path in (ROOT / "streams").rglob("*.py"):
        if "devtools" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found - set(sys.stdlib_module_names) - {"streams", "models"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_library_the_code_imports_is_a_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {_name(r) for r in project["dependencies"]}
    distributions = packages_distributions()
    for module in sorted(_third_party_imports()):
        names = {_name(d) for d in distributions.get(module, [module])}
        assert names & declared, f"{module} is imported but not in [project] dependencies"


def test_every_vane_variable_the_code_reads_is_known_to_the_warning() -> None:
    """`vane` warns of unknown VANE_* names: a new one must be a setting or the harness's."""
    from streams.cli import HARNESS_PREFIXES, HARNESS_VARIABLES
    from streams.settings import variable_names

    named = {
        node.value
        for path in (ROOT / "streams").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"VANE_[A-Z0-9_]*[A-Z0-9]", node.value)
    }
    known = variable_names() | HARNESS_VARIABLES
    strays = {n for n in named if n not in known and not n.startswith(HARNESS_PREFIXES)}
    assert not strays, f"add to settings or streams.cli.HARNESS_VARIABLES: {sorted(strays)}"


@pytest.mark.skipif(shutil.which("git") is None, reason="no git")
def test_what_the_readme_writes_into_the_checkout_is_ignored() -> None:
    written = re.findall(r"--(?:out|ground-truth|updates) (\S+)", README)
    assert "market.jsonl.gz" in written
    inside = subprocess.run(["git", "rev-parse"], cwd=ROOT, capture_output=True, check=False)
    if inside.returncode != 0:
        pytest.skip("not a git checkout")
    for name in written:
        ignored = subprocess.run(["git", "check-ignore", "-q", name], cwd=ROOT, check=False)
        assert ignored.returncode == 0, f"{name} (README) is not in .gitignore"


def test_the_readme_says_how_to_stop_what_it_starts_in_the_background() -> None:
    jobs = re.findall(r"^vane [^\n]*&\s", README, flags=re.MULTILINE)
    assert len(jobs) == 2
    assert re.search(r"^kill %2 %1\b", README, flags=re.MULTILINE)


def test_soak_takes_the_same_time_everywhere_it_is_stated() -> None:
    said = {
        "README.md": README,
        "Makefile": (ROOT / "Makefile").read_text(),
        "docs/reliability.md": (ROOT / "docs/reliability.md").read_text(),
    }
    figures = {}
    for name, text in said.items():
        around = [text[m.start() : m.start() + 200] for m in re.finditer("soak", text)]
        figures[name] = {f for part in around for f in re.findall(r"about \d+ minutes", part)}
    stated = set().union(*figures.values())
    assert all(figures.values()), figures  # said wherever soak is described
    assert len(stated) == 1, figures  # and the same figure everywhere
