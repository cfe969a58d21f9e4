"""The HTML audit and what-if reports, rendered by headless Chromium and read back from its DOM.

A screenshot of each page is kept as ``test-artifacts/<name>.png`` (see tests/system/browser.py).
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import SPECS
from tests.system.browser import PageText, assert_reads_clean, rendered
from vrrules import CaseRecords, PolicyLibrary
from vrrules.audit import AuditReport, impact, verify_store
from vrrules.audit.log import LogFinding, LogReport
from vrrules.audit.report import render_html, store_findings, store_verdict
from vrrules.events.caseview import CASE_SOURCES
from vrrules.events.domain import case_id

ASSESSMENT = {
    "assessed_on": "2025-11-10",
    "kind": "initial",
    "depth": "detailed",
    "assessor_id": "x",
    "domains_examined": ["health"],
    "support_needed": ["rtw_planning"],
}


def _store(path: Path, specs: Path, refs: tuple[str, ...] = ("A-1", "B-2")) -> None:
    with CaseRecords(path, specs) as records:
        for ref in refs:
            records.open_case(ref, date(2025, 11, 3))
            records.record(ref, "assessment_completed", ASSESSMENT)
            records.decide(ref, "tiers")


def test_the_report_shows_the_verdict_differences_and_trails(tmp_path: Path) -> None:
    store = tmp_path / "cases.db"
    _store(store, SPECS)
    with sqlite3.connect(store) as db:  # tamper with one stored event
        where = (case_id("A-1").hex,)
        query = "FROM stored_events WHERE originator_id = ? AND originator_version = 2"
        (state,) = db.execute(f"SELECT state {query}", where).fetchone()
        edited = state.replace(b"rtw_planning", b"career_redirection")
        db.execute(
            f"UPDATE stored_events SET state = ? {query.removeprefix('FROM stored_events')}", (edited, *where)
        )
    page = tmp_path / "report.html"
    with CaseRecords(store, SPECS) as records:
        report = verify_store(records)
        page.write_text(render_html(records, report), encoding="utf-8")
    text = PageText(rendered(page, tmp_path, "audit-report"))
    assert "NOT verified" in text.by_id["verdict"]
    assert "Chain broken in case A-1 at event 2" in text.by_id["differences"]
    assert "tiers" in text.by_id["families"] and text.tags["tr"] == 2  # header and one family row
    # the verdict counts exactly the findings listed beneath it
    assert f"{len(store_findings(report))} finding" in text.by_id["verdict"]
    assert text.by_id["differences"].count("\n") >= len(store_findings(report)) - 1
    # the trail shows the outcome in words and each rule's reason and source
    assert "Tier 2 (targeted assessment and recommendations), from 6 weeks up to 6 months" in text.text
    assert "tier-2-targeted-assessment" in text.text
    assert "Vocational Case Management tiers of support" in text.text
    assert_reads_clean(text.text)


def test_the_what_if_page_leads_with_what_would_change(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(SPECS / "tiers", old / "tiers")
    shutil.copytree(SPECS / "tiers", new / "tiers")
    spec = new / "tiers" / "2025.1.yaml"
    spec.write_text(spec.read_text().replace("2025-10-01: 6\n", "2025-10-01: 9\n", 1))
    store = tmp_path / "cases.db"
    _store(store, old, ("A-1", "B-2", "C-3"))
    page = tmp_path / "what-if.html"
    with CaseRecords(store, old) as records:
        verified = verify_store(records)
        assert verified.ok  # the history itself is intact: only the draft changes outcomes
        changes = impact(records, PolicyLibrary(new, case_sources=CASE_SOURCES))
        assert len(changes.changes) == 3
        page.write_text(
            render_html(records, verified, changes, title="vrrules what-if report"), encoding="utf-8"
        )
    text = PageText(rendered(page, tmp_path, "what-if-report"))
    verdict = text.by_id["verdict"]
    assert "3 of 3 recorded decisions would come out differently" in verdict
    assert "intact and reproduced" not in text.text  # never above a list of differences
    assert text.by_id["changes"].count("would be:") == 3
    assert "from 9 weeks up to 6 months" in text.by_id["changes"]
    assert "from 6 weeks up to 6 months" in text.by_id["changes"]
    assert "verified" in text.by_id["store-verdict"] and "NOT" not in text.by_id["store-verdict"]
    assert_reads_clean(text.text)


def test_a_what_if_with_no_change_says_so(tmp_path: Path) -> None:
    store = tmp_path / "cases.db"
    _store(store, SPECS, ("A-1",))
    with CaseRecords(store, SPECS) as records:
        page = render_html(records, verify_store(records), impact(records), title="what-if")
    assert "no change: all 1 recorded decisions come out the same" in page
    assert "No decision would change: every recorded decision comes out the same." in page


@pytest.mark.parametrize(
    "report",
    [
        AuditReport(),
        AuditReport(log=LogReport(findings=[LogFinding("leaf hash differs", leaf_index=3)])),
        AuditReport(expected_digest="abc", digest="def"),
    ],
    ids=["clean", "log-finding", "digest-differs"],
)
def test_the_verdict_never_contradicts_the_findings(report: AuditReport) -> None:
    verified, verdict = store_verdict(report)
    findings = store_findings(report)
    assert verified == (not findings) == report.ok
    assert verdict.startswith("verified") if verified else verdict.startswith("NOT verified")
    assert "intact and reproduced" not in verdict
    text = report.render()  # the text report agrees with the page
    assert ("verdict: NOT verified" in text) == (not verified)


def test_stored_text_is_shown_as_written_never_as_html(tmp_path: Path) -> None:
    store = tmp_path / "cases.db"
    with CaseRecords(store, SPECS) as records:
        records.open_case("X-1", date(2025, 11, 3))
        records.record("X-1", "assessment_completed", ASSESSMENT)
        records.decide("X-1", "tiers")
        report = verify_store(records)
        log = LogReport(findings=[LogFinding("<script>alert(1)</script>")])
        report.log = log
        page = render_html(records, report)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "NOT verified" in page
