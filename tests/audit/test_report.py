"""The HTML audit report, rendered by headless Chromium and read back from its DOM."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import SPECS
from vrrules import CaseRecords
from vrrules.audit import verify_store
from vrrules.audit.report import render_html
from vrrules.events.domain import case_id

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class _Text(HTMLParser):
    """The visible text of elements by id, and the table rows."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, str] = {}
        self._open: list[str] = []
        self.rows = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows += 1
        element_id = dict(attrs).get("id")
        if element_id:
            self._open.append(element_id)
            self.by_id[element_id] = ""

    def handle_data(self, data: str) -> None:
        for element_id in self._open:
            self.by_id[element_id] += data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "ul", "table") and self._open:
            self._open.pop()


def _rendered_by_chromium(page: Path, tmp_path: Path) -> str:
    if CHROMIUM is None:
        if os.environ.get("VRRULES_REQUIRE_CHROMIUM"):
            pytest.fail("VRRULES_REQUIRE_CHROMIUM is set but chromium is not installed")
        pytest.skip("Chromium is not installed here (Debian package 'chromium'); .ci/run installs it")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    done = subprocess.run(
        [CHROMIUM, *flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1200,900", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 10_000  # a real page was painted, not a blank one
    return done.stdout


def test_the_report_shows_the_verdict_differences_and_trails(tmp_path: Path) -> None:
    store = tmp_path / "cases.db"
    with CaseRecords(store, SPECS) as records:
        for ref in ("A-1", "B-2"):
            records.open_case(ref, date(2025, 11, 3))
            records.record(
                ref,
                "assessment_completed",
                {
                    "assessed_on": "2025-11-10",
                    "kind": "initial",
                    "depth": "detailed",
                    "assessor_id": "x",
                    "domains_examined": ["health"],
                    "support_needed": ["rtw_planning"],
                },
            )
            records.decide(ref, "tiers")
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
        page.write_text(render_html(records, verify_store(records)), encoding="utf-8")
    dom = _rendered_by_chromium(page, tmp_path)
    text = _Text()
    text.feed(dom)
    assert "NOT verified" in text.by_id["verdict"]
    assert "Chain broken in case A-1 at event 2" in text.by_id["differences"]
    assert "tiers" in text.by_id["families"] and text.rows == 2  # header and one family row
    assert "tier-2-targeted-assessment" in dom and "Vocational Case Management tiers of support" in dom
