"""The compiler: a spec's text through named stages, each with one job, as OPA's compiler keeps them.

====== ==================================================== =====================================
stage  what it does                                         module
====== ==================================================== =====================================
load   strict YAML to a typed ``FamilySpec``; values typed  :mod:`vrrules.policies.load`
check  what the models cannot see; ``source:`` paths        :mod:`vrrules.policies.check`
       against the case schema (always)
resolve the parameters in force on a date, cached           :mod:`vrrules.policies.resolve`
lower  engine-neutral conditions over typed facts           :mod:`vrrules.policies.lower`
evaluate which rules apply: durable_rules decides           :mod:`vrrules.policies.engine`
       (the ``Evaluator`` protocol; a plain evaluator        (:mod:`vrrules.policies.evaluate`)
       checks it in the tests)
lint   dead rules, conflicts, gaps (found / none /          :mod:`vrrules.policies.lint`
       inconclusive)
====== ==================================================== =====================================

Three paths run different stages, and say so in their names:

* :func:`compile_source` (a library loading specs to decide): load and check, collecting every
  diagnostic; resolve, lower and evaluate run when a decision is asked for.
* :func:`lint_source` (``vrrules check`` and the pytest plugin): load, check and lint.
* :func:`load_release` (replaying a stored decision): load only, then resolve, lower and
  evaluate on demand. Neither the case schema nor the lint can turn a release that decided
  once into one that no longer replays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from vrrules._arguments import refuse_unless
from vrrules.errors import Diagnostic, SpecInvalidError
from vrrules.policies.caseschema import CASE_SCHEMA
from vrrules.policies.check import check_spec
from vrrules.policies.evaluate import Evaluator
from vrrules.policies.family import CompiledFamily
from vrrules.policies.lint import analyse
from vrrules.policies.load import LoadedSpec, SpecSource, load
from vrrules.policies.lower import LoweredFamily, lower
from vrrules.policies.resolve import parameter_periods, resolve_parameters

__all__ = [
    "STAGES",
    "CompiledFamily",
    "LoweredFamily",
    "SpecSource",
    "Stage",
    "compile_or_raise",
    "compile_source",
    "lint_diagnostics",
    "lint_source",
    "load_release",
    "lower",
    "parameter_periods",
    "resolve_parameters",
]


@dataclass(frozen=True)
class Stage:
    name: str
    purpose: str


STAGES: tuple[Stage, ...] = (
    Stage("load", "safe YAML to a typed FamilySpec; money, dates, ints and codes typed once"),
    Stage("check", "references, operators, sizes, and every source: against the case schema"),
    Stage("resolve", "the parameters in force on a date, cached per parameter period"),
    Stage("lower", "engine-neutral conditions over typed facts"),
    Stage("evaluate", "which rules apply, behind the Evaluator protocol (durable_rules decides)"),
    Stage("lint", "rules that never fire, conflicts and gaps: found, none or inconclusive"),
)


def _has_error(diagnostics: list[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)


def check_loaded(loaded: LoadedSpec, case_schema: Mapping[str, str]) -> list[Diagnostic]:
    """The check stage on a loaded spec."""
    return check_spec(loaded.spec, loaded.document, loaded.source.file, case_schema)


def lint_diagnostics(loaded: LoadedSpec) -> list[Diagnostic]:
    """The lint stage on a loaded, checked spec: each finding as a located diagnostic."""
    spec, document, file = loaded.spec, loaded.document, loaded.source.file
    found = []
    for finding in analyse(spec, parameter_periods(spec)):
        at = finding.rule_index
        path: tuple[str | int, ...] = ("rules",) if at is None else ("rules", at)
        found.append(
            Diagnostic(
                code=finding.code,
                message=finding.message,
                file=file,
                line=document.line_of(path),
                rule=None if at is None else spec.rules[at].id,
                field=".".join(str(p) for p in path),
                hint=finding.hint,
                severity=finding.severity,
            )
        )
    return found


def _run(
    source: SpecSource,
    stages: tuple[Callable[[LoadedSpec], list[Diagnostic]], ...],
    evaluator: Evaluator | None,
    *,
    plain_only: bool = True,
) -> tuple[CompiledFamily | None, list[Diagnostic]]:
    refuse_unless(
        isinstance(source, SpecSource) and isinstance(source.text, str) and isinstance(source.file, str),
        "source",
        source,
        "a SpecSource(text=..., file=...) of text",
    )
    loaded, diagnostics = load(source, plain_only=plain_only)
    if loaded is None:
        return None, diagnostics
    for stage in stages:
        if _has_error(diagnostics):
            break
        diagnostics.extend(stage(loaded))
    if _has_error(diagnostics):
        return None, diagnostics
    if evaluator is None:
        return CompiledFamily(loaded.spec, source), diagnostics
    return CompiledFamily(loaded.spec, source, evaluator), diagnostics


def compile_source(
    source: SpecSource,
    case_sources: Mapping[str, str] | None = None,
    evaluator: Evaluator | None = None,
) -> tuple[CompiledFamily | None, list[Diagnostic]]:
    """Load and check (``case_sources``: the case schema, :data:`CASE_SCHEMA` when not given).

    Returns the compiled family (or None when any diagnostic is an error) and every diagnostic.
    """
    schema = CASE_SCHEMA if case_sources is None else case_sources
    return _run(source, (lambda loaded: check_loaded(loaded, schema),), evaluator)


def lint_source(
    source: SpecSource,
    case_sources: Mapping[str, str] | None = None,
    evaluator: Evaluator | None = None,
) -> tuple[CompiledFamily | None, list[Diagnostic]]:
    """Load, check and lint: what ``vrrules check`` and the pytest plugin run."""
    schema = CASE_SCHEMA if case_sources is None else case_sources
    return _run(source, (lambda loaded: check_loaded(loaded, schema), lint_diagnostics), evaluator)


def compile_or_raise(
    source: SpecSource,
    case_sources: Mapping[str, str] | None = None,
    evaluator: Evaluator | None = None,
) -> CompiledFamily:
    """:func:`compile_source`, raising one :class:`SpecInvalidError` with every error."""
    compiled, diagnostics = compile_source(source, case_sources, evaluator)
    if compiled is None:
        raise SpecInvalidError(diagnostics)
    return compiled


def load_release(source: SpecSource, evaluator: Evaluator | None = None) -> CompiledFamily:
    """A stored release, ready to decide again: load only (then resolve, lower, evaluate).

    No check against today's case schema and no lint, and the YAML read as it was when it was
    stored (explicit tags, anchors and aliases to plain values, since refused in files, are
    taken): what decided once replays as it did.
    Raises :class:`SpecInvalidError` only when the text no longer loads at all.
    """
    compiled, diagnostics = _run(source, (), evaluator, plain_only=False)
    if compiled is None:
        raise SpecInvalidError(diagnostics)
    return compiled
