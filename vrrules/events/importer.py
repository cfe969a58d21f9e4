"""Case histories as files: the format the demo's sample cases and case imports use.

::

    cases:
      - case_ref: VR-2025-0001
        opened_on: 2025-10-06
        story: one line on what happens in this case (not stored)
        steps:
          - record: referral_received
            payload: {received_on: 2025-10-06, source: employer}
          - decide: tiers            # as_of optional: else the family's effective date
          - record: assessment_completed
            payload: {...}
          - decide: tiers

Every step is validated before it is recorded, and a bad step names the case, the step
number and the field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vrrules.errors import (
    CaseExistsError,
    EventInvalidError,
    ParameterMissingError,
    PolicyNotInForceError,
    VrrulesError,
)
from vrrules.events.application import CaseRecords
from vrrules.events.decider import ENGINE_NAME, RecordedDecision, decide
from vrrules.events.domain import Case
from vrrules.events.intake import new_case, validated
from vrrules.events.publishing import store_release
from vrrules.policies.model import IsoDate
from vrrules.policies.reading import read_at_most
from vrrules.policies.yamlsource import YamlDocument, read_yaml

__all__ = [
    "CaseFile",
    "CaseHistory",
    "ImportSummary",
    "Step",
    "Undecided",
    "case_file_from",
    "import_case",
    "import_cases",
    "iter_decide_steps",
    "load_case_file",
    "read_case_document",
]


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    record: str | None = None
    payload: dict[str, Any] | None = None
    decide: str | None = None
    as_of: IsoDate | None = None
    facts: dict[str, Any] | None = Field(default=None, description="facts the family takes from the caller")

    @model_validator(mode="after")
    def _one_kind(self) -> Step:
        if (self.record is None) == (self.decide is None):
            raise ValueError("a step is either 'record' (with 'payload') or 'decide'")
        if self.record is not None and self.payload is None:
            raise ValueError("a 'record' step needs a 'payload'")
        if self.decide is not None and self.payload is not None:
            raise ValueError("a 'decide' step takes no 'payload' (facts go under 'facts')")
        if self.record is not None and (self.facts is not None or self.as_of is not None):
            raise ValueError("a 'record' step takes only 'payload'")
        return self


class CaseHistory(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    case_ref: str
    opened_on: IsoDate
    worker: str | None = None
    story: str | None = None
    steps: list[Step] = Field(min_length=1)


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cases: list[CaseHistory] = Field(min_length=1)


# a case file larger than this is refused before it is parsed (the command line's limit too)
CASE_FILE_LIMIT = 50_000_000


def load_case_file(path: Path) -> CaseFile:
    """The case file at ``path``, read as every file vrrules reads: a device, a pipe or a
    folder is refused unread (``file_not_regular``), a file past :data:`CASE_FILE_LIMIT` is
    refused having read no more than that, text that is not UTF-8 is refused."""
    raw = read_at_most(path, CASE_FILE_LIMIT + 1, "case file")
    if len(raw) > CASE_FILE_LIMIT:
        raise EventInvalidError(
            f"{path}: expected a case file of at most {CASE_FILE_LIMIT:,} bytes, got more; split it "
            "into several files",
            file=str(path),
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise EventInvalidError(
            f"{path}: expected a case file in UTF-8, got a byte that is not at {error.start}",
            file=str(path),
        ) from None
    return case_file_from(read_case_document(text, path), path)


def read_case_document(text: str, path: Path | str) -> YamlDocument:
    """A case file's YAML, read strictly (no aliases, tags or duplicate keys)."""
    document, diagnostics = read_yaml(text, str(path))
    if document is None or diagnostics:
        raise EventInvalidError(
            f"{path}: expected a YAML case file, got:\n  " + "\n  ".join(str(d) for d in diagnostics),
            file=str(path),
        )
    return document


def case_file_from(document: YamlDocument, path: Path | str) -> CaseFile:
    """The case file a YAML document holds; each problem named with its line."""
    data = document.data
    if not isinstance(data, dict):
        got = "null" if data is None else f"{type(data).__name__} {data!r:.60}"
        raise EventInvalidError(
            f"{path}: expected a case file holding a mapping with 'cases' (a list of cases, each "
            f"with 'case_ref', 'opened_on' and 'steps'), got {got}; write the cases under 'cases:'",
            file=str(path),
        )
    try:
        return CaseFile.model_validate(document.data)
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(p) for p in item['loc'])} (line "
            f"{document.line_of(tuple(item['loc']))}): {item['msg']}"
            for item in error.errors(include_url=False)
        ]
        raise EventInvalidError(
            f"{path}: the case file was refused:\n  " + "\n  ".join(problems), file=str(path)
        ) from None


