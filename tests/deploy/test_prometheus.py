"""promtool on the alert rules (check + unit tests) and on the compose Prometheus config."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.tools import DEPLOY, promtool

PROMETHEUS = DEPLOY / "prometheus"


def _promtool(*args: str) -> str:
    binary = promtool()
    if binary is None:
        pytest.skip("promtool is not installed: `make tools` installs it (apt-get prometheus)")
    done = subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_promtool_check_rules() -> None:
    assert "SUCCESS" in _promtool("check", "rules", str(PROMETHEUS / "alerts.yml"))


def test_promtool_test_rules() -> None:
    assert "SUCCESS" in _promtool("test", "rules", str(PROMETHEUS / "alerts_test.yml"))


def test_promtool_check_config() -> None:
    assert "SUCCESS" in _promtool("check", "config", str(PROMETHEUS / "prometheus.yml"))


def test_promtool_fails_on_a_broken_rule(tmp_path: Path) -> None:
    """The check is not a no-op: a rule with a PromQL syntax error is refused."""
    binary = promtool()
    if binary is None:
        pytest.skip("promtool is not installed: `make tools` installs it (apt-get prometheus)")
    bad = tmp_path / "broken-rules.yml"
    bad.write_text("groups:\n  - name: x\n    rules:\n      - alert: X\n        expr: sum(by\n")
    done = subprocess.run([binary, "check", "rules", str(bad)], capture_output=True, timeout=60)
    assert done.returncode != 0


def test_every_alert_has_a_unit_test_and_a_runbook_section() -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    tests = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"]}
    tested = {
        case["alertname"]
        for test in tests["tests"]
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    assert alerts == tested, f"alerts never seen firing in alerts_test.yml: {alerts - tested}"
    operations = (DEPLOY.parent / "docs" / "operations.md").read_text()
    for alert in alerts:
        assert f"### {alert}" in operations, f"docs/operations.md has no section for {alert}"


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", markdown, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h).strip().lower().replace(" ", "-") for h in headings}


def test_every_rule_says_what_happened_and_where_its_runbook_is() -> None:
    """summary, description and runbook_url, as the Prometheus community's mixins carry."""
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())
    anchors = _anchors((DEPLOY.parent / "docs" / "operations.md").read_text())
    for rule in (r for g in rules["groups"] for r in g["rules"]):
        notes = rule.get("annotations", {})
        missing = {"summary", "description", "runbook_url"} - set(notes)
        assert not missing, f"{rule['alert']} has no {sorted(missing)}"
        assert notes["description"].strip() != notes["summary"].strip(), rule["alert"]
        page, _, anchor = notes["runbook_url"].partition("#")
        assert page == "docs/operations.md", rule["alert"]
        assert anchor == rule["alert"].lower(), rule["alert"]
        assert anchor in anchors, f"docs/operations.md has no heading for #{anchor}"
