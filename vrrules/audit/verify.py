"""``vrrules audit verify``: every leaf recomputed, every chain checked and every decision
replayed, reading each record once.

The log is read first without the states (:class:`~vrrules.audit.log.StoreLog`: ids,
versions, topics and the leaves the writer stored, a few dozen bytes a record). The case
walks then read each case's records, recompute their leaves and replay their decisions; they
stream (one case in memory at a time) and keep only counts, failures and the leaves that
differ from the stored ones, so the report stays small however large the store. With
``workers`` > 1 the walks are shared out in chunks among that many processes, this one
included: the others, each opening the store for itself, are handed chunks as the log's
rows name the cases, and this one walks the rest once the log is read (:class:`_Walks`);
the report and the digest are the same as with one. The log's check
(:func:`~vrrules.audit.log.verify_log`) then runs over the recomputed leaves. ``--since``
reads only the stored leaves and what came after the checkpoint
(:class:`~vrrules.audit.log.SinceLog`).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult, Pool
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic

from vrrules.audit.chain import ChainCheck, DigestBuilder, publication_leaves, release_hashes, walk_case
from vrrules.audit.checkpoint import Checkpoint, ParsedCheckpoint
from vrrules.audit.log import (
    KeptCheckpoint,
    LogFinding,
    LogReport,
    SinceLog,
    StoreLog,
    kept_files,
    verify_log,
)
from vrrules.audit.replay import Replayer, ReplayResult
from vrrules.errors import ArgumentInvalidError
from vrrules.events.application import CaseRecords
from vrrules.events.domain import Case
from vrrules.events.store import CaseStore, StoreHandle

__all__ = ["AuditReport", "count_decisions", "merge_reports", "verify_store"]


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
    # the digest in the form written before it held the cases' leaves (chain heads only)
    legacy_digest: str = field(default="", repr=False)
    log: LogReport | None = None
    since: int | None = None  # with --since: the checkpoint size after which records were checked
    shard: tuple[int, int] | None = None  # with --shard K/N: this report covers share K of N
    # with a shard: each case's place in opening order and its digest line, for the merge
    case_lines: list[tuple[int, str]] = field(default_factory=list)
    releases: list[str] = field(default_factory=list)
    publications: list[str] = field(default_factory=list)  # with a shard: their leaves, for the digest
    # with a shard: the state of the store it read (the log's size and its logged root), so
    # that shares of different states are never merged into one verdict
    state: dict[str, Any] | None = None
    # False for a sealed store (encrypted, opened without its key): only the log was checked
    replayed: bool = True

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
        if self.expected_digest is None:
            return None
        return self.expected_digest == self.digest or self.kept_digest_is_legacy

    @property
    def kept_digest_is_legacy(self) -> bool:
        """Whether the digest kept is one written before digests held the cases' leaves."""
        return bool(self.legacy_digest) and self.expected_digest == self.legacy_digest

    @property
    def ok(self) -> bool:
        return (
            not self.broken
            and not self.failures
            and self.digest_matches is not False
            and (self.log is None or self.log.ok)
        )

    @property
    def anchored(self) -> bool:
        """Whether the store was checked against a checkpoint kept apart from it."""
        return self.log is not None and bool(self.log.checkpoints)

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
            "log": self.log.as_dict() if self.log is not None else None,
            "since": self.since,
            "replayed": self.replayed,
            **(
                {
                    "shard": f"{self.shard[0]}/{self.shard[1]}",
                    "case_lines": [list(line) for line in self.case_lines],
                    "releases": self.releases,
                    "publications": self.publications,
                    "expected_digest": self.expected_digest,
                    "state": self.state,
                }
                if self.shard is not None
                else {}
            ),
        }

    def render(self) -> str:
        lines = []
        if self.replayed:
            lines.append(f"{'family':<26}{'reproduced':>11}{'differs':>9}{'unreplayable':>14}")
            for family, counts in self.by_family().items():
                lines.append(
                    f"{family:<26}{counts['reproduced']:>11}{counts['differs']:>9}"
                    f"{counts['unreplayable']:>14}"
                )
            lines.append(f"cases {self.cases}, decisions {self.decisions}, broken chains {len(self.broken)}")
        else:
            lines.append("cases not walked, decisions not replayed: the store is encrypted, no key given")
        for check in self.broken:
            lines.append(
                f"  chain broken: case {check.case_ref} at event {check.broken_at}: {check.reason}"
            )
        lines.extend(f"  {result}" for result in self.failures)
        if self.log is not None:
            lines.append(
                f"log: {self.log.size} records, "
                + (f"root {self.log.root[:16]}…, " if self.log.root else "no root vouched for, ")
                + (
                    f"{sum(c['consistent'] for c in self.log.checkpoints)} of {len(self.log.checkpoints)} "
                    "checkpoint(s) extended append-only"
                    if self.log.checkpoints
                    else "no checkpoint given"
                )
                + ("" if self.log.built else " (written before the log: run `vrrules audit migrate`)")
            )
            lines.extend(f"  LOG: {finding}" for finding in self.log.findings)
            lines.extend(f"  note: {note}" for note in self.log.notes)
        if self.since is not None:
            lines.append(f"checked the records after the first {self.since} (--since)")
        if self.digest:
            lines.append(f"store digest {self.digest}")
        if self.digest_matches is not None:
            lines.append(
                (
                    "digest matches the one kept"
                    + (
                        " (a digest of the older form: it commits to the chains' heads only, not "
                        "to the records' bytes; keep this run's digest, or better a checkpoint)"
                        if self.kept_digest_is_legacy
                        else ""
                    )
                )
                if self.digest_matches
                else f"DIGEST DIFFERS from the one kept ({self.expected_digest})"
            )
        if not self.ok:
            verdict = "NOT verified"
        elif not self.replayed:
            verdict = (
                "log intact"
                + (", append-only since every checkpoint given" if self.anchored else " (not anchored)")
                + "; decisions NOT replayed: the store is encrypted and no key was given (give "
                "the key to walk the cases and replay their decisions)"
            )
        elif self.since is not None:
            verdict = (
                f"the records after the first {self.since} intact and reproduced, append-only since "
                "every checkpoint given (the records before were not read again: their stored "
                "leaves prove the log's old part unchanged since the checkpoint, not their bytes; "
                "a full verify re-reads them)"
            )
        elif self.anchored:
            verdict = "intact and reproduced, append-only since every checkpoint given"
        else:
            verdict = (
                "intact and reproduced (not anchored: give --checkpoint to prove nothing was rolled back)"
            )
        lines.append("verdict: " + verdict)
        return "\n".join(lines)


