"""The handbook shows every family, rule, parameter and reference of the shipped specs."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SPECS
from vrrules import PolicyLibrary
from vrrules.cli import main
from vrrules.events.caseview import CASE_SOURCES
from vrrules.handbook import condition_text, handbook_markdown

LIBRARY = PolicyLibrary(SPECS, case_sources=CASE_SOURCES)


def test_every_rule_parameter_and_reference_appears() -> None:
    text = handbook_markdown(LIBRARY)
    for family in LIBRARY.families():
        for compiled in LIBRARY.versions(family):
            spec = compiled.spec
            assert f"`{spec.family}` {spec.version}" in text
            for rule in spec.rules:
                assert f"**{rule.id}**" in text and rule.reason in text
                assert rule.reference.section in text and rule.reference.document in text
            for name in spec.parameters:
                assert f"| {name} |" in text
            assert spec.reference.section in text


def test_conditions_read_as_words() -> None:
    tiers = LIBRARY.versions("tiers")[0].spec
    rule = next(r for r in tiers.rules if r.id == "tier-3-multi-layered-needs")
    assert condition_text(rule.when) == (
        "all of (client_groups holds at least this many: `1`; "
        "obstacles holds at least this many: *multi_layered_min_domains*)"
    )


def test_handbook_command_writes_markdown_and_html(tmp_path: Path) -> None:
    assert main(["handbook", str(SPECS), "--out", str(tmp_path)]) == 0
    assert "tier-2-targeted-assessment" in (tmp_path / "handbook.md").read_text()
    assert "<pre>" in (tmp_path / "handbook.html").read_text()
