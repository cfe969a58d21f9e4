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

import base64
import hashlib
import json
import multiprocessing
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from vrrules.errors import VrrulesError
from vrrules.events.application import CaseRecords, ReplayResult
from vrrules.events.domain import Case, event_content, link

__all__ = [
    "AuditReport",
    "ChainCheck",
    "Change",
    "ImpactReport",
    "case_as_of",
    "check_chain",
    "export_bundle",
    "impact",
    "store_digest",
    "verify_bundle",
    "verify_store",
]


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


def check_chain(records: CaseRecords, case_ref: str, stored_id: UUID | None = None) -> ChainCheck:
    """Recompute the chain of one case from its stored events."""
    return _walk_case(records, stored_id or case_ref, case_ref, replay=False)[0]


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
            "not_reproduced": [r.as_dict() for r in self.failures],
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
    """Hashes cases as they stream past, in the store's own (opening) order."""

    def __init__(self) -> None:
        self._hasher = hashlib.sha256()

    def add(self, check: ChainCheck) -> None:
        self._hasher.update(f"case|{check.case_ref}|{check.events}|{check.head}\n".encode())

    def finish(self, releases: list[str]) -> str:
        for sha in sorted(releases):
            self._hasher.update(f"release|{sha}\n".encode())
        return self._hasher.hexdigest()


def _label(stored_id: UUID, case_ref: str | None) -> str:
    return case_ref if case_ref is not None else f"<unreadable case {stored_id}>"


def store_digest(records: CaseRecords) -> str:
    """The digest of the whole store, to keep apart from it."""
    builder = _DigestBuilder()
    for stored_id, case_ref in records.case_index():
        builder.add(check_chain(records, _label(stored_id, case_ref), stored_id))
    return builder.finish(records.release_hashes())


def _walk_case(
    records: CaseRecords, stored: str | UUID, label: str | None, *, replay: bool
) -> tuple[ChainCheck, list[ReplayResult]]:
    """Check one case's chain (and with ``replay``, replay its decisions), decoding each
    event once; ``label`` names the case, else its opening does.

    To replay, the case is rebuilt event by event as the chain is checked, so each decision
    is replayed against the case exactly as it stood when it was made, without reading it again.
    """
    head = ""
    name = label if label is not None else _label(stored, None) if isinstance(stored, UUID) else stored
    case: Case | None = None
    replays: list[ReplayResult] = []

    def broken(count: int, version: int, reason: str) -> tuple[ChainCheck, list[ReplayResult]]:
        return ChainCheck(name, count, head, version, reason), []

    count = 0
    for expected_version, event_record in enumerate(records.stored_events(stored), start=1):
        count += 1
        if event_record.originator_version != expected_version:
            return broken(
                count,
                expected_version,
                f"expected event {expected_version} next, found event {event_record.originator_version}",
            )
        try:
            event = records.decode(event_record)
        except Exception as error:  # a record edited into something that no longer decodes
            return broken(count, expected_version, f"the stored event cannot be read: {error}")
        kind = type(event).__name__
        expected = link(head, kind, expected_version, event_content(event))
        if isinstance(event, Case.Opened) != (expected_version == 1):
            return broken(count, expected_version, f"{kind} out of place in the case")
        if getattr(event, "chain", None) != expected:
            return broken(
                count,
                expected_version,
                f"{kind} does not match its chain link: it was changed, or an event before it was",
            )
        if replay:
            if isinstance(event, Case.DecisionRecorded) and case is not None:
                try:
                    replays.append(records.replay_decision(case, expected_version, event.decision, then=case))
                except Exception as error:  # a record that decodes but no longer makes sense
                    return broken(count, expected_version, f"cannot replay: {error}")
            case = event.mutate(case)
            if expected_version == 1 and label is None and isinstance(case, Case):
                name = case.case_ref
        head = expected
    return ChainCheck(name, count, head), replays


@dataclass
class _CaseOutcome:
    check: ChainCheck
    counts: dict[str, Counter[str]]
    failures: list[ReplayResult]


