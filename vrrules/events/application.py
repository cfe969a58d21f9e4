"""The application: record what happens on a case, decide, and replay decisions.

:class:`CaseRecords` is the one object a case system or an auditor holds. It hides
eventsourcing's machinery (application, repository, recorder) behind the verbs of the
domain, validates every payload before anything is stored, and makes decisions only with
the policy version in force on the decision's effective date.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder
from eventsourcing.persistence import InternalError as PersistenceInternalError
from eventsourcing.persistence import OperationalError as PersistenceOperationalError
from eventsourcing.utils import get_topic
from pydantic import ValidationError

from vrrules.errors import (
    CaseConflictError,
    CaseExistsError,
    CaseUnknownError,
    EventInvalidError,
    FactsInvalidError,
    ReleaseUnknownError,
    SpecInvalidError,
    StoreKeyError,
    VersionAlreadyPublishedError,
    VrrulesError,
)
from vrrules.events.caseview import CASE_SOURCES, case_view
from vrrules.events.domain import (
    Case,
    PolicyRelease,
    VersionPublication,
    case_id,
    publication_id,
    release_id,
)
from vrrules.events.payloads import (
    AssessmentFindings,
    CaseOpening,
    CorrespondenceAnswered,
    CorrespondenceSent,
    DecisionRecord,
    EmployerCommitment,
    InterventionPlan,
    OptionElection,
    Payload,
    PlanApproval,
    PlanDevelopmentStart,
    PlanExtensionRequest,
    PlanImplementationStart,
    PlanSubmission,
    PractitionerAssignment,
    Referral,
    WorkerContact,
    WorkStatusChange,
)
from vrrules.events.persistence import cipher_settings, register_transcodings, store_environment
from vrrules.policies.compiler import CompiledFamily, SpecSource, compile_or_raise
from vrrules.policies.decision import Decision
from vrrules.policies.derive import derived_names
from vrrules.policies.engine import ENGINE_NAME
from vrrules.policies.library import PolicyLibrary

__all__ = ["EVENT_TYPES", "CaseRecords", "RecordedDecision", "ReplayResult"]

# The event types a case system records, by the name used in imports and the CLI.
EVENT_TYPES: dict[str, tuple[type[Payload], str]] = {
    "referral_received": (Referral, "receive_referral"),
    "work_status_changed": (WorkStatusChange, "change_work_status"),
    "practitioner_assigned": (PractitionerAssignment, "assign_practitioner"),
    "assessment_completed": (AssessmentFindings, "complete_assessment"),
    "intervention_planned": (InterventionPlan, "plan_intervention"),
    "correspondence_sent": (CorrespondenceSent, "send_correspondence"),
    "correspondence_answered": (CorrespondenceAnswered, "answer_correspondence"),
    "employer_commitment_recorded": (EmployerCommitment, "record_employer_commitment"),
    "plan_development_started": (PlanDevelopmentStart, "start_plan_development"),
    "plan_extension_requested": (PlanExtensionRequest, "request_plan_extension"),
    "plan_submitted": (PlanSubmission, "submit_plan"),
    "plan_approved": (PlanApproval, "approve_plan"),
    "plan_implementation_started": (PlanImplementationStart, "start_plan_implementation"),
    "option_elected": (OptionElection, "elect_option"),
    "worker_contacted": (WorkerContact, "contact_worker"),
}

_REPLAY_MEMO_SIZE = 20_000
_SAVE_ATTEMPTS = 5
_OPEN_ATTEMPTS = 5
_T = TypeVar("_T")


class _CaseLog(Application[UUID]):
    name = "VrrulesCases"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)


@dataclass(frozen=True)
class RecordedDecision:
    """A decision and where it stands in the case's log."""

    case_ref: str
    case_version: int
    decision: Decision
    previous_outcome: dict[str, Any] | None

    @property
    def changed(self) -> bool:
        return self.previous_outcome is not None and self.previous_outcome != self.decision.outcome

    def explain(self) -> str:
        text = f"case {self.case_ref} (event {self.case_version}): {self.decision.explain()}"
        if self.changed:
            text += f"\n  changed from {self.previous_outcome}"
        return text


