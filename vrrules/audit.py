"""The auditor's checks: every case's hash chain, every decision replayed, a store digest.

``verify_store`` walks the store case by case, streaming (one case in memory at a time):

* the **chain**: each stored case event after the opening carries a link that commits
  to the previous link and to its own type, version and payload
  (:func:`vrrules.events.domain.link`). Editing, deleting, inserting or reordering a stored
  event breaks the chain there; the report names the case and the first broken event.
* the **decisions**: each recorded decision is replayed from the stored policy release and
  the stored history (:meth:`CaseRecords.replay_decision`).
* the **digest**: one SHA-256 over every case's last version and chain head and every
  policy release's hash. An auditor keeps it (``vrrules audit digest``); checking it later
  catches changes at the end of a case that no later link commits to, and whole cases
  added or removed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from vrrules.events.application import CaseRecords, ReplayResult
from vrrules.events.domain import Case, event_content, link

__all__ = ["AuditReport", "ChainCheck", "check_chain", "store_digest", "verify_store"]


@dataclass(frozen=True)
class ChainCheck:
    """Whether one case's stored events still form an unbroken hash chain."""

    case_ref: str
    events: int
    head: str
    broken_at: int | None = None
    reason: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def check_chain(records: CaseRecords, case_ref: str) -> ChainCheck:
    """Recompute the chain of one case from its stored events."""
    head = ""
    count = 0
    for expected_version, stored in enumerate(records.stored_events(case_ref), start=1):
        count += 1
        if stored.originator_version != expected_version:
            return ChainCheck(
                case_ref,
                count,
                head,
                expected_version,
                f"expected event {expected_version} next, found event {stored.originator_version}",
            )
        try:
            event = records.decode(stored)
        except Exception as error:  # a record edited into something that no longer decodes
            return ChainCheck(
                case_ref, count, head, expected_version, f"the stored event cannot be read: {error}"
            )
        kind = type(event).__name__
        content = event_content(event)
        expected = link(head, kind, expected_version, content)
        if isinstance(event, Case.Opened):
            head = expected
            continue
        recorded = getattr(event, "chain", None)
        if recorded != expected:
            return ChainCheck(
                case_ref,
                count,
                head,
                expected_version,
                f"{kind} does not match its chain link: it was changed, or an event before it was",
            )
        head = expected
    return ChainCheck(case_ref, count, head)


@dataclass
class AuditReport:
    """What ``vrrules audit verify`` found: counts per family, and the details of failures only.

    Only counts and failures are kept, so the report stays small however large the store.
    """

    cases: int = 0
    decisions: int = 0
    counts: dict[str, Counter[str]] = field(default_factory=dict)  # family -> status -> count
    broken: list[ChainCheck] = field(default_factory=list)
    failures: list[ReplayResult] = field(default_factory=list)
    digest: str = ""
    expected_digest: str | None = None

    def add_chain(self, check: ChainCheck) -> None:
        self.cases += 1
        if not check.intact:
            self.broken.append(check)

    def add_replay(self, result: ReplayResult) -> None:
        self.decisions += 1
        self.counts.setdefault(result.family, Counter())[result.status] += 1
        if not result.reproduced:
            self.failures.append(result)

    @property
    def digest_matches(self) -> bool | None:
        return None if self.expected_digest is None else self.expected_digest == self.digest

    @property
    def ok(self) -> bool:
        return not self.broken and not self.failures and self.digest_matches is not False

    def by_family(self) -> dict[str, Counter[str]]:
        return dict(sorted(self.counts.items()))

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "cases": self.cases,
            "decisions": self.decisions,
            "digest": self.digest,
            "digest_matches": self.digest_matches,
            "families": {family: dict(counts) for family, counts in self.by_family().items()},
            "broken_chains": [
                {"case": c.case_ref, "first_broken_event": c.broken_at, "reason": c.reason}
                for c in self.broken
            ],
            "not_reproduced": [
                {
                    "case": r.case_ref,
                    "event": r.case_version,
                    "family": r.family,
                    "version": r.version,
                    "status": r.status,
                    "differences": list(r.differences),
                }
                for r in self.failures
            ],
        }

    def render(self) -> str:
        lines = [f"{'family':<26}{'reproduced':>11}{'differs':>9}{'unreplayable':>14}"]
        for family, counts in self.by_family().items():
            lines.append(
                f"{family:<26}{counts['reproduced']:>11}{counts['differs']:>9}{counts['unreplayable']:>14}"
            )
        lines.append(f"cases {self.cases}, decisions {self.decisions}, broken chains {len(self.broken)}")
        for check in self.broken:
            lines.append(f"  chain broken: case {check.case_ref} at event {check.broken_at}: {check.reason}")
        lines.extend(f"  {result}" for result in self.failures)
        lines.append(f"store digest {self.digest}")
        if self.digest_matches is not None:
            lines.append(
                "digest matches the one kept"
                if self.digest_matches
                else f"DIGEST DIFFERS from the one kept ({self.expected_digest})"
            )
        lines.append("verdict: " + ("intact and reproduced" if self.ok else "NOT verified"))
        return "\n".join(lines)


class _DigestBuilder:
    def __init__(self) -> None:
        self._cases: list[tuple[str, int, str]] = []

    def add(self, check: ChainCheck) -> None:
        self._cases.append((check.case_ref, check.events, check.head))

    def finish(self, releases: list[str]) -> str:
        hasher = hashlib.sha256()
        for ref, events, head in sorted(self._cases):
            hasher.update(f"case|{ref}|{events}|{head}\n".encode())
        for sha in sorted(releases):
            hasher.update(f"release|{sha}\n".encode())
        return hasher.hexdigest()


def store_digest(records: CaseRecords) -> str:
    """The digest of the whole store, to keep apart from it."""
    builder = _DigestBuilder()
    for ref in records.case_refs():
        builder.add(check_chain(records, ref))
    return builder.finish(records.release_hashes())


def verify_store(
    records: CaseRecords,
    expected_digest: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> AuditReport:
    """Check every chain and replay every decision, one case at a time."""
    report = AuditReport(expected_digest=expected_digest)
    builder = _DigestBuilder()
    for case_ref in records.case_refs():
        check = check_chain(records, case_ref)
        report.add_chain(check)
        builder.add(check)
        if check.intact:
            for result in records.replay(case_ref):
                report.add_replay(result)
        if progress is not None:
            progress(case_ref)
    report.digest = builder.finish(records.release_hashes())
    return report


def case_as_of(records: CaseRecords, case_ref: str, day: date) -> tuple[Case | None, list[Any]]:
    """The case as the store knew it at the end of ``day`` and the decisions recorded by then."""
    known = [e for e in records.history(case_ref) if e.timestamp.date() <= day]
    if not known:
        return None, []
    case = records.case(case_ref, version=known[-1].originator_version)
    return case, list(case.decisions)