def _verify_cases(
    settings: tuple[str | None, str | None], ids: list[UUID], records: CaseRecords | None = None
) -> list[_CaseOutcome]:
    """One worker's share: each case's chain check, its replay counts and its failures only."""
    if records is None:
        # one handle per worker process, kept for all its chunks (releases compile once)
        records = _WORKER_RECORDS.get(settings)
        if records is None:
            location, key = settings
            records = _WORKER_RECORDS[settings] = CaseRecords(location, encryption_key=key)
    outcomes = []
    for stored_id in ids:
        check, replays = _walk_case(records, stored_id, None, replay=True)
        counts: dict[str, Counter[str]] = {}
        for result in replays:
            counts.setdefault(result.family, Counter())[result.status] += 1
        outcomes.append(_CaseOutcome(check, counts, [r for r in replays if not r.reproduced]))
    return outcomes


_WORKER_RECORDS: dict[tuple[str | None, str | None], CaseRecords] = {}


def _verify_share(job: tuple[tuple[str | None, str | None], list[UUID]]) -> list[_CaseOutcome]:
    return _verify_cases(*job)


def verify_store(
    records: CaseRecords,
    expected_digest: str | None = None,
    progress: Callable[[str], None] | None = None,
    on_case: Callable[[str], None] | None = None,
    *,
    workers: int = 1,
) -> AuditReport:
    """Check every chain and replay every decision, reading each case once.

    ``on_case`` receives a line per case (the per-case table, streamed rather than kept).
    With ``workers`` > 1 (for a store on disk or a server: each worker process opens it
    for itself), cases are shared out in chunks among that many processes; the report and
    the digest are the same as with one.
    """
    report = AuditReport(expected_digest=expected_digest)
    builder = _DigestBuilder()

    def take(outcome: _CaseOutcome) -> None:
        check = outcome.check
        report.add_chain(check)
        builder.add(check)
        for family, counts in outcome.counts.items():
            report.counts.setdefault(family, Counter()).update(counts)
            report.decisions += sum(counts.values())
        report.failures.extend(outcome.failures)
        if on_case is not None:
            if check.intact:
                counts = sum(outcome.counts.values(), Counter())
                on_case(
                    f"{check.case_ref:<24} chain intact   reproduced {counts['reproduced']:>3}  "
                    f"differs {counts['differs']:>3}  unreplayable {counts['unreplayable']:>3}"
                )
            else:
                on_case(f"{check.case_ref:<24} chain BROKEN at event {check.broken_at}: {check.reason}")
        if progress is not None:
            progress(check.case_ref)

    settings = records.worker_settings()
    shareable = settings[0] not in (None, "memory", ":memory:")
    if workers <= 1 or not shareable:
        for chunk in records.case_id_chunks(_CHUNK):
            for outcome in _verify_cases(settings, chunk, records):
                take(outcome)
    else:
        context = multiprocessing.get_context("spawn")
        with context.Pool(workers) as pool:
            # The ids are read while the workers already verify the first chunks; imap keeps
            # the store's case order, so the digest is the one a single worker makes.
            jobs = ((settings, chunk) for chunk in records.case_id_chunks(_CHUNK))
            for outcomes in pool.imap(_verify_share, jobs):
                for outcome in outcomes:
                    take(outcome)
    report.digest = builder.finish(records.release_hashes())
    return report


# cases per job handed to a worker: large enough to amortise the hand-over, small enough to share
_CHUNK = 500


def case_as_of(records: CaseRecords, case_ref: str, day: date) -> tuple[Case | None, list[Any]]:
    """The case as the store knew it at the end of ``day`` and the decisions recorded by then."""
    known = [e for e in records.history(case_ref) if e.timestamp.date() <= day]
    if not known:
        return None, []
    case = records.case(case_ref, version=known[-1].originator_version)
    return case, list(case.decisions)


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
            lines.append(
                f"  {change.case_ref}@{change.case_version} {change.family} on {change.as_of}: "
                f"{change.recorded_outcome} ({', '.join(change.recorded_rules) or 'no rule'}) -> "
                f"{change.new_outcome} ({', '.join(change.new_rules) or 'no rule'})"
            )
        lines.extend(f"  not decidable: {reason}" for reason in self.not_decidable)
        return "\n".join(lines)