@dataclass(frozen=True)
class Undecided:
    """A decide step that could not decide, and why (for example a value not published)."""

    case_ref: str
    family: str
    error: VrrulesError


def import_case(
    records: CaseRecords,
    history: CaseHistory,
    on_decision: Callable[[RecordedDecision | Undecided], None] | None = None,
) -> list[RecordedDecision | Undecided]:
    """Open the case and play its steps in order; return what each decide step gave.

    A decide step that fails for want of a published value or of a policy in force is
    reported as :class:`Undecided` and the import goes on; any other error stops it.
    """
    records.open_case(history.case_ref, history.opened_on, worker=history.worker)
    decisions: list[RecordedDecision | Undecided] = []
    for number, step in enumerate(history.steps, start=1):
        if step.record is not None:
            assert step.payload is not None
            try:
                records.record(history.case_ref, step.record, step.payload)
            except EventInvalidError as error:
                raise EventInvalidError(
                    f"step {number} of case {history.case_ref!r}: {error.message}",
                    case_ref=history.case_ref,
                    step=number,
                ) from None
        else:
            assert step.decide is not None
            result: RecordedDecision | Undecided
            try:
                result = records.decide(history.case_ref, step.decide, as_of=step.as_of, facts=step.facts)
            except (ParameterMissingError, PolicyNotInForceError) as error:
                result = Undecided(history.case_ref, step.decide, error)
            decisions.append(result)
            if on_decision is not None:
                on_decision(result)
    return decisions


@dataclass
class ImportSummary:
    """What a bulk import stored."""

    cases: int = 0
    events: int = 0
    decisions: int = 0
    undecided: int = 0
    by_family: dict[str, int] = field(default_factory=dict)


def import_cases(
    records: CaseRecords,
    histories: Iterable[CaseHistory],
    *,
    batch_size: int = 200,
    on_decision: Callable[[RecordedDecision | Undecided], None] | None = None,
) -> ImportSummary:
    """Import many new cases (a migration, a generated store): each case is built and decided
    in memory exactly as step-by-step recording would, then cases are stored ``batch_size``
    at a time, each batch in one transaction.

    A step that is refused stops the import with the case, step and field named; batches
    stored before it stay stored, and nothing of the batch in progress is.
    """
    library = records.policies
    library.refresh()
    summary = ImportSummary()
    batch: list[Case] = []
    seen: set[str] = set()
    for history in histories:
        if history.case_ref in seen:
            raise CaseExistsError(
                f"expected each case once in an import, got {history.case_ref!r} twice; "
                "nothing of the batch in progress was stored",
                case_ref=history.case_ref,
            )
        seen.add(history.case_ref)
        case = new_case(history.case_ref, history.opened_on, history.worker)
        for number, step in enumerate(history.steps, start=1):
            if step.record is not None:
                assert step.payload is not None
                try:
                    case.record(validated(history.case_ref, step.record, step.payload))
                except EventInvalidError as error:
                    raise EventInvalidError(
                        f"step {number} of case {history.case_ref!r}: {error.message}",
                        case_ref=history.case_ref,
                        step=number,
                    ) from None
                continue
            assert step.decide is not None
            result: RecordedDecision | Undecided
            try:
                made = decide(library, case, step.decide, as_of=step.as_of, facts=step.facts)
                store_release(records.store, made.compiled)
                case.record_decision(made.record, engine=ENGINE_NAME)
                result = made.on(case)
            except (ParameterMissingError, PolicyNotInForceError) as error:
                result = Undecided(history.case_ref, step.decide, error)
                summary.undecided += 1
            else:
                summary.decisions += 1
                summary.by_family[step.decide] = summary.by_family.get(step.decide, 0) + 1
            if on_decision is not None:
                on_decision(result)
        batch.append(case)
        summary.cases += 1
        summary.events += case.version
        if len(batch) >= batch_size:
            records.save_new_cases(batch)
            batch = []
    if batch:
        records.save_new_cases(batch)
    return summary


def iter_decide_steps(case_file: CaseFile) -> Iterator[tuple[str, Step]]:
    for history in case_file.cases:
        for step in history.steps:
            if step.decide is not None:
                yield history.case_ref, step