@dataclass
class _CaseOutcome:
    stored_id: UUID
    check: ChainCheck
    counts: dict[str, Counter[str]]
    failures: list[ReplayResult]
    leaves: list[tuple[int, bytes, bytes | None]]  # (position, recomputed, stored) where they differ
    read: int  # how many records reading the case by its id gave


_Job = list[tuple[UUID, int]]  # stored ids, each with the first version whose decisions to replay


def _verify_cases(replayer: Replayer, ids: _Job, upto: int) -> list[_CaseOutcome]:
    """One worker's share: each case's leaves recomputed, its chain checked, its replay
    counts, and its failures only."""
    outcomes = []
    stored = replayer.store.records_of_many((stored_id for stored_id, _ in ids), upto)
    for stored_id, replay_from in ids:
        leaves: list[tuple[int, bytes, bytes | None]] = []
        check, replays = walk_case(
            replayer.store,
            stored_id,
            None,
            replayer,
            replay_from=replay_from,
            upto=upto,
            leaves=leaves,
            stored=(records := stored.pop(stored_id)),
        )
        counts: dict[str, Counter[str]] = {}
        for result in replays:
            counts.setdefault(result.family, Counter())[result.status] += 1
        outcomes.append(
            _CaseOutcome(
                stored_id, check, counts, [r for r in replays if not r.reproduced], leaves, len(records)
            )
        )
    return outcomes


_OPENED = get_topic(Case.Opened)

# one store handle per worker process, kept for all its chunks (releases load once)
_WORKER_REPLAYERS: dict[StoreHandle, Replayer] = {}


def _verify_share(job: tuple[StoreHandle, _Job, int]) -> list[_CaseOutcome]:
    handle, ids, upto = job
    replayer = _WORKER_REPLAYERS.get(handle)
    if replayer is None:
        replayer = _WORKER_REPLAYERS[handle] = Replayer(handle.open())
    return _verify_cases(replayer, ids, upto)