def impact(
    records: CaseRecords,
    policies: Any = None,
    *,
    current_facts: bool = False,
    families: set[str] | None = None,
) -> ImpactReport:
    """Re-decide every recorded decision without writing anything, and list what changes.

    ``policies`` is another spec library (a draft); ``current_facts`` re-reads the facts
    from the case as it stands now (after corrections) instead of as it stood then.
    """
    report = ImpactReport()
    for case_ref in records.case_refs():
        for version, record in records.case(case_ref).decisions:
            if families is not None and record.family not in families:
                continue
            counts = report.counts.setdefault(record.family, Counter())
            try:
                then = None if current_facts else record.case_version_read
                decision = records.redecide(case_ref, record, policies, version=then)
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


BUNDLE_FORMAT = "vrrules-audit-bundle/1"


def _stored_as_data(stored: Any) -> dict[str, Any]:
    return {
        "originator_id": str(stored.originator_id),
        "originator_version": stored.originator_version,
        "topic": stored.topic,
        "state": base64.b64encode(stored.state).decode("ascii"),
    }


def export_bundle(records: CaseRecords, case_refs: list[str]) -> bytes:
    """A self-contained file of some cases: their stored events exactly as stored, the policy
    releases their decisions used, and each case's chain head, so that it can be checked on
    a machine with no access to the store."""
    cases = []
    releases: set[str] = set()
    for case_ref in case_refs:
        check = check_chain(records, case_ref)
        cases.append(
            {
                "case_ref": case_ref,
                "events": [_stored_as_data(s) for s in records.stored_events(case_ref)],
                "chain_head": check.head,
                "chain_intact": check.intact,
            }
        )
        releases.update(record.spec_sha256 for _, record in records.case(case_ref).decisions)
    release_records = [
        _stored_as_data(stored) for sha in sorted(releases) for stored in records.stored_release(sha)
    ]
    body = json.dumps(
        {"format": BUNDLE_FORMAT, "cases": cases, "releases": release_records}, sort_keys=True, indent=1
    ).encode()
    # The first line commits to every byte after it, so changing any byte of the file shows.
    return f"{BUNDLE_FORMAT} sha256={hashlib.sha256(body).hexdigest()}\n".encode() + body


def verify_bundle(raw: bytes) -> tuple[AuditReport, list[str]]:
    """Check a bundle on its own: its digest, every chain, every decision replayed."""
    problems: list[str] = []
    head, _, body = raw.partition(b"\n")
    expected_head = f"{BUNDLE_FORMAT} sha256=".encode()
    if not head.startswith(expected_head):
        problems.append(f"expected a file starting '{BUNDLE_FORMAT} sha256=', got {head[:60]!r}")
        return AuditReport(), problems
    if head[len(expected_head) :].decode("ascii", "replace") != hashlib.sha256(body).hexdigest():
        problems.append("the bundle's digest does not match its content: it was changed after export")
    try:
        data = json.loads(body)
        assert data.get("format") == BUNDLE_FORMAT
    except (ValueError, AssertionError, AttributeError):
        problems.append("expected the bundle's body to be the JSON written by 'vrrules audit bundle'")
        return AuditReport(), problems
    try:
        stored = [
            StoredEvent(
                originator_id=UUID(item["originator_id"]),
                originator_version=int(item["originator_version"]),
                topic=str(item["topic"]),
                state=base64.b64decode(item["state"], validate=True),
            )
            for item in [*data["releases"], *(e for case in data["cases"] for e in case["events"])]
        ]
    except (KeyError, TypeError, ValueError) as error:
        problems.append(f"expected the bundle's records as exported, got a malformed record: {error}")
        return AuditReport(), problems
    with CaseRecords(store="memory") as records:
        try:
            records.import_stored(stored)
        except Exception as error:  # e.g. two records claiming the same place in a case
            problems.append(f"the bundle's records do not fit together: {error}")
            return AuditReport(), problems
        try:
            report = verify_store(records)
        except Exception as error:  # whatever a damaged record breaks, it is a finding, not a crash
            problems.append(f"the bundle's records cannot be read: {error}")
            return AuditReport(), problems
        for case in data["cases"]:
            reference = case.get("case_ref") if isinstance(case, dict) else None
            if not isinstance(reference, str):
                problems.append(f"expected each exported case to name its reference, got {str(case)[:80]}")
                continue
            if check_chain(records, reference).head != case.get("chain_head"):
                problems.append(f"case {reference}: its chain head differs from the one exported")
    return report, problems
