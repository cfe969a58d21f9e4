"""Worked examples: YAML cases beside a spec, each with the facts given and what must follow.

File format (``examples.yaml`` or ``NAME.examples.yaml`` in a family's folder)::

    family: tiers
    examples:
      - name: Tier 2 when a functional capacity evaluation is needed
        at: 2025-11-10                   # the decision's effective date
        given:                           # the family's facts
          assessment_completed: true
          support_needed: [functional_capacity_evaluation]
        expect:
          status: decided                # optional: decided | no_rule_applied
          outcome: {tier: 2}             # optional: these keys must match exactly
          fired: [tier-2-targeted-assessment]   # optional: the rules fired, in order
      - name: Before the first version is in force
        at: 2024-01-01
        given: {assessment_completed: true}
        expect_error: policy_not_in_force

An example must say ``expect`` (with at least one of status, outcome, fired) or
``expect_error`` (a stable error code); one with neither is itself an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vrrules.errors import Diagnostic, SpecInvalidError, VrrulesError
from vrrules.policies.decision import Decision
from vrrules.policies.library import PolicyLibrary
from vrrules.policies.model import IsoDate
from vrrules.policies.yamlsource import read_source_file, read_yaml

__all__ = ["Example", "ExampleFile", "ExampleResult", "load_examples", "run_example"]


class Expectation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: Literal["decided", "no_rule_applied"] | None = None
    outcome: dict[str, Any] | None = None
    fired: list[str] | None = None

    @model_validator(mode="after")
    def _says_something(self) -> Expectation:
        if self.status is None and self.outcome is None and self.fired is None:
            raise ValueError("expect must name at least one of status, outcome, fired")
        return self


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    at: IsoDate
    given: dict[str, Any] = Field(default_factory=dict)
    expect: Expectation | None = None
    expect_error: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]*$")
    note: str | None = None

    @model_validator(mode="after")
    def _has_an_expectation(self) -> Example:
        if (self.expect is None) == (self.expect_error is None):
            raise ValueError(
                "an example needs exactly one of 'expect' or 'expect_error'; "
                "an example without an expectation proves nothing"
            )
        return self


class ExampleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    family: str
    examples: list[Example] = Field(min_length=1)


@dataclass(frozen=True)
class ExampleResult:
    example: Example
    passed: bool
    problems: tuple[str, ...]
    decision: Decision | None

    def report(self) -> str:
        lines = [f"example {self.example.name!r} at {self.example.at.isoformat()}:"]
        lines.extend(f"  {p}" for p in self.problems)
        if self.decision is not None:
            lines.append(f"  rules fired: {list(self.decision.fired_rule_ids) or 'none'}")
        return "\n".join(lines)


def load_examples(path: Path) -> ExampleFile:
    text, refused = read_source_file(path, "worked-examples file")
    if text is None:
        raise SpecInvalidError(refused)
    document, diagnostics = read_yaml(text, str(path))
    if document is None or diagnostics:
        raise SpecInvalidError(diagnostics)
    try:
        return ExampleFile.model_validate(document.data)
    except ValidationError as error:
        raise SpecInvalidError(
            [
                Diagnostic(
                    code="example_invalid",
                    message=f"{item['msg']}; got {item.get('input')!r}"[:300],
                    file=str(path),
                    line=document.line_of(tuple(p for p in item["loc"] if not str(p).startswith("<"))),
                    field=".".join(str(p) for p in item["loc"]),
                    hint="see the example format in the README",
                )
                for item in error.errors(include_url=False)
            ]
        ) from None


def run_example(library: PolicyLibrary, family: str, example: Example) -> ExampleResult:
    """Decide the example's facts with the version in force on its date; compare."""
    problems: list[str] = []
    decision: Decision | None = None
    try:
        compiled = library.in_force(family, example.at)
        decision = compiled.decide(example.given, example.at, where=f"example {example.name!r}")
    except VrrulesError as error:
        if example.expect_error is None:
            problems.append(f"expected a decision, got error [{error.code}] {error.message}")
        elif error.code != example.expect_error:
            problems.append(f"expected error {example.expect_error!r}, got [{error.code}] {error.message}")
        return ExampleResult(example, not problems, tuple(problems), None)
    if example.expect_error is not None:
        problems.append(f"expected error {example.expect_error!r}, got outcome {decision.outcome}")
        return ExampleResult(example, False, tuple(problems), decision)
    expect = example.expect
    assert expect is not None
    if expect.status is not None and decision.status != expect.status:
        problems.append(f"status: expected {expect.status}, got {decision.status}")
    if expect.outcome is not None:
        got = decision.outcome or {}
        for key, wanted in expect.outcome.items():
            if key not in got:
                problems.append(f"outcome.{key}: expected {wanted!r}, got nothing (outcome {got})")
            elif got[key] != wanted or type(got[key]) is not type(wanted):
                problems.append(f"outcome.{key}: expected {wanted!r}, got {got[key]!r}")
    if expect.fired is not None and list(decision.fired_rule_ids) != expect.fired:
        problems.append(f"fired: expected {expect.fired}, got {list(decision.fired_rule_ids)}")
    return ExampleResult(example, not problems, tuple(problems), decision)