class _Collector:
    """Takes each case's outcome as the walks hand it over, in the store's case order."""

    def __init__(
        self,
        report: AuditReport,
        order: dict[UUID, int],
        shard: tuple[int, int] | None,
        on_case: Callable[[str], None] | None,
        progress: Callable[[str], None] | None,
    ) -> None:
        self.report, self.order, self.shard = report, order, shard
        self.on_case, self.progress = on_case, progress
        self.digest = DigestBuilder()
        self.walked: list[tuple[UUID, int]] = []  # each case walked, with the records read
        self.leaves: list[tuple[int, bytes, bytes | None]] = []

    def take(self, outcome: _CaseOutcome) -> None:
        report = self.report
        self.walked.append((outcome.stored_id, outcome.read))
        self.leaves.extend(outcome.leaves)
        check = outcome.check
        report.add_chain(check)
        self.digest.add(check)
        if self.shard is not None:
            report.case_lines.append((self.order[outcome.stored_id], DigestBuilder.line(check)))
        for family, counts in outcome.counts.items():
            report.counts.setdefault(family, Counter()).update(counts)
            report.decisions += sum(counts.values())
        report.failures.extend(outcome.failures)
        if self.on_case is not None:
            if check.intact:
                counts = sum(outcome.counts.values(), Counter())
                self.on_case(
                    f"{check.case_ref:<24} chain intact   reproduced {counts['reproduced']:>3}  "
                    f"differs {counts['differs']:>3}  unreplayable {counts['unreplayable']:>3}"
                )
            else:
                self.on_case(f"{check.case_ref:<24} chain BROKEN at event {check.broken_at}: {check.reason}")
        if self.progress is not None:
            self.progress(check.case_ref)


def verify_store(
    records: CaseRecords,
    expected_digest: str | None = None,
    progress: Callable[[str], None] | None = None,
    on_case: Callable[[str], None] | None = None,
    *,
    workers: int = 1,
    checkpoints: Sequence[KeptCheckpoint] = (),
    since: KeptCheckpoint | None = None,
    shard: tuple[int, int] | None = None,
) -> AuditReport:
    """Check every chain and replay every decision, reading each case once.

    ``on_case`` receives a line per case (the per-case table, streamed rather than kept).
    With ``workers`` > 1 (for a store on disk or a server: each worker process opens it
    for itself), cases are shared out in chunks among that many processes, this one
    included; the report and the digest are the same as with one.

    The store's Merkle log is checked on its own and against every ``checkpoints`` given
    (:func:`vrrules.audit.log.verify_log`). With ``since`` (a checkpoint kept at an earlier
    audit, with the leaves kept beside it or not), it is checked against that one too, and
    only the records after it are read and the decisions among them replayed (the weekly
    audit, :class:`~vrrules.audit.log.SinceLog`); the digest is then left out.

    With ``shard`` ``(k, n)`` only share ``k`` of ``n`` is verified: the cases (and the other
    aggregates) whose stored id is ``k`` modulo ``n``, with their records' leaves; the
    other leaves are taken as stored, for their own shares to check. Hosts run the shares against one
    store, and :func:`merge_reports` combines their partial reports into the verdict a
    single full run gives.
    """
    if shard is not None and not (
        isinstance(shard[1], int) and shard[1] >= 1 and 0 <= shard[0] < shard[1]
    ):
        raise ArgumentInvalidError(
            f"shard: expected K/N with 0 <= K < N, got {shard!r}", argument="shard"
        )
    store = records.store
    handle = store.handle()
    shareable = handle.location not in (None, "memory", ":memory:")
    with contextlib.ExitStack() as stack:
        # the workers are started first, so that they start up while the log is read here;
        # this process is one of them once the log is read
        pool = (
            stack.enter_context(multiprocessing.get_context("spawn").Pool(workers - 1))
            if workers > 1 and shareable and not store.sealed
            else None
        )
        report = AuditReport(expected_digest=expected_digest, shard=shard)
        # The log is read once without the states (ids, versions, topics, the stored leaves);
        # the case walks read each case's records and recompute their leaves, in the workers,
        # and the log's check then runs on those leaves (anything the walks did not cover is
        # recomputed here before it).
        given, since_files = (since[0], since[1:]) if isinstance(since, tuple) else (since, ())
        base = given.checkpoint if isinstance(given, ParsedCheckpoint) else given
        report.since = base.size if base is not None else None
        sizes = [kept_files(item)[0].size for item in checkpoints]
        order: dict[UUID, int] = {}  # every case's place in opening order (a shard's lines say it)
        collector = _Collector(report, order, shard, on_case, progress)
        walks = _Walks(
            store,
            collector.take,
            pool=pool,
            processes=workers - 1,
            order=order,
            shard=shard,
            walk=not store.sealed,
        )
        # the walks are handed out as the log's rows name the cases, so the workers start on
        # them while the log is still being read here
        log = _read_log(store, base, shard, sizes, walks)
        if store.sealed:  # its events cannot be read: the log alone is checked, every leaf here
            report.replayed = False
        walks.finish()
        if pool is not None:
            pool.close()
        log.recomputed(collector.leaves, collector.walked)
        if shard is not None:  # the other shares recompute the other aggregates' leaves
            log.trust(n for n in list(log.unchecked) if log.ids[n].int % shard[1] != shard[0])
        log.complete()
        report.log = verify_log(
            store, [*checkpoints, *([(base, *since_files)] if base is not None else [])], log=log
        )
        if shard is not None:
            report.state = {"size": log.size, "root": log.logged_hash(log.size).hex()}
        if report.since is None and not store.sealed:  # the digest needs the releases
            releases, publications = release_hashes(store), publication_leaves(store)
            report.digest = collector.digest.finish(releases, publications) if shard is None else ""
            report.legacy_digest = collector.digest.legacy
            if shard is not None:
                report.releases = sorted(releases)
                report.publications = sorted(publications)
        return report


