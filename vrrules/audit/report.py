"""A readable HTML report of an audit (verify or what-if): one static file, no server, no script.

An auditor opens it in a browser: the verdict first, then every finding it rests on, then
every case's trail of decisions with the outcome in words, the reasons and the policy
clauses they rest on. The page is the jinja2 template ``vrrules/templates/report.html.j2``
(autoescaped: stored text is shown as written, never interpreted).

The verdict is computed from the same lists the page shows beneath it, so the two cannot
disagree: a store with any finding (a broken chain, a decision not reproduced, a log
finding, a digest that differs) is "NOT verified"; a what-if page leads with how many
decisions would change and keeps the store's own check apart, under its own heading.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vrrules._pages import render
from vrrules.audit import AuditReport, ImpactReport
from vrrules.events.application import CaseRecords
from vrrules.policies.wording import outcome_text

__all__ = ["render_html", "store_findings", "store_verdict"]


def store_findings(report: AuditReport) -> list[str]:
    """Every finding of a verify, one sentence each: the list the verdict rests on."""
    found = [
        f"Chain broken in case {c.case_ref} at event {c.broken_at}: {c.reason}" for c in report.broken
    ]
    found += [
        f"Case {r.case_ref}, event {r.case_version}, {r.family} {r.version}: {r.status.replace('_', ' ')}"
        + (f" ({'; '.join(r.differences)})" if r.differences else "")
        for r in report.failures
    ]
    if report.log is not None:
        found += [f"Log: {finding}" for finding in report.log.findings]
    if report.digest_matches is False:
        found.append(f"Store digest {report.digest} differs from the one kept ({report.expected_digest})")
    return found


def store_verdict(report: AuditReport) -> tuple[bool, str]:
    """(verified, the verdict in words), from the findings :func:`store_findings` lists."""
    findings = store_findings(report)
    if findings or not report.ok:
        count = len(findings)
        return False, f"NOT verified: {count} finding{'s' if count != 1 else ''}"
    if report.anchored:
        return True, (
            "verified: every chain intact, every decision reproduced, append-only since every checkpoint"
        )
    return True, (
        "verified: every chain intact, every decision reproduced (not anchored: give a checkpoint "
        "kept apart to prove nothing was rolled back)"
    )


@dataclass
class _Rule:
    rule_id: str
    reason: str
    source: str


@dataclass
class _Decision:
    event: int
    family: str
    version: str
    as_of: str
    outcome: str
    rules: list[_Rule] = field(default_factory=list)


@dataclass
class _Trail:
    case_ref: str
    events: int | None = None
    problem: str | None = None
    decisions: list[_Decision] = field(default_factory=list)


def _source(reference: Any) -> str:
    if not isinstance(reference, dict):
        return ""
    return ", ".join(str(reference[k]) for k in ("document", "section") if reference.get(k))


def _trails(records: CaseRecords, case_refs: Iterable[str]) -> list[_Trail]:
    trails = []
    for case_ref in case_refs:
        try:
            case = records.case(case_ref)
        except Exception as error:  # a tampered record may no longer decode; say so, go on
            trails.append(_Trail(case_ref, problem=f"cannot be read: {error}"))
            continue
        trail = _Trail(case_ref, events=case.version)
        for version, record in case.decisions:
            trail.decisions.append(
                _Decision(
                    version,
                    record.family,
                    record.version,
                    record.as_of.isoformat(),
                    "no rule applied" if record.status == "no_rule_applied" and not record.outcome
                    else outcome_text(record.outcome),
                    [
                        _Rule(str(f.get("rule_id")), str(f.get("reason", "")), _source(f.get("reference")))
                        for f in record.fired
                    ],
                )
            )
        trails.append(trail)
    return trails


def _changes(impact: ImpactReport) -> list[dict[str, str]]:
    return [
        {
            "where": f"Case {c.case_ref}, event {c.case_version}, {c.family} on {c.as_of.isoformat()}",
            "recorded": outcome_text(c.recorded_outcome),
            "recorded_rules": ", ".join(c.recorded_rules) or "no rule",
            "now": outcome_text(c.new_outcome),
            "now_rules": ", ".join(c.new_rules) or "no rule",
        }
        for c in impact.changes
    ]


def _impact_verdict(impact: ImpactReport) -> tuple[bool, str]:
    changed = len(impact.changes)
    total = sum(sum(c.values()) for c in impact.counts.values())
    undecidable = len(impact.not_decidable)
    if not changed and not undecidable:
        return True, f"no change: all {total} recorded decisions come out the same"
    words = [f"{changed} of {total} recorded decisions would come out differently"]
    if undecidable:
        words.append(f"{undecidable} could not be decided")
    return False, "; ".join(words)


def render_html(
    records: CaseRecords,
    report: AuditReport,
    impact: ImpactReport | None = None,
    title: str = "vrrules audit report",
    trails: bool = True,
) -> str:
    """The whole report as one HTML document: a verify report, or with ``impact`` a what-if
    report (the changes first, the store's own check beneath under its own heading)."""
    verified, verdict = store_verdict(report)
    families = [
        {
            "family": family,
            "reproduced": counts["reproduced"],
            "differs": counts["differs"],
            "unreplayable": counts["unreplayable"],
        }
        for family, counts in report.by_family().items()
    ]
    context: dict[str, Any] = {
        "title": title,
        "made": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "store": {
            "verified": verified,
            "verdict": verdict,
            "findings": store_findings(report),
            "cases": report.cases,
            "decisions": report.decisions,
            "broken": len(report.broken),
            "digest": report.digest,
            "digest_matches": report.digest_matches,
            "since": report.since,
            "log": report.log,
            "families": families,
        },
        "impact": None,
        "trails": _trails(records, records.case_refs()) if trails else None,
    }
    if impact is not None:
        same, impact_verdict = _impact_verdict(impact)
        context["impact"] = {
            "same": same,
            "verdict": impact_verdict,
            "changes": _changes(impact),
            "not_decidable": list(impact.not_decidable),
            "families": [
                {
                    "family": family,
                    "same": counts["same"],
                    "changed": counts["changed"],
                    "not_decidable": counts["not_decidable"],
                }
                for family, counts in sorted(impact.counts.items())
            ],
        }
    return render("report.html.j2", **context)
