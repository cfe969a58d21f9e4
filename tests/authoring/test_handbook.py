"""The handbook shows every family, rule, parameter and reference of the shipped specs, as
Markdown and as that Markdown rendered to HTML (read back from headless Chromium's DOM; a
screenshot is kept as ``test-artifacts/handbook.png``)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SPECS
from tests.system.browser import PageText, assert_reads_clean, rendered
from vrrules import PolicyLibrary
from vrrules.cli import main
from vrrules.events.caseview import CASE_SOURCES
from vrrules.handbook import condition_lines, condition_text, handbook_html, handbook_markdown

LIBRARY = PolicyLibrary(SPECS, case_sources=CASE_SOURCES)


def test_every_rule_parameter_and_reference_appears() -> None:
    text = handbook_markdown(LIBRARY)
    for family in LIBRARY.families():
        for compiled in LIBRARY.versions(family):
            spec = compiled.spec
            assert f"## {spec.title} ({spec.family} {spec.version})" in text
            for rule in spec.rules:
                assert f". {rule.id}\n" in text
                assert " ".join(rule.reason.split()) in text
                assert rule.reference.section in text and rule.reference.document in text
            for name in spec.parameters:
                assert f"| `{name}`: " in text
            assert spec.reference.section in text


def test_a_table_of_contents_links_every_family_version() -> None:
    text = handbook_markdown(LIBRARY)
    contents = text.split("## Contents", 1)[1].split("\n## ", 1)[0]
    versions = sum(len(LIBRARY.versions(f)) for f in LIBRARY.families())
    assert contents.count("\n- [") == versions
    page = PageText(handbook_html(LIBRARY))
    anchors = [link.removeprefix("#") for link in page.links if link.startswith("#")]
    assert len(anchors) == versions and set(anchors) <= page.ids  # every link lands on a heading


def test_parameter_tables_give_value_from_until_and_source() -> None:
    text = handbook_markdown(LIBRARY)
    assert "| parameter | value | from | until | source |" in text
    cap = next(line for line in text.splitlines() if line.startswith("| `retraining_fund_cap`"))
    assert "$" in cap and "| 20" in cap  # money in dollars, an ISO from date
    assert "| 4 weeks | 2025-10-01 | open-ended |" in text  # tier1_max_weeks, in its unit


def test_conditions_read_as_words() -> None:
    tiers = LIBRARY.versions("tiers")[0].spec
    rule = next(r for r in tiers.rules if r.id == "tier-3-multi-layered-needs")
    assert condition_text(rule.when) == (
        "all of: client_groups has at least 1 entry; obstacles has at least multi_layered_min_domains entries"
    )
    assert condition_lines(rule.when, tiers) == [
        "- all of these hold:",
        "  - `client_groups` has at least 1 entry",
        "  - `obstacles` has at least *multi_layered_min_domains* (2) entries",
    ]


def test_rule_outcomes_read_as_sentences() -> None:
    text = handbook_markdown(LIBRARY)
    assert "Then: Tier 2 (targeted assessment and recommendations), from 6 weeks up to 6 months" in text


def test_handbook_command_writes_markdown_and_html(tmp_path: Path) -> None:
    assert main(["handbook", str(SPECS), "--out", str(tmp_path)]) == 0
    assert "tier-2-targeted-assessment" in (tmp_path / "handbook.md").read_text()
    page = (tmp_path / "handbook.html").read_text()
    assert "<pre>" not in page and "<table>" in page and "<h2 id=\"contents\">Contents</h2>" in page


def test_the_handbook_page_renders_with_no_markdown_showing(tmp_path: Path) -> None:
    page = tmp_path / "handbook.html"
    page.write_text(handbook_html(LIBRARY), encoding="utf-8")
    text = PageText(rendered(page, tmp_path, "handbook", height=1600))
    assert text.tags.get("pre", 0) == 0
    with_parameters = [c for f in LIBRARY.families() for c in LIBRARY.versions(f) if c.spec.parameters]
    assert text.tags["table"] >= len(with_parameters)
    assert text.tags["h2"] >= 2 and text.tags["li"] > 100
    assert "VRA tiers of support (tiers 2025.1)" in text.text
    assert "#### " not in text.text and "## " not in text.text and "`" not in text.text
    assert_reads_clean(text.text)