def _read_log(
    store: CaseStore,
    base: Checkpoint | None,
    shard: tuple[int, int] | None,
    sizes: list[int],
    walks: _Walks,
) -> StoreLog:
    """The log's index, read once; the cases to walk (each with the first version whose
    decisions to replay) go to ``walks`` as they are found, with the last position the
    audit reads. The cases come from the index, so the rows are read once for both (a query
    for the openings read every row again)."""
    if base is not None:
        since_log = SinceLog(store, base.size, share=shard, roots_at=sizes)
        walks.start(since_log.last_position)
        for stored_id, first in since_log.cases_to_walk():
            walks.add(stored_id, first)
        return since_log
    # up to the last record or leaf, whichever is later: a record deleted from the end of the
    # log leaves its leaf behind it
    upto = max(store.last_position(), store.last_leaf_position())
    walks.start(upto)
    return StoreLog(
        store,
        recompute=False,
        roots_at=sizes,
        upto=upto,
        announce=(_OPENED, lambda stored_id: walks.add(stored_id, 1)),
    )


class _Walks:
    """The case walks, in chunks of cases: each worker process of the pool is kept a few
    chunks ahead, from the moment the log's rows name the cases, and this process walks the
    rest itself once the log is read (so with two workers, one is this process: the log's
    reading and the hand-over are the only work a single walk does not do). The outcomes
    are taken in the store's case order whoever walked them, so the report and the digest
    are the same however many workers."""

    def __init__(
        self,
        store: CaseStore,
        take: Callable[[_CaseOutcome], None],
        *,
        pool: Pool | None,
        processes: int,
        order: dict[UUID, int],
        shard: tuple[int, int] | None,
        walk: bool,
    ) -> None:
        self._store, self._handle, self._pool, self._take = store, store.handle(), pool, take
        self._order, self._shard, self._walk = order, shard, walk
        self._ahead = _AHEAD * processes
        self._replayer: Replayer | None = None
        self._upto = 0
        self._chunk: _Job = []
        self._waiting: deque[tuple[int, _Job]] = deque()  # chunks not handed out yet
        self._handed: dict[int, AsyncResult[list[_CaseOutcome]]] = {}  # chunks a worker walks
        self._walked: dict[int, list[_CaseOutcome]] = {}  # chunks walked here, not taken yet
        self._chunks = 0  # chunks made so far
        self._next = 0  # the next chunk whose outcomes to take

    def start(self, upto: int) -> None:
        """The last position the walks read (fixed before the first case is added)."""
        self._upto = upto

    def add(self, stored_id: UUID, replay_from: int) -> None:
        if not self._walk:
            return
        self._order[stored_id] = len(self._order)
        if self._shard is not None and stored_id.int % self._shard[1] != self._shard[0]:
            return
        self._chunk.append((stored_id, replay_from))
        if len(self._chunk) == _CHUNK:
            self._queue()

    def finish(self) -> None:
        """Walk what no worker took, then take every outcome in order."""
        if self._chunk:
            self._queue()
        while True:
            self._hand_out()  # the workers first, so that none waits while this process walks
            if not self._waiting:
                break
            number, chunk = self._waiting.popleft()
            self._walked[number] = _verify_cases(self._own_replayer(), chunk, self._upto)
            self._take_ready()
        while self._next < self._chunks:
            self._take_ready(wait=True)

    def _queue(self) -> None:
        self._waiting.append((self._chunks, self._chunk))
        self._chunks += 1
        self._chunk = []
        self._take_ready()
        self._hand_out()

    def _hand_out(self) -> None:
        if self._pool is None:
            return
        busy = sum(1 for result in self._handed.values() if not result.ready())
        while self._waiting and busy < self._ahead:
            number, chunk = self._waiting.popleft()
            self._handed[number] = self._pool.apply_async(_verify_share, ((self._handle, chunk, self._upto),))
            busy += 1

    def _take_ready(self, *, wait: bool = False) -> None:
        while self._next < self._chunks:
            number = self._next
            if number in self._walked:
                outcomes = self._walked.pop(number)
            elif number in self._handed and (wait or self._handed[number].ready()):
                outcomes = self._handed.pop(number).get()
            else:
                return
            for outcome in outcomes:
                self._take(outcome)
            self._next += 1
            wait = False

    def _own_replayer(self) -> Replayer:
        if self._replayer is None:
            self._replayer = Replayer(self._store)
        return self._replayer