@dataclass(frozen=True)
class ReplayResult:
    """The verdict of re-deciding one recorded decision from the stored history and policy."""

    case_ref: str
    case_version: int
    family: str
    version: str
    status: Literal["reproduced", "differs", "unreplayable"]
    differences: tuple[str, ...] = field(default=())

    @property
    def reproduced(self) -> bool:
        return self.status == "reproduced"

    def as_dict(self) -> dict[str, Any]:
        return {
            "case": self.case_ref,
            "event": self.case_version,
            "family": self.family,
            "version": self.version,
            "status": self.status,
            "differences": list(self.differences),
        }

    def __str__(self) -> str:
        head = f"{self.case_ref}@{self.case_version} {self.family} {self.version}: {self.status}"
        return "\n".join([head, *(f"  - {d}" for d in self.differences)])


def _is_json(data: bytes) -> bool:
    try:
        json.loads(data)
    except ValueError:
        return False
    return True


def _expected_got(item: Any) -> str:
    """One pydantic error in the expected-versus-got form every vrrules message uses."""
    kind, message = item["type"], item["msg"]
    got = repr(item.get("input"))
    if len(got) > 80:
        got = got[:77] + "..."
    if kind == "missing":
        return "expected a value, got nothing"
    if kind == "extra_forbidden":
        return "expected only the fields this event has, got this unknown one"
    if message.startswith("Input should be "):
        return f"expected {message.removeprefix('Input should be ')}, got {got}"
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
    if message.startswith("expected"):
        return message if " got " in message else f"{message}; got {got}"
    return f"expected a valid value ({message}), got {got}"


def _event_error(case_ref: str, event_type: str, error: ValidationError) -> EventInvalidError:
    problems = []
    for item in error.errors(include_url=False):
        where = ".".join(str(p) for p in item["loc"]) or "(payload)"
        problems.append(f"{where}: {_expected_got(item)}")
    return EventInvalidError(
        f"case {case_ref!r}, event {event_type!r}: the payload was refused and nothing was stored:\n  "
        + "\n  ".join(problems),
        case_ref=case_ref,
        event_type=event_type,
        problems=problems,
    )


def _check_fits_history(case: Case, event_type: str, payload: Payload) -> None:
    """Refuse an event that contradicts what the case already records."""
    problem: str | None = None
    if isinstance(payload, CorrespondenceAnswered):
        sent = case.correspondence.get(payload.correspondence_id)
        if sent is None:
            problem = (
                f"expected the id of correspondence sent on this case "
                f"({sorted(case.correspondence) or 'none sent yet'}), got {payload.correspondence_id!r}"
            )
        elif payload.correspondence_id in case.answers:
            problem = f"correspondence {payload.correspondence_id!r} was already answered"
        elif payload.answered_on < sent.sent_on:
            problem = (
                f"expected an answer on or after {sent.sent_on.isoformat()} (when it was sent), "
                f"got {payload.answered_on.isoformat()}"
            )
    elif isinstance(payload, CorrespondenceSent) and payload.correspondence_id in case.correspondence:
        problem = f"correspondence id {payload.correspondence_id!r} is already used on this case"
    if problem is not None:
        raise EventInvalidError(
            f"case {case.case_ref!r}, event {event_type!r}: {problem}; nothing was stored",
            case_ref=case.case_ref,
            event_type=event_type,
        )


