"""Every alert, page and breaker links to a runbook that exists.

Three ways a link can go stale, each checked here:
- a ``runbooks/<file>.md`` written anywhere in code, configuration or workflows;
- a runbook an alert or breaker would be paged with (SLO tiers, breakers, incident sources);
- a relative link between runbooks.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNBOOKS = ROOT / "runbooks"
SCANNED = ("app.py", "chalicelib", "functions", "infra", "statemachines", "slos", "terraform", "devstack")
SUFFIXES = {".py", ".json", ".yaml", ".yml", ".tf", ".md", ".html", ".hcl"}
REFERENCE = re.compile(r"runbooks/([A-Za-z0-9_.-]+\.md)")
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)")


def _scanned_files():
    for entry in SCANNED:
        path = ROOT / entry
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from (file for file in path.rglob("*") if file.suffix in SUFFIXES and file.is_file()
                        and ".terraform" not in file.parts and "__pycache__" not in file.parts)


def _references():
    found = {}
    for file in _scanned_files():
        for name in REFERENCE.findall(file.read_text(encoding="utf-8", errors="replace")):
            found.setdefault(name, file.relative_to(ROOT).as_posix())
    return found


def test_runbook_references_in_code_and_config_exist():
    missing = {name: where for name, where in _references().items() if not (RUNBOOKS / name).is_file()}
    assert not missing, f"runbooks referenced but missing: {missing}"


def test_links_between_runbooks_resolve():
    broken = [f"{page.name} -> {target}" for page in RUNBOOKS.glob("*.md")
              for target in MARKDOWN_LINK.findall(page.read_text(encoding="utf-8"))
              if "://" not in target and not (page.parent / target).resolve().is_file()]
    assert not broken, f"broken runbook links: {broken}"


def test_every_slo_alert_tier_has_its_runbook():
    from chalicelib.slo.config import load_slos as get_slos

    missing = sorted({tier.runbook for slo in get_slos() for tier in slo.tiers
                      if not (RUNBOOKS / tier.runbook).is_file()})
    assert not missing, f"SLO alert runbooks missing: {missing}"


def test_every_breaker_has_its_runbook():
    from chalicelib.incidents.adapters import breaker_runbook
    from chalicelib.resilience.config import load_breaker_configs

    missing = sorted(breaker_runbook(name) for name in load_breaker_configs()
                     if not (ROOT / breaker_runbook(name)).is_file())
    assert not missing, f"breaker runbooks missing: {missing}"


@pytest.mark.parametrize("runbook", [
    "runbooks/incident-manual.md",       # manual incidents (DEFAULT_RUNBOOK)
    "runbooks/chaos-experiment.md",      # pages sent while an experiment runs
    "runbooks/escalation-failed.md",     # a failed or exhausted escalation
    "runbooks/incident-response.md", "runbooks/severity-matrix.md", "runbooks/escalation-matrix.md",
    "runbooks/communication-templates.md", "runbooks/postmortem-template.md",
])
def test_incident_runbooks_exist(runbook):
    assert (ROOT / runbook).is_file()


def test_default_incident_runbook_exists():
    from chalicelib.incidents.model import DEFAULT_RUNBOOK

    assert (ROOT / DEFAULT_RUNBOOK).is_file()