def merge_reports(partials: Sequence[dict[str, Any]]) -> AuditReport:
    """One verdict from the partial reports of ``--shard 0/N`` … ``N-1/N``: the report a
    single full run gives (the same counts, findings, failures and digest)."""
    shares = sorted(str(p.get("shard", "")) for p in partials)
    # how many shares the audit was split into, as the partials themselves say (one partial
    # of 0/2 alone is told that 1/2 is missing, not that it should be 0/1)
    said = {share.rpartition("/")[2] for share in shares}
    told = next(iter(said)) if len(said) == 1 else ""
    count = int(told) if told.isascii() and told.isdigit() and len(told) <= 18 else len(partials)
    if count != len(partials) or shares != sorted(f"{k}/{count}" for k in range(count)):
        given = set(shares)
        # the first few missing (a hostile N of billions is not spelled out)
        missing = [
            share
            for share in (f"{k}/{count}" for k in range(min(count, len(partials) + 8)))
            if share not in given
        ][:8]
        raise ArgumentInvalidError(
            f"expected the partial reports of shards 0/{count} to {count - 1}/{count}, each once, "
            f"got {shares[:20]}" + (f" (missing: {', '.join(missing)}…)" if missing else ""),
            argument="reports",
        )
    _refuse_unfit_partials(partials)
    first = partials[0]
    merged = AuditReport(
        expected_digest=first.get("expected_digest"),
        since=first.get("since"),
        replayed=all(p.get("replayed", True) is not False for p in partials),
    )
    lines: list[tuple[int, str]] = []
    broken: list[tuple[int, ChainCheck]] = []
    failures: list[tuple[int, ReplayResult]] = []
    for partial in partials:
        place = {line.split("|", 2)[1]: int(index) for index, line in partial["case_lines"]}
        lines.extend((int(index), str(line)) for index, line in partial["case_lines"])
        merged.cases += int(partial["cases"])
        merged.decisions += int(partial["decisions"])
        for family, counts in partial["families"].items():
            merged.counts.setdefault(family, Counter()).update(counts)
        for item in partial["broken_chains"]:
            check = ChainCheck(item["case"], 0, "", item["first_broken_event"], item["reason"])
            broken.append((place.get(item["case"], -1), check))
        for item in partial["not_reproduced"]:
            result = ReplayResult(
                item["case"],
                item["event"],
                item["family"],
                item["version"],
                item["status"],
                tuple(item["differences"]),
            )
            failures.append((place.get(item["case"], -1), result))
    merged.broken = [check for _, check in sorted(broken, key=lambda b: b[0])]
    merged.failures = [r for _, r in sorted(failures, key=lambda f: (f[0], f[1].case_version))]
    if merged.since is None and merged.replayed:
        digest = DigestBuilder()
        for _, line in sorted(lines):
            digest.add_line(line)
        merged.digest = digest.finish(list(first["releases"]), list(first.get("publications", [])))
        merged.legacy_digest = digest.legacy
    merged.log = _merge_logs([p["log"] for p in partials if p.get("log") is not None])
    return merged


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _refuse_unfit_partials(partials: Sequence[dict[str, Any]]) -> None:
    """Shares merge into one verdict only when each is well formed and all read one state of
    the store with the same checkpoints, digest and ``--since``."""

    def unfit(partial: dict[str, Any], expected: str, got: Any) -> ArgumentInvalidError:
        return ArgumentInvalidError(
            f"partial report {partial.get('shard')!s}: expected {expected}, got {got!r}; give the "
            "files the shards wrote, unedited",
            argument="reports",
        )

    for partial in partials:
        for key in ("cases", "decisions"):
            if not _is_count(partial.get(key)):
                raise unfit(partial, f"{key} as a count (an integer from 0)", partial.get(key))
        families = partial.get("families")
        if not isinstance(families, dict) or not all(
            isinstance(counts, dict) and all(_is_count(n) for n in counts.values())
            for counts in families.values()
        ):
            raise unfit(partial, "families as counts per status", families)
        lines = partial.get("case_lines")
        if not isinstance(lines, list) or not all(
            isinstance(line, list) and len(line) == 2 and _is_count(line[0]) and isinstance(line[1], str)
            for line in lines
        ):
            raise unfit(partial, "case_lines as [place, line] pairs", str(lines)[:80])
        if not isinstance(partial.get("releases"), list) or not all(
            isinstance(r, str) for r in partial["releases"]
        ):
            raise unfit(partial, "releases as a list of hashes", partial.get("releases"))
        if not isinstance(partial.get("publications", []), list) or not all(
            isinstance(p, str) for p in partial.get("publications", [])
        ):
            raise unfit(partial, "publications as a list of leaves", partial.get("publications"))

    def same(key: str, what: str, of: Callable[[dict[str, Any]], Any]) -> None:
        seen = {json.dumps(of(p), sort_keys=True, default=str) for p in partials}
        if len(seen) > 1:
            raise ArgumentInvalidError(
                f"expected the partial reports of one audit, got shares that differ in {what} "
                f"({key}: {' vs '.join(sorted(seen))[:300]}); "
                + (
                    "the store changed between the shares: run every share again against one state of "
                    "the store (no writer in between, or a copy of it)"
                    if key == "state"
                    else "run every share with the same options"
                ),
                argument="reports",
            )

    same("state", "the store they read", lambda p: p.get("state"))
    same("checkpoints", "the checkpoints given", lambda p: [
        (c.get("size"), c.get("root")) for c in (p.get("log") or {}).get("checkpoints", [])
        if isinstance(c, dict)
    ])
    same("expected_digest", "the digest given", lambda p: p.get("expected_digest"))
    same("since", "--since", lambda p: p.get("since"))