class CaseRecords:
    """Record case events, decide with the policy in force, replay what was decided.

    ``store`` is ``"memory"``, a SQLite file path (the default ``vrrules.db``), or a
    ``postgresql://`` URL. ``specs`` is a folder of spec files or a loaded
    :class:`PolicyLibrary`.
    """

    def __init__(
        self,
        store: str | Path | None = None,
        specs: str | Path | PolicyLibrary | None = None,
        *,
        published_only: bool = False,
        encryption_key: str | None = None,
    ) -> None:
        self._specs = specs
        self._published_only = published_only
        self._published_cache: tuple[list[str], PolicyLibrary] | None = None
        self._policies: PolicyLibrary | None = specs if isinstance(specs, PolicyLibrary) else None
        self.location = str(store) if store is not None else None
        self._encryption_key = encryption_key
        env = store_environment(store)
        # Cached cases are fast-forwarded with the events other writers appended since, and
        # handed out as copies, so a failed change never touches the cached one.
        env["AGGREGATE_CACHE_MAXSIZE"] = "2000"
        if encryption_key is not None:
            env.update(cipher_settings(encryption_key))
        self._log = self._open_log(env)
        self._check_key()
        self._known_releases: set[str] = set()
        self._release_cache: dict[str, CompiledFamily] = {}
        self._writing = threading.RLock()  # one change at a time on the cached cases
        self.conflicts_retried = 0  # appends another writer beat, worked out again
        self._replay_memo: dict[tuple[str, int, str], Decision] = {}

    @staticmethod
    def _open_log(env: dict[str, str]) -> _CaseLog:
        # Processes opening a new PostgreSQL store at the same moment race to create its
        # tables, and PostgreSQL refuses the loser ("tuple concurrently updated"): try again.
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                return _CaseLog(env=env)
            except (PersistenceInternalError, PersistenceOperationalError):
                if attempt == _OPEN_ATTEMPTS - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def worker_settings(self) -> tuple[str | None, str | None]:
        """What another process needs to open this store: its location and its key."""
        return self.location, self._encryption_key

    def _check_key(self) -> None:
        """Refuse at once a store whose events the key given (or its absence) cannot read."""
        sample = self._log.recorder.select_notifications(start=1, limit=3)
        if not sample:
            return
        readable = 0
        for stored in sample:
            with contextlib.suppress(Exception):
                self._log.mapper.to_domain_event(stored)
                readable += 1
        if readable:
            return  # a damaged record among readable ones is the audit's business
        looks_plain = all(_is_json(bytes(s.state)) for s in sample)
        if self._encryption_key is None and not looks_plain:
            raise StoreKeyError(
                "expected a store this process can read, got encrypted events and no key; "
                "give the store's key (encryption_key=, or VRRULES_STORE_KEY for the command line)"
            )
        if self._encryption_key is not None:
            raise StoreKeyError(
                "expected the key this store was encrypted with, got one that decrypts none of its "
                "first events"
                + (" (the store is not encrypted: open it without a key)" if looks_plain else "")
            )

    @property
    def policies(self) -> PolicyLibrary:
        """The spec library decisions use, loaded on first use (replay needs only stored releases).

        With ``published_only`` it holds exactly the versions published in this store.
        """
        if self._published_only:
            return self.published_policies()
        if self._policies is None:
            location = None if isinstance(self._specs, PolicyLibrary) else self._specs
            self._policies = PolicyLibrary(location, case_sources=CASE_SOURCES)
        return self._policies

    # ------------------------------------------------------------------------ publishing

    def publish(self, compiled: CompiledFamily, published_by: str, note: str) -> str:
        """Record ``compiled`` as the published content of its version; return what happened.

        Publishing the same content again changes nothing; different content under a version
        id already published is refused, and nothing is stored.
        """
        family, version = compiled.family, compiled.version
        try:
            existing: VersionPublication | None = self._log.repository.get(publication_id(family, version))
        except AggregateNotFoundError:
            existing = None
        if existing is not None:
            assert isinstance(existing, VersionPublication)
            if existing.sha256 == compiled.sha256:
                return "already published"
            raise VersionAlreadyPublishedError(
                f"{family} {version}: expected the published content (sha256 {existing.sha256[:12]}…, "
                f"published by {existing.published_by}), got different content (sha256 "
                f"{compiled.sha256[:12]}…) from {compiled.source.file}; published versions never change. "
                "Give the changed spec a new version id and publish that.",
                family=family,
                version=version,
            )
        # The published versions of a family must not overlap in time: check before storing.
        existing_sources = [self.release(p.sha256).source for p in self.publications()]
        PolicyLibrary.from_sources([*existing_sources, compiled.source], case_sources=CASE_SOURCES)
        self._ensure_release(compiled)
        publication = VersionPublication(
            family=family, spec_version=version, sha256=compiled.sha256, published_by=published_by, note=note
        )
        try:
            self._log.save(publication)
        except IntegrityError:  # published by someone else a moment ago: check it again
            return self.publish(compiled, published_by, note)
        self._published_cache = None
        return "published"

    def publications(self) -> list[VersionPublication.Published]:
        found = []
        for notification in self._iter_notifications([get_topic(VersionPublication.Published)]):
            event = self._log.mapper.to_domain_event(notification)
            assert isinstance(event, VersionPublication.Published)
            found.append(event)
        return found

    def published_policies(self) -> PolicyLibrary:
        """A library of exactly the versions published in this store (drafts on disk are ignored)."""
        shas = sorted(p.sha256 for p in self.publications())
        if self._published_cache is not None and self._published_cache[0] == shas:
            return self._published_cache[1]
        sources = [self.release(sha).source for sha in shas]
        library = PolicyLibrary.from_sources(sources, case_sources=CASE_SOURCES)
        self._published_cache = (shas, library)
        return library

    def close(self) -> None:
        self._log.close()

    def __enter__(self) -> CaseRecords:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # ------------------------------------------------------------------ recording events

    def open_case(self, case_ref: str, opened_on: date | str, worker: str | None = None) -> int:
        """Open a case under the case system's own reference; return its version (1)."""
        case = self.new_case(case_ref, opened_on, worker)
        if self._exists(case.case_ref):
            raise CaseExistsError(
                f"expected a new case reference, got {case_ref!r}, which is already open; "
                "record further events on it instead",
                case_ref=case_ref,
            )
        self._save(case, case.case_ref)
        return case.version

    @staticmethod
    def new_case(case_ref: str, opened_on: date | str, worker: str | None = None) -> Case:
        """A validated new case in memory (stored by ``open_case`` or ``save_new_cases``)."""
        try:
            opening = CaseOpening.model_validate(
                {"case_ref": case_ref, "opened_on": opened_on, "worker": worker}
            )
        except ValidationError as error:
            raise _event_error(str(case_ref), "case_opened", error) from None
        return Case(opening=opening)

    def record(self, case_ref: str, event_type: str, payload: Mapping[str, Any] | Payload) -> int:
        """Validate and append one event to a case; return the case's new version."""
        validated = self._validated(case_ref, event_type, payload)

        def append(case: Case) -> bool:
            self._apply(case, event_type, validated)
            return True

        case, _ = self._append(case_ref, append)
        return case.version

    @staticmethod
    def _validated(case_ref: str, event_type: str, payload: Mapping[str, Any] | Payload) -> Payload:
        if event_type not in EVENT_TYPES:
            raise EventInvalidError(
                f"case {case_ref!r}: expected an event type among {sorted(EVENT_TYPES)}, "
                f"got {event_type!r}; nothing was stored",
                case_ref=case_ref,
                event_type=event_type,
            )
        model, _ = EVENT_TYPES[event_type]
        if isinstance(payload, model):
            return payload
        if isinstance(payload, Mapping):
            try:
                return model.model_validate(dict(payload))
            except ValidationError as error:
                raise _event_error(case_ref, event_type, error) from None
        raise EventInvalidError(
            f"case {case_ref!r}, event {event_type!r}: expected a mapping or a "
            f"{model.__name__}, got {type(payload).__name__}; nothing was stored",
            case_ref=case_ref,
            event_type=event_type,
        )

    @staticmethod
    def _apply(case: Case, event_type: str, validated: Payload) -> None:
        _check_fits_history(case, event_type, validated)
        getattr(case, EVENT_TYPES[event_type][1])(validated)

    def _append(self, case_ref: str, change: Callable[[Case], _T]) -> tuple[Case, _T]:
        """Load the case, let ``change`` append to it, and save; on a conflict start again.

        Optimistic concurrency: another writer may append between our read and our save,
        which the store refuses; the change is then worked out again on the newer case.
        ``change`` returning ``None`` means nothing to save.
        """
        with self._writing:
            for attempt in range(_SAVE_ATTEMPTS):
                # The cached case itself, not a copy (copying a long history costs more than
                # the decision): whatever goes wrong below, it is dropped from the cache.
                case = self._get_case(case_ref, working_copy=True)
                try:
                    result = change(case)
                    if result is None:
                        return case, result
                    self._log.save(case)
                except IntegrityError:
                    self._forget(case)
                    self.conflicts_retried += 1
                    if attempt == _SAVE_ATTEMPTS - 1:
                        raise self._conflict(case_ref) from None
                    continue
                except BaseException:
                    self._forget(case)
                    raise
                return case, result
        raise AssertionError("unreachable")  # pragma: no cover

    def _forget(self, case: Case) -> None:
        cache = self._log.repository.cache
        if cache is not None:
            with contextlib.suppress(KeyError):
                cache.get(case.id, evict=True)

    # ------------------------------------------------------------------- reading a case

    def _get_case(self, case_ref: str, version: int | None = None, *, working_copy: bool = False) -> Case:
        try:
            case: Case = self._log.repository.get(
                case_id(case_ref), version=version, deepcopy_from_cache=not working_copy
            )
        except AggregateNotFoundError:
            raise CaseUnknownError(
                f"expected a case opened in this store, got {case_ref!r}; open it with open_case() first",
                case_ref=case_ref,
            ) from None
        assert isinstance(case, Case)
        return case

    def case(self, case_ref: str, version: int | None = None) -> Case:
        """The case as it stands now, or as it stood at ``version``."""
        return self._get_case(case_ref, version)

    def case_view(self, case_ref: str, on: date | None = None, version: int | None = None) -> dict[str, Any]:
        return case_view(self._get_case(case_ref, version), on)

    def stored_events(self, case: str | UUID) -> list[Any]:
        """The case's stored records as the store holds them (for audits), oldest first."""
        return list(self._log.recorder.select_events(case if isinstance(case, UUID) else case_id(case)))

    def decode(self, stored: Any) -> Any:
        """A stored record as a domain event (raises if the record no longer decodes)."""
        return self._log.mapper.to_domain_event(stored)

    def stored_release(self, sha256: str) -> list[Any]:
        """The stored record of one policy release (for bundles)."""
        return list(self._log.recorder.select_events(release_id(sha256)))

    def import_stored(self, stored: list[Any]) -> None:
        """Put stored records into this store exactly as they are (to check an audit bundle)."""
        self._log.recorder.insert_events(stored)

    def release_hashes(self) -> list[str]:
        """The SHA-256 of every policy release in the store."""
        hashes = []
        for notification in self._iter_notifications([get_topic(PolicyRelease.Published)]):
            try:
                event = self._log.mapper.to_domain_event(notification)
            except Exception:  # a damaged release record: it still counts, as damaged
                hashes.append(f"unreadable:{notification.originator_id}")
                continue
            if (
                not isinstance(event, PolicyRelease.Published)
                or release_id(event.sha256) != event.originator_id
            ):
                hashes.append(f"mismatched:{notification.originator_id}")
                continue
            hashes.append(event.sha256)
        return hashes

    def history(self, case_ref: str) -> list[Any]:
        """Every stored event of the case, oldest first."""
        self._get_case(case_ref)
        return list(self._log.events.get(case_id(case_ref)))

    # -------------------------------------------------------------------------- deciding

    def decide(
        self,
        case_ref: str,
        family: str,
        *,
        as_of: date | None = None,
        facts: Mapping[str, Any] | None = None,
        record: bool = True,
    ) -> RecordedDecision:
        """Decide ``family`` on the case with the policy in force on the effective date.

        The effective date is ``as_of`` if given, else the first date the family names
        in ``effective_date`` that the case knows (for example the assessment date).
        Facts with a ``source`` come from the case history; the caller supplies only the
        others. With ``record`` the decision is appended to the case's log.
        """
        # One look at the specs per call: in published-only mode each look reads the store.
        library = self.policies
        library.refresh()
        made: list[RecordedDecision] = []

        def decide_and_append(case: Case) -> bool | None:
            made.append(self._decide_in_memory(library, case, family, as_of, facts, record=record))
            return True if record else None

        self._append(case_ref, decide_and_append)
        return made[-1]

    def _decide_in_memory(
        self,
        library: PolicyLibrary,
        case: Case,
        family: str,
        as_of: date | None,
        facts: Mapping[str, Any] | None,
        *,
        record: bool,
    ) -> RecordedDecision:
        """Decide on a case object; with ``record``, append the decision to it (not saved yet)."""
        compiled, decision = self._decide_on(library, case, family, as_of, facts or {})
        previous = case.latest_decision(family)
        previous_outcome = previous.outcome if previous is not None else None
        if record:
            self._ensure_release(compiled)
            case.record_decision(
                DecisionRecord(
                    family=decision.family,
                    version=decision.version,
                    spec_sha256=decision.spec_sha256,
                    as_of=decision.as_of,
                    case_version_read=case.version,
                    facts=decision.facts,
                    status=decision.status,
                    outcome=decision.outcome,
                    fired=[rule.as_dict() for rule in decision.fired],
                    previous_outcome=previous_outcome,
                ),
                engine=ENGINE_NAME,
            )
        return RecordedDecision(case.case_ref, case.version, decision, previous_outcome)

    def save_new_cases(self, cases: Sequence[Case]) -> None:
        """Store new cases built in memory, all or none (one transaction)."""
        try:
            self._log.save(*cases)
        except IntegrityError:
            taken = [c.case_ref for c in cases if self._exists(c.case_ref)]
            raise CaseExistsError(
                f"expected new case references, got {taken or 'one'} already open (opened by another "
                "writer meanwhile?); nothing of this batch was stored",
                case_ref=taken[0] if taken else None,
            ) from None

    def _exists(self, case_ref: str) -> bool:
        try:
            self._log.repository.get(case_id(case_ref))
        except AggregateNotFoundError:
            return False
        return True

    def _effective_date(self, case: Case, compiled_family: str, paths: list[str]) -> date:
        view = case_view(case)
        for path in paths:
            value = view.get(path)
            if isinstance(value, date):
                return value
        raise FactsInvalidError(
            f"case {case.case_ref!r}, family {compiled_family!r}: expected one of the dates "
            f"{paths} to be known to pick the policy version in force, got none; record the "
            "event that establishes it or pass as_of",
            case_ref=case.case_ref,
        )

    def _decide_on(
        self, library: PolicyLibrary, case: Case, family: str, as_of: date | None, given: Mapping[str, Any]
    ) -> tuple[CompiledFamily, Decision]:
        if as_of is None:
            versions = library.versions(family)
            paths = versions[-1].spec.effective_date if versions else []
            # an unknown family is reported by in_force below, with the families there are
            as_of = self._effective_date(case, family, paths) if versions else date.min
        compiled = library.in_force(family, as_of)
        facts = self._facts_for(case, compiled, as_of, given)
        return compiled, compiled.decide(facts, as_of, where=f"case {case.case_ref!r}, family {family!r}")

    @staticmethod
    def _facts_for(
        case: Case, compiled: CompiledFamily, as_of: date, given: Mapping[str, Any]
    ) -> dict[str, Any]:
        sourced = {name for name, decl in compiled.spec.facts.items() if decl.source}
        clash = sorted(sourced & set(given))
        if clash:
            raise FactsInvalidError(
                f"case {case.case_ref!r}, family {compiled.family!r}: expected facts {clash} "
                "to come from the case history, got them from the caller; record the event "
                "that establishes them instead",
                case_ref=case.case_ref,
            )
        view = case_view(case, as_of)
        facts = dict(given)
        for name, decl in compiled.spec.facts.items():
            if decl.source:
                facts[name] = view[decl.source]
        return facts

    def _ensure_release(self, compiled: CompiledFamily) -> None:
        sha = compiled.sha256
        if sha in self._known_releases:
            return
        try:
            self._log.repository.get(release_id(sha))
        except AggregateNotFoundError:
            release = PolicyRelease(
                family=compiled.family,
                spec_version=compiled.version,
                effective_from=compiled.spec.effective_from.isoformat(),
                sha256=sha,
                text=compiled.source.text,
                file=Path(compiled.source.file).name,
            )
            # another writer may have stored the same release first: same text, same id
            with contextlib.suppress(IntegrityError):
                self._log.save(release)
        self._known_releases.add(sha)

    def _conflict(self, case_ref: str) -> CaseConflictError:
        return CaseConflictError(
            f"case {case_ref!r}: expected to append after the latest event, but other writers "
            f"kept appending first ({_SAVE_ATTEMPTS} attempts); nothing of this call was stored, "
            "try again",
            case_ref=case_ref,
        )

    def _save(self, case: Case, case_ref: str) -> None:
        try:
            self._log.save(case)
        except IntegrityError:
            raise CaseExistsError(
                f"expected a new case reference, got {case_ref!r}, which another writer just opened",
                case_ref=case_ref,
            ) from None

    # --------------------------------------------------------------------------- replay

    def release(self, sha256: str) -> CompiledFamily:
        """The stored policy release with this hash, compiled (once per process)."""
        compiled = self._release_cache.get(sha256)
        if compiled is not None:
            return compiled
        try:
            stored: PolicyRelease = self._log.repository.get(release_id(sha256))
        except AggregateNotFoundError:
            raise ReleaseUnknownError(
                f"expected the store to hold the policy release {sha256[:12]}…, got nothing",
                sha256=sha256,
            ) from None
        assert isinstance(stored, PolicyRelease)
        compiled = compile_or_raise(
            SpecSource(
                text=stored.text, file=f"release {stored.family} {stored.spec_version} ({stored.file})"
            )
        )
        self._release_cache[sha256] = compiled
        return compiled

    def replay_decision(
        self, case: Case, case_version: int, record: DecisionRecord, then: Case | None = None
    ) -> ReplayResult:
        """Re-decide one recorded decision from the stored release and the stored history.

        ``then`` is the case as it stood when the decision was made (at the version it read),
        if the caller has it at hand (an audit walking the case does); else it is loaded.
        """

        def result(
            status: Literal["reproduced", "differs", "unreplayable"], notes: list[str]
        ) -> ReplayResult:
            return ReplayResult(
                case.case_ref, case_version, record.family, record.version, status, tuple(notes)
            )

        try:
            compiled = self.release(record.spec_sha256)
        except (ReleaseUnknownError, SpecInvalidError) as error:
            return result("unreplayable", [str(error)])
        if compiled.sha256 != record.spec_sha256:
            return result("unreplayable", ["stored release text does not hash to the recorded hash"])
        notes: list[str] = []
        try:
            replayed = self._decide_again(compiled, record)
        except VrrulesError as error:
            return result("unreplayable", [f"[{error.code}] {error.message}"])
        if replayed.facts != record.facts:
            changed = sorted(
                k for k in {*replayed.facts, *record.facts} if replayed.facts.get(k) != record.facts.get(k)
            )
            notes.append(f"derived facts: {changed} differ between the record and the replay")
        if replayed.status != record.status:
            notes.append(f"status: recorded {record.status}, replayed {replayed.status}")
        if replayed.outcome != record.outcome:
            notes.append(f"outcome: recorded {record.outcome}, replayed {replayed.outcome}")
        recorded_fired = [f["rule_id"] for f in record.fired]
        if list(replayed.fired_rule_ids) != recorded_fired:
            notes.append(f"fired rules: recorded {recorded_fired}, replayed {list(replayed.fired_rule_ids)}")
        # The facts must be the ones the history established at the version the decision read.
        try:
            if then is None or then.version != record.case_version_read:
                then = self._get_case(case.case_ref, record.case_version_read)
            view = case_view(then, record.as_of)
            sourced = {
                name: view.get(decl.source) for name, decl in compiled.spec.facts.items() if decl.source
            }
            try:
                from_history = compiled.check_facts(sourced)
            except VrrulesError:  # find which fact: one at a time
                from_history = {}
                for name, value in sourced.items():
                    from_history.update(compiled.check_facts({name: value}))
            for name in sourced:
                if from_history.get(name) != record.facts.get(name):
                    notes.append(
                        f"fact {name!r}: recorded {record.facts.get(name)!r}, history at event "
                        f"{record.case_version_read} gives {from_history.get(name)!r}"
                    )
        except VrrulesError as error:
            notes.append(f"facts could not be derived again: [{error.code}] {error.message}")
        return result("differs" if notes else "reproduced", notes)

    def _decide_again(self, compiled: CompiledFamily, record: DecisionRecord) -> Decision:
        # A decision is a pure function of the release, the parameter period and the given
        # facts, so an audit evaluates each distinct combination through the engine once and
        # compares every decision recorded on it with that one evaluation.
        given = compiled.given_facts(record.facts)
        key = (
            compiled.sha256,
            compiled.period_of(record.as_of),
            json.dumps(given, sort_keys=True, separators=(",", ":"), default=str),
        )
        replayed = self._replay_memo.get(key)
        if replayed is None:
            replayed = compiled.decide(given, record.as_of)
            if len(self._replay_memo) >= _REPLAY_MEMO_SIZE:
                self._replay_memo.clear()  # bounded memory; a miss only costs one evaluation
            self._replay_memo[key] = replayed
        return replayed

    def redecide(
        self,
        case_ref: str,
        record: DecisionRecord,
        policies: PolicyLibrary | None = None,
        version: int | None = None,
    ) -> Decision:
        """Decide a recorded decision again, without recording: on the case as it stands now
        (or at ``version``) and with ``policies`` (default: this store's current specs).

        With the current history this shows what a correction recorded since would change;
        with a draft library, what a policy change would.
        """
        library = policies or self.policies
        case = self._get_case(case_ref, version)
        compiled = library.in_force(record.family, record.as_of)
        derived = derived_names(compiled.spec)
        given = {
            name: value
            for name, value in record.facts.items()
            if name in compiled.spec.facts and not compiled.spec.facts[name].source and name not in derived
        }
        facts = self._facts_for(case, compiled, record.as_of, given)
        return compiled.decide(facts, record.as_of, where=f"case {case_ref!r}, family {record.family!r}")

    def replay(self, case_ref: str) -> list[ReplayResult]:
        """Replay every decision recorded on one case."""
        case = self._get_case(case_ref)
        return [self.replay_decision(case, version, record) for version, record in case.decisions]

    def case_refs(self) -> Iterator[str]:
        """Every case in the store, in the order they were opened."""
        for _, case_ref in self.case_index():
            if case_ref is not None:
                yield case_ref

    def case_index(self) -> Iterator[tuple[UUID, str | None]]:
        """Every case's stored id and reference, in opening order; the reference is ``None``
        when the opening record no longer decodes (an audit reports such a case)."""
        for notification in self._iter_notifications([get_topic(Case.Opened)]):
            try:
                event = self._log.mapper.to_domain_event(notification)
            except Exception:  # a damaged record: the audit names it by its id
                yield notification.originator_id, None
                continue
            opening = getattr(event, "opening", None) if isinstance(event, Case.Opened) else None
            reference = opening.case_ref if isinstance(opening, CaseOpening) else None
            yield notification.originator_id, reference

    def case_id_chunks(self, size: int) -> Iterator[list[UUID]]:
        """Every case's stored id in opening order, ``size`` at a time, read as asked for
        (nothing is decoded: cheap for large stores)."""
        chunk: list[UUID] = []
        for notification in self._iter_notifications([get_topic(Case.Opened)]):
            chunk.append(notification.originator_id)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def count_decisions(self) -> int:
        return sum(1 for _ in self._iter_notifications([get_topic(Case.DecisionRecorded)]))

    def replay_all(self, progress: Callable[[ReplayResult], None] | None = None) -> Iterator[ReplayResult]:
        """Replay every decision in the store, case by case."""
        for case_ref in self.case_refs():
            for outcome in self.replay(case_ref):
                if progress is not None:
                    progress(outcome)
                yield outcome

    def _iter_notifications(self, topics: list[str], page: int = 1000) -> Iterator[Any]:
        start = 1
        while True:
            batch = self._log.recorder.select_notifications(start=start, limit=page, topics=topics)
            if not batch:
                return
            yield from batch
            start = batch[-1].id + 1
