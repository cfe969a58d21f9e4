"""A readable HTML report of an audit (verify or what-if): one static file, no server, no script.

An auditor opens it in a browser: the summary first, then what differs, then every case's
trail of decisions with the reasons and the policy clauses they rest on.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from vrrules.audit import AuditReport, ImpactReport
from vrrules.events.application import CaseRecords

__all__ = ["render_html"]

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#1b1b1b}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem}h3{font-size:1rem;margin-bottom:.3rem}
table{border-collapse:collapse;margin:.5rem 0}
td,th{border:1px solid #bbb;padding:.25rem .6rem;text-align:left}
th{background:#eee}.ok{color:#0a6a0a;font-weight:bold}.bad{color:#a00;font-weight:bold}
.rule{margin:.2rem 0 .2rem 1rem}.ref{color:#555;font-size:.9em}code{font-size:.9em}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _digest_note(report: AuditReport) -> str:
    if report.digest_matches is None:
        return "."
    if report.digest_matches:
        return " matches the one kept."
    return f" <span class='bad'>differs</span> from the one kept (<code>{_e(report.expected_digest)}</code>)."


def _summary(report: AuditReport) -> list[str]:
    verdict = (
        '<span class="ok">intact and reproduced</span>'
        if report.ok
        else '<span class="bad">NOT verified</span>'
    )
    rows = [
        f"<tr><td>{_e(family)}</td><td>{c['reproduced']}</td><td>{c['differs']}</td><td>{c['unreplayable']}</td></tr>"
        for family, c in report.by_family().items()
    ]
    out = [
        f"<p id='verdict'>Verdict: {verdict}. Cases: {report.cases}. Decisions: {report.decisions}. "
        f"Broken chains: {len(report.broken)}.</p>",
        "<table id='families'><tr><th>family</th><th>reproduced</th><th>differs</th>"
        "<th>unreplayable</th></tr>",
        *rows,
        "</table>",
        f"<p>Store digest <code>{_e(report.digest)}</code>{_digest_note(report)}</p>",
    ]
    return out


def _differences(report: AuditReport, impact: ImpactReport | None) -> list[str]:
    out = ["<h2>Differences</h2>", "<ul id='differences'>"]
    items = [
        f"<li>Chain broken in case <b>{_e(c.case_ref)}</b> at event {c.broken_at}: {_e(c.reason)}</li>"
        for c in report.broken
    ]
    items += [
        f"<li>Case <b>{_e(r.case_ref)}</b>, event {r.case_version}, {_e(r.family)} {_e(r.version)}: "
        f"{_e(r.status)}<ul>{''.join(f'<li>{_e(d)}</li>' for d in r.differences)}</ul></li>"
        for r in report.failures
    ]
    if impact is not None:
        items += [
            f"<li>What-if: case <b>{_e(c.case_ref)}</b>, event {c.case_version}, {_e(c.family)} "
            f"on {c.as_of}: "
            f"recorded {_e(c.recorded_outcome)} ({_e(', '.join(c.recorded_rules))}) would become "
            f"{_e(c.new_outcome)} ({_e(', '.join(c.new_rules))})</li>"
            for c in impact.changes
        ]
    out += items or ["<li>None.</li>"]
    out.append("</ul>")
    return out


def _trails(records: CaseRecords, case_refs: Iterable[str]) -> list[str]:
    out = ["<h2>Case trails</h2>"]
    for case_ref in case_refs:
        try:
            case = records.case(case_ref)
        except Exception as error:  # a tampered record may no longer decode; say so, go on
            out.append(
                f"<h3 class='case'>Case {_e(case_ref)}</h3><p class='bad'>cannot be read: {_e(error)}</p>"
            )
            continue
        out.append(f"<h3 class='case'>Case {_e(case_ref)} ({case.version} events)</h3>")
        for version, record in case.decisions:
            out.append(
                f"<div class='decision'><b>event {version}</b>: {_e(record.family)} {_e(record.version)} "
                f"on {record.as_of}: {_e(record.outcome)}"
            )
            for fired in record.fired:
                ref = fired.get("reference", {})
                source = ", ".join(str(ref[k]) for k in ("document", "section") if k in ref)
                out.append(
                    f"<div class='rule'>{_e(fired['rule_id'])}: {_e(fired['reason'])} "
                    f"<span class='ref'>[{_e(source)}]</span></div>"
                )
            out.append("</div>")
    return out


def render_html(
    records: CaseRecords,
    report: AuditReport,
    impact: ImpactReport | None = None,
    title: str = "vrrules audit report",
    trails: bool = True,
) -> str:
    """The whole report as one HTML document."""
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!doctype html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1><p>Made {made}.</p>",
        "<h2>Summary</h2>",
        *_summary(report),
        *_differences(report, impact),
    ]
    if trails:
        parts += _trails(records, records.case_refs())
    parts.append("</body></html>")
    return "\n".join(parts)