def _merge_logs(logs: list[dict[str, Any]]) -> LogReport | None:
    if not logs:
        return None
    best: dict[str, LogFinding] = {}
    for log in logs:
        for item in log["findings"]:
            finding = LogFinding(
                item["problem"], item["leaf_index"], item["position"], item["record"], item["version"]
            )
            known = best.get(finding.problem)
            if known is None or (finding.leaf_index or 0) < (known.leaf_index or 0):
                best[finding.problem] = finding
    findings = sorted(best.values(), key=lambda f: (f.stage, f.leaf_index or 0))
    checkpoints = [
        {**summary, "consistent": all(log["checkpoints"][n]["consistent"] for log in logs)}
        for n, summary in enumerate(logs[0]["checkpoints"])
    ]
    notes = list(dict.fromkeys(str(note) for log in logs for note in log.get("notes", [])))
    return LogReport(
        size=int(logs[0]["size"]),
        root="" if findings else str(logs[0]["root"]),
        built=all(bool(log["built"]) for log in logs),
        checkpoints=checkpoints,
        findings=findings,
        notes=notes,
    )


# cases per job handed to a worker: large enough to amortise the hand-over, small enough that
# the last job does not keep one worker busy long after the other is done
_CHUNK = 100
# jobs each worker process holds at a time: enough that it never waits while this process
# walks a chunk of its own
_AHEAD = 3


def count_decisions(records: CaseRecords) -> int:
    """How many decisions the store holds (for progress bars), reading ids only."""
    return records.store.count(get_topic(Case.DecisionRecorded))
