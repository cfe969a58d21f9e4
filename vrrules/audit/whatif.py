"""What-if: re-decide the recorded history, write nothing, and list what would change.

With another spec library (a draft) it shows what a policy change would do to past cases;
with ``current_facts`` it re-reads each case as it stands now, after corrections.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from vrrules.audit.replay import redecide_recorded
from vrrules.errors import VrrulesError
from vrrules.events.application import CaseRecords
from vrrules.policies.wording import outcome_text

__all__ = ["Change", "ImpactReport", "impact"]


@dataclass(frozen=True)
class Change:
    """A recorded decision that would come out differently."""

    case_ref: str
    case_version: int
    family: str
    as_of: date
    recorded_outcome: Any
    new_outcome: Any
    recorded_rules: tuple[str, ...]
    new_rules: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case_ref,
            "event": self.case_version,
            "family": self.family,
            "as_of": self.as_of.isoformat(),
            "recorded": {"outcome": self.recorded_outcome, "rules": list(self.recorded_rules)},
            "now": {"outcome": self.new_outcome, "rules": list(self.new_rules)},
        }


@dataclass
class ImpactReport:
    """What re-deciding the recorded history would change; counts per family."""

    changes: list[Change] = field(default_factory=list)
    counts: dict[str, Counter[str]] = field(default_factory=dict)  # family -> same/changed/not_decidable
    not_decidable: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "families": {f: dict(c) for f, c in sorted(self.counts.items())},
            "changes": [c.as_dict() for c in self.changes],
            "not_decidable": self.not_decidable,
        }

    def render(self) -> str:
        lines = [f"{'family':<26}{'same':>8}{'changed':>9}{'not decidable':>15}"]
        for family, counts in sorted(self.counts.items()):
            lines.append(
                f"{family:<26}{counts['same']:>8}{counts['changed']:>9}{counts['not_decidable']:>15}"
            )
        for change in self.changes:
            lines += [
                f"  {change.case_ref}@{change.case_version} {change.family} on {change.as_of}:",
                f"    recorded: {outcome_text(change.recorded_outcome)} "
                f"({', '.join(change.recorded_rules) or 'no rule'})",
                f"    now:      {outcome_text(change.new_outcome)} "
                f"({', '.join(change.new_rules) or 'no rule'})",
            ]
        lines.extend(f"  not decidable: {reason}" for reason in self.not_decidable)
        return "\n".join(lines)


def impact(
    records: CaseRecords,
    policies: Any = None,
    *,
    current_facts: bool = False,
    families: set[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> ImpactReport:
    """Re-decide every recorded decision without writing anything, and list what changes.

    ``policies`` is another spec library (a draft); ``current_facts`` re-reads the facts
    from the case as it stands now (after corrections) instead of as it stood then.
    ``progress`` is called with each case's reference once its decisions are done.
    """
    report = ImpactReport()
    for case_ref in records.case_refs():
        if progress is not None:
            progress(case_ref)
        for version, record in records.case(case_ref).decisions:
            if families is not None and record.family not in families:
                continue
            counts = report.counts.setdefault(record.family, Counter())
            try:
                then = None if current_facts else record.case_version_read
                decision = redecide_recorded(records, case_ref, record, policies, version=then)
            except VrrulesError as error:
                counts["not_decidable"] += 1
                report.not_decidable.append(
                    f"{case_ref}@{version} {record.family}: [{error.code}] {error.message}"
                )
                continue
            recorded_rules = tuple(f["rule_id"] for f in record.fired)
            if decision.outcome == record.outcome and decision.fired_rule_ids == recorded_rules:
                counts["same"] += 1
                continue
            counts["changed"] += 1
            report.changes.append(
                Change(
                    case_ref,
                    version,
                    record.family,
                    record.as_of,
                    record.outcome,
                    decision.outcome,
                    recorded_rules,
                    decision.fired_rule_ids,
                )
            )
    return report
