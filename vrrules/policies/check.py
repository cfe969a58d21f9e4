"""The check stage: what the models cannot see, and the spec against the case schema.

A typed spec can still name a fact it does not declare, compare a money fact with a code,
refer to an unknown parameter, read a case-view path that does not exist, or outgrow what
the engine compiles safely. Each check reports a located diagnostic (file, line, rule,
field, hint) and they are all collected. The case schema is required: every library
checks every ``source:`` against it, so a misspelled path fails at load with its line.

The rule analysis (dead rules, conflicts, gaps) is not here: it is the lint stage's,
run by ``vrrules check`` and the pytest plugin only.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vrrules.errors import Diagnostic, FactsInvalidError
from vrrules.policies.conditions import operand_items, operand_type, walk
from vrrules.policies.engine import MAX_RULES_PER_RULESET, engine_key_count
from vrrules.policies.facts import money_as_written, recorded_facts
from vrrules.policies.model import (
    DERIVATIONS,
    LIST_OPERATORS,
    Comparison,
    FactDecl,
    FactRef,
    FamilySpec,
    Invariant,
    ParamRef,
    Reference,
    Rule,
    operand_refusal,
)
from vrrules.policies.rates import fallback_problem
from vrrules.policies.sources import SOURCE_FILES
from vrrules.policies.values import OperandError, typed_scalar
from vrrules.policies.yamlsource import YamlDocument

__all__ = ["MAX_ENGINE_PROPERTIES", "OPERATORS_BY_TYPE", "TEMPLATE_MARKERS", "check_spec"]

# durable_rules allows 255 properties per fact (sid, id and our discriminator included).
MAX_ENGINE_PROPERTIES = 250

_ORDERED = {"equals", "not_equals", "lt", "lte", "gt", "gte", "in", "not_in", "present"}
OPERATORS_BY_TYPE: dict[str, set[str]] = {
    "bool": {"equals", "not_equals", "present"},
    "text": {"equals", "not_equals", "in", "not_in", "present"},
    "enum": {"equals", "not_equals", "in", "not_in", "present"},
    "int": _ORDERED,
    "days": _ORDERED,
    "money": _ORDERED,
    "date": _ORDERED,
    "set": {"contains", "contains_any", "contains_all", "contains_none", "count_gte", "count_lte", "present"},
}
# which parameter types may stand where a value of this type is expected
_PARAM_FITS: dict[str, set[str]] = {
    "bool": {"bool"},
    "text": {"text"},
    "enum": {"text"},
    "int": {"int", "days"},
    "days": {"days", "int"},
    "money": {"money"},
    "date": set(),
}
TEMPLATE_MARKERS = ("{{", "{%", "${", "#{", "%(")

Path = tuple[str | int, ...]


@dataclass
class _Report:
    document: YamlDocument
    file: str
    found: list[Diagnostic] = field(default_factory=list)

    def __call__(
        self,
        code: str,
        message: str,
        path: Path,
        hint: str,
        rule: str | None = None,
        *,
        severity: str = "error",
    ) -> None:
        self.found.append(
            Diagnostic(
                code=code,
                message=message,
                file=self.file,
                line=self.document.line_of(path),
                rule=rule,
                field=".".join(str(p) for p in path) or None,
                hint=hint,
                severity=severity,
            )
        )


def _check_texts(spec: FamilySpec, report: _Report) -> None:
    for index, rule in enumerate(spec.rules):
        texts = {"reason": rule.reason, "fix": rule.fix or ""}
        texts.update({f"outcome.{k}": v for k, v in rule.outcome.items() if isinstance(v, str)})
        for name, text in texts.items():
            marker = next((m for m in TEMPLATE_MARKERS if m in text), None)
            if marker is not None:
                report(
                    "text_template_refused",
                    f"expected plain text, got the template marker {marker!r}; "
                    "spec text is shown as written and never expanded",
                    ("rules", index, *name.split(".")),
                    "write the sentence out in full; values belong in outcome and parameters",
                    rule.id,
                )


def _check_operand(
    spec: FamilySpec, rule: Rule | Invariant, comparison: Comparison, path: Path, report: _Report
) -> None:
    decl = spec.facts[comparison.fact]
    op = comparison.operator
    value_type = operand_type(op, decl)
    for item in operand_items(comparison):
        if isinstance(item, ParamRef) and op in LIST_OPERATORS:
            _check_code_list(spec, rule, comparison, path, report)
            continue
        if isinstance(item, ParamRef):
            param = spec.parameters.get(item.param)
            if param is None:
                report(
                    "parameter_unknown",
                    f"expected a parameter declared under 'parameters', got {item.param!r}",
                    (*path, op),
                    "declare the parameter with its dated values and reference",
                    rule.id,
                )
            elif param.type not in _PARAM_FITS[value_type]:
                fits = (
                    f"a whole-number parameter (int) for {op}, which counts the codes of the "
                    f"{decl.type} fact {comparison.fact!r}"
                    if op.startswith("count_")
                    else f"a parameter of a type that fits the {decl.type} fact {comparison.fact!r}"
                )
                report(
                    "condition_value_mismatch",
                    f"expected {fits}, got {item.param!r} of type {param.type}",
                    (*path, op),
                    "compare the fact with a parameter of the same kind",
                    rule.id,
                )
            continue
        try:
            typed = typed_scalar(value_type, item)
        except OperandError as exc:
            quote = isinstance(item, bool) and decl.type in ("enum", "set", "text")
            report(
                "condition_value_mismatch",
                f"{comparison.fact!r} is {decl.type}: {exc}"
                + (
                    " (YAML reads unquoted yes, no, on, off, true and false as true or false)"
                    if quote
                    else ""
                ),
                (*path, op),
                'quote the code, e.g. equals: "no"' if quote else "write a value of the fact's type",
                rule.id,
            )
            continue
        if value_type == "money" and _money_not_as_written(item) is not None:
            report(
                "money_invalid",
                f"{comparison.fact!r} is money: {_money_not_as_written(item)}",
                (*path, op),
                _AS_WRITTEN,
                rule.id,
            )
        if op.startswith("count_") and isinstance(typed, int) and typed < 0:
            report(
                "condition_value_mismatch",
                f"expected a count of codes from 0 up for {op}, got {item!r}: a set never holds "
                f"fewer than none, so the test would always be {'true' if op == 'count_gte' else 'false'}",
                (*path, op),
                "write the smallest (or largest) number of codes the rule means",
                rule.id,
            )
        if decl.type in ("enum", "set") and not op.startswith("count_") and item not in (decl.values or ()):
            report(
                "condition_value_mismatch",
                f"expected one of the codes of {comparison.fact!r} ({decl.values}), got {item!r}",
                (*path, op),
                "use a declared code, or add it to the fact's values",
                rule.id,
            )


def _check_code_list(
    spec: FamilySpec, owner: Rule | Invariant, comparison: Comparison, path: Path, report: _Report
) -> None:
    op = comparison.operator
    ref = comparison.operand
    assert isinstance(ref, ParamRef)
    decl = spec.facts[comparison.fact]
    rule = owner
    param = spec.parameters.get(ref.param)
    if param is None:
        report(
            "parameter_unknown",
            f"expected a parameter declared under 'parameters', got {ref.param!r}",
            (*path, op),
            "declare the code list as a parameter with its dated values and reference",
            rule.id,
        )
        return
    if param.type != "codes":
        report(
            "condition_value_mismatch",
            f"expected a parameter of type codes for {op!r}, got {ref.param!r} of type {param.type}",
            (*path, op),
            "give a list of codes, or refer to a codes parameter",
            rule.id,
        )
        return
    allowed = set(decl.values or ())
    for when, codes in param.values.items():
        listed = codes if isinstance(codes, list) else []
        unknown = sorted(set(listed) - allowed) if allowed else []
        if unknown:
            report(
                "condition_value_mismatch",
                f"parameter {ref.param!r} (from {when.isoformat()}) holds codes {unknown} that "
                f"{comparison.fact!r} does not declare ({decl.values})",
                ("parameters", ref.param, "values"),
                "use the fact's codes, or add them to its values",
                rule.id,
            )


_AS_WRITTEN = 'write true or false unquoted, whole numbers without a decimal point, money quoted ("1234.50")'


def _retyped(written: Any, typed: Any) -> bool:
    """Whether the models took a written value as one of another type (``1.0`` as true, ``2.0``
    as 2, ``1`` as true): pydantic's lax unions do; a spec's values count only as written."""
    if isinstance(typed, ParamRef | FactRef) or isinstance(written, dict):
        return False  # a reference: its own model checked it
    if isinstance(typed, list) and isinstance(written, list):
        return any(_retyped(w, t) for w, t in zip(written, typed, strict=False))
    return type(written) is not type(typed)


def _operand_retyped(comparison: Comparison, where: Path, owner: Rule | Invariant, report: _Report) -> bool:
    op = comparison.operator
    found, written = report.document.value_at((*where, op))
    if not found or not _retyped(written, comparison.operand):
        return False
    report(
        "condition_value_mismatch",
        operand_refusal(op, written)
        # a count read as True says nothing to the author: the expected whole number does
        + (
            ""
            if op.startswith("count_") and isinstance(comparison.operand, bool)
            else f" (it would be read as {comparison.operand!r})"
        ),
        (*where, op),
        _AS_WRITTEN,
        owner.id,
    )
    return True


def _check_condition(spec: FamilySpec, owner: Rule | Invariant, path: Path, report: _Report) -> None:
    for comparison, where in walk(owner.when, (*path, "when")):
        decl = spec.facts.get(comparison.fact)
        if _operand_retyped(comparison, where, owner, report):
            continue
        if decl is None:
            report(
                "condition_fact_unknown",
                f"expected a fact declared under 'facts' ({', '.join(sorted(spec.facts))}), "
                f"got {comparison.fact!r}",
                (*where, "fact"),
                "declare the fact under 'facts' or correct its name",
                owner.id,
            )
        elif comparison.operator not in OPERATORS_BY_TYPE[decl.type]:
            allowed = ", ".join(sorted(OPERATORS_BY_TYPE[decl.type]))
            report(
                "condition_operator_mismatch",
                f"expected an operator for a {decl.type} fact ({allowed}), "
                f"got {comparison.operator!r} on {comparison.fact!r}",
                (*where, comparison.operator),
                "use an operator that fits the fact's type",
                owner.id,
            )
        else:
            _check_operand(spec, owner, comparison, where, report)


def _check_written_values(spec: FamilySpec, report: _Report) -> None:
    """Outcome values and fact defaults as written: ``tier: 1.0`` is not the outcome ``true``."""
    outcomes: list[tuple[Path, dict[str, Any], str | None]] = [
        (("rules", index, "outcome"), dict(rule.outcome), rule.id) for index, rule in enumerate(spec.rules)
    ]
    outcomes += [
        (("invariants", index, "never"), dict(invariant.never), invariant.id)
        for index, invariant in enumerate(spec.invariants)
        if invariant.never is not None
    ]
    if spec.no_rule_outcome is not None:
        outcomes.append((("no_rule_outcome",), dict(spec.no_rule_outcome), None))
    for path, outcome, owner in outcomes:
        for key, typed in outcome.items():
            found, written = report.document.value_at((*path, key))
            if found and _retyped(written, typed):
                report(
                    "spec_field_invalid",
                    f"expected an outcome value as written (true or false, a whole number, text, "
                    f"{{param: name}} or {{fact: name}}), got {written!r}, which would be recorded "
                    f"as {typed!r}",
                    (*path, key),
                    _AS_WRITTEN,
                    owner,
                )
    for name, decl in spec.facts.items():
        found, written = report.document.value_at(("facts", name, "default"))
        if decl.default is not None and found and _retyped(written, decl.default):
            report(
                "fact_default_invalid",
                f"fact {name!r} is {decl.type}: expected a default as written, got {written!r}, "
                f"which would be read as {decl.default!r}",
                ("facts", name, "default"),
                _AS_WRITTEN,
            )
    for path, typed, code, what in _whole_numbers(spec):
        found, written = report.document.value_at(path)
        if found and _retyped(written, typed):
            report(
                code,
                f"expected {what} written as whole numbers (3, not 3.0 or true), got "
                f"{written!r}, which would be read as {typed!r}",
                path,
                _AS_WRITTEN,
            )


def _whole_numbers(spec: FamilySpec) -> Iterator[tuple[Path, Any, str, str]]:
    """Where a spec gives whole numbers itself (outside facts, parameters and conditions):
    each path with the value the models read there, its code and what it counts."""
    for name, decl in spec.facts.items():
        derivation = decl.derive
        if derivation is None:
            continue
        for kind in ("shift", "period_end"):
            moved = getattr(derivation, kind)
            if moved is not None:
                for unit in ("days", "months"):
                    yield (
                        ("facts", name, "derive", kind, unit),
                        getattr(moved, unit),
                        "derivation_invalid",
                        f"the {unit} of the {kind} deriving {name!r} (or fact names, or {{param: name}})",
                    )
        if derivation.fraction is not None:
            for term in ("numerator", "denominator"):
                yield (
                    ("facts", name, "derive", "fraction", term),
                    getattr(derivation.fraction, term),
                    "derivation_invalid",
                    f"the {term} of the fraction deriving {name!r}",
                )
    for table_name, table in spec.tables.items():
        for p, period in enumerate(table.periods):
            for r, row in enumerate(period.rows):
                if row.months is not None:
                    yield (
                        ("tables", table_name, "periods", p, "rows", r, "months"),
                        row.months,
                        "rate_table_invalid",
                        f"the calendar months of the rows of table {table_name!r}",
                    )


def _references(spec: FamilySpec) -> Iterator[tuple[Reference, Path, str | None]]:
    yield spec.reference, ("reference",), None
    for name, param in spec.parameters.items():
        yield param.reference, ("parameters", name, "reference"), None
    for index, rule in enumerate(spec.rules):
        yield rule.reference, ("rules", index, "reference"), rule.id
    for name, table in spec.tables.items():
        for index, period in enumerate(table.periods):
            yield period.reference, ("tables", name, "periods", index, "reference"), None


def _check_references(spec: FamilySpec, report: _Report) -> None:
    known = sorted(SOURCE_FILES)
    for reference, path, rule in _references(spec):
        if reference.seed is None or reference.seed in SOURCE_FILES:
            continue
        close = difflib.get_close_matches(reference.seed, known, n=1)
        report(
            "reference_seed_unknown",
            f"expected 'seed' to name a source document vrrules knows ({', '.join(known)}), "
            f"got {reference.seed!r}" + (f"; did you mean {close[0]!r}?" if close else ""),
            (*path, "seed"),
            "correct the file name; a new source document goes under shared/ and its name into "
            "vrrules/policies/sources.py",
            rule,
        )


def _check_rules(spec: FamilySpec, report: _Report) -> None:
    seen_ids: dict[str, int] = {}
    for index, rule in enumerate(spec.rules):
        rule_path: Path = ("rules", index)
        if rule.id in seen_ids:
            report(
                "rule_duplicate_id",
                f"expected unique rule ids, got {rule.id!r} again (first as rule {seen_ids[rule.id] + 1})",
                (*rule_path, "id"),
                "give each rule its own id",
                rule.id,
            )
        seen_ids.setdefault(rule.id, index)
        _check_condition(spec, rule, rule_path, report)
        for key, value in rule.outcome.items():
            if isinstance(value, ParamRef) and value.param not in spec.parameters:
                report(
                    "parameter_unknown",
                    f"expected a parameter declared under 'parameters', got {value.param!r}",
                    (*rule_path, "outcome", key),
                    "declare the parameter with its dated values and reference",
                    rule.id,
                )
    for index, invariant in enumerate(spec.invariants):
        _check_condition(spec, invariant, ("invariants", index), report)


def _check_sources(spec: FamilySpec, case_sources: Mapping[str, str], report: _Report) -> None:
    for name, decl in spec.facts.items():
        if decl.source is None:
            continue
        source_type = case_sources.get(decl.source)
        if source_type is None:
            report(
                "fact_source_unknown",
                f"expected a case-view path ({', '.join(sorted(case_sources))}), got {decl.source!r}",
                ("facts", name, "source"),
                "pick a path from the case view, or drop 'source' and let the caller give the fact",
            )
        elif source_type != decl.type:
            report(
                "fact_source_type",
                f"fact {name!r} is declared {decl.type}, but {decl.source!r} gives {source_type}",
                ("facts", name, "type"),
                "declare the fact with the type its source gives",
            )
    for index, path in enumerate(spec.effective_date):
        if case_sources.get(path) != "date":
            report(
                "effective_date_source_invalid",
                f"expected a date path of the case view, got {path!r}",
                ("effective_date", index),
                "name a date in the case view, e.g. assessment.assessed_on",
            )


def _check_combine(spec: FamilySpec, report: _Report) -> None:
    combine = spec.combine
    if combine is None:
        return
    if spec.hit_policy != "collect":
        report(
            "combine_invalid",
            "expected 'combine' only on a collect family, got it on a first-hit family",
            ("combine",),
            "remove 'combine' or make the family hit_policy: collect",
        )
        return
    for index, rule in enumerate(spec.rules):
        value = rule.outcome.get(combine.key)
        if value not in combine.order:
            report(
                "combine_invalid",
                f"expected outcome.{combine.key} to be one of {combine.order}, got {value!r}",
                ("rules", index, "outcome"),
                f"give every rule an outcome.{combine.key} from combine.order",
                rule.id,
            )


_DERIVED_TYPE = {
    "days_between": {"days", "int"},
    "months_between": {"int"},
    "fraction": {"money"},
    "lookup": {"money"},
    "shift": {"date"},
    "period_end": {"date"},
    "earliest": {"date"},
    "latest": {"date"},
    "table_sum": {"money"},
}
_WHOLE = ("int", "days")


def _new_derivation_problems(spec: FamilySpec, decl: FactDecl, kind: str) -> list[tuple[str, str]]:
    """Type problems of the date and amount derivations (shift, period_end, earliest, latest,
    product, table_sum)."""
    derivation = decl.derive
    assert derivation is not None
    problems: list[tuple[str, str]] = []

    def type_of(name: str) -> str | None:
        found = spec.facts.get(name)
        return found.type if found is not None else None

    moved = derivation.shift or derivation.period_end
    if moved is not None:
        if type_of(moved.date) not in (None, "date"):
            problems.append((f"{kind} moves a date fact, got {moved.date!r}", "name a date fact"))
        for item in [*moved.days, *moved.months]:
            if isinstance(item, str) and type_of(item) not in (None, *_WHOLE):
                problems.append(
                    (f"{kind} moves by whole days or months, got {item!r}", "name an int or days fact")
                )
            param = spec.parameters.get(item.param) if isinstance(item, ParamRef) else None
            if param is not None and param.type not in _WHOLE:
                problems.append((f"{kind} moves by an int or days parameter, got {item!r}", "use one"))
    for name in derivation.earliest or derivation.latest or []:
        if type_of(name) not in (None, "date"):
            problems.append((f"{kind} reads date facts, got {name!r}", "name date facts"))
    if derivation.product:
        money = [i for i in derivation.product if isinstance(i, str) and type_of(i) == "money"]
        money += [
            i.param
            for i in derivation.product
            if isinstance(i, ParamRef)
            and i.param in spec.parameters
            and spec.parameters[i.param].type == "money"
        ]
        if len(money) > 1:
            problems.append(
                (
                    "a product multiplies one amount by whole numbers, got several amounts",
                    "multiply one money fact by int or days facts",
                )
            )
        wanted = "money" if money else decl.type
        if decl.type != wanted or decl.type not in ("money", *_WHOLE):
            problems.append(
                (
                    f"this product gives {wanted}, but the fact is declared {decl.type}",
                    "declare the type the product gives",
                )
            )
        for item in derivation.product:
            if isinstance(item, str) and type_of(item) not in (None, "money", *_WHOLE):
                problems.append(
                    (
                        f"a product reads amounts and whole numbers, got {item!r}",
                        "name money, int or days facts",
                    )
                )
    total = derivation.table_sum
    if total is not None:
        if total.table not in spec.tables:
            problems.append((f"expected a table under 'tables', got {total.table!r}", "declare the table"))
        for name in (total.from_, total.to):
            if type_of(name) not in (None, "date"):
                problems.append((f"'from' and 'to' must be date facts, got {name!r}", "name date facts"))
        if type_of(total.key) not in (None, "text", "enum"):
            problems.append(
                (f"'key' must be a text or enum fact, got {total.key!r}", "name the location fact")
            )
    return problems


def _derivation_problems(spec: FamilySpec, decl: FactDecl, earlier: set[str]) -> list[tuple[str, str]]:
    """(message, hint) for each problem with one derived fact."""
    derivation = decl.derive
    assert derivation is not None
    problems: list[tuple[str, str]] = []
    for name in derivation.inputs:
        if name not in earlier:
            problems.append((f"expected a fact declared before it, got {name!r}", "declare the input above"))
    for param in derivation.params:
        if param not in spec.parameters:
            problems.append((f"expected a declared parameter, got {param!r}", "declare the parameter"))
    kind = next(k for k in DERIVATIONS if getattr(derivation, k))
    if kind in ("shift", "period_end", "earliest", "latest", "product", "table_sum"):
        problems.extend(_new_derivation_problems(spec, decl, kind))
    allowed = _DERIVED_TYPE.get(kind, {"money", "int", "days"})
    if decl.type not in allowed:
        problems.append(
            (
                f"a {kind} gives {' or '.join(sorted(allowed))}, but the fact is declared {decl.type}",
                "declare the fact with the type the derivation gives",
            )
        )
    inputs = [spec.facts[i] for i in derivation.inputs if i in spec.facts]
    if kind in ("days_between", "months_between") and any(i.type != "date" for i in inputs):
        problems.append((f"{kind} reads two date facts", "name two date facts"))
    if kind in ("sum", "difference") and any(i.type != decl.type for i in inputs):
        problems.append(
            (f"{kind} reads facts of its own type ({decl.type})", "add money to money, days to days")
        )
    if kind == "fraction" and any(i.type != "money" for i in inputs):
        problems.append(("a fraction is taken of a money fact", "name a money fact"))
    lookup = derivation.lookup
    if lookup is not None:
        if lookup.table not in spec.tables:
            problems.append((f"expected a table under 'tables', got {lookup.table!r}", "declare the table"))
        if lookup.date in spec.facts and spec.facts[lookup.date].type != "date":
            problems.append((f"'date' must be a date fact, got {lookup.date!r}", "name a date fact"))
        if lookup.key in spec.facts and spec.facts[lookup.key].type not in ("text", "enum"):
            problems.append(
                (f"'key' must be a text or enum fact, got {lookup.key!r}", "name the location fact")
            )
    return problems


def _check_derivations(spec: FamilySpec, report: _Report) -> None:
    earlier: set[str] = set()
    for name, decl in spec.facts.items():
        if decl.default is not None:
            try:
                recorded_facts({name: decl}, {name: decl.default}, "default")
            except FactsInvalidError as error:
                report(
                    "fact_default_invalid",
                    f"fact {name!r}: the default {decl.default!r} does not fit: {error.message}",
                    ("facts", name, "default"),
                    "give a default of the fact's type",
                )
        if decl.derive is not None:
            for message, hint in _derivation_problems(spec, decl, earlier):
                report(
                    "derivation_invalid", f"derived fact {name!r}: {message}", ("facts", name, "derive"), hint
                )
        earlier.add(name)


def _check_dated_values(spec: FamilySpec, report: _Report) -> None:
    """Overlapping table periods are errors; gaps in dated values are reported as warnings."""
    for name, table in spec.tables.items():
        periods = sorted(table.periods, key=lambda p: p.from_)
        for period in periods:
            if period.until < period.from_:
                report(
                    "table_periods_invalid",
                    f"table {name!r}: a period ends ({period.until}) before it starts ({period.from_})",
                    ("tables", name, "periods"),
                    "correct the dates",
                )
        for earlier, later in itertools.pairwise(periods):
            if later.from_ <= earlier.until:
                report(
                    "table_periods_invalid",
                    f"table {name!r}: expected periods that do not overlap, got "
                    f"{earlier.from_}..{earlier.until} and {later.from_}..{later.until}",
                    ("tables", name, "periods"),
                    "end the earlier period the day before the later one starts",
                )
            elif (later.from_ - earlier.until).days > 1:
                report(
                    "table_period_gap",
                    f"table {name!r}: no rates from {earlier.until} to {later.from_} (exclusive); "
                    "decisions in that gap report parameter_missing",
                    ("tables", name, "periods"),
                    "add the published period, or leave the gap if no rates are published",
                    severity="warning",
                )
    for name, param in spec.parameters.items():
        dates = list(param.values)
        for when, following in itertools.pairwise(dates):
            if param.values[when] is None:
                report(
                    "parameter_value_gap",
                    f"parameter {name!r} has no value from {when} until {following}; decisions on those "
                    "dates report parameter_missing",
                    ("parameters", name, "values"),
                    "add the published value for that period, or leave the gap if none is published",
                    severity="warning",
                )
        if dates and dates[0] > spec.effective_from:
            report(
                "parameter_value_gap",
                f"parameter {name!r} starts on {dates[0]}, after the family comes into force "
                f"({spec.effective_from}); decisions before then report parameter_missing",
                ("parameters", name, "values"),
                "add the value in force from the family's start, or start the family later",
                severity="warning",
            )


_QUANTITIES = {"int": "a whole number", "days": "a number of days", "money": "an amount"}


def _negative(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool) and value < 0


def _check_signs(spec: FamilySpec, report: _Report) -> None:
    """Counts, durations and amounts are never negative: ``tier1_max_weeks: -4`` is a typo, and a
    date is moved back with ``shift``'s ``minus: true``, not by a negative parameter."""
    for name, param in spec.parameters.items():
        kind = _QUANTITIES.get(param.type)
        if kind is None:
            continue
        unit = f" (in {param.unit})" if param.unit else ""
        for when, value in param.values.items():
            if _negative(value):
                report(
                    "parameter_value_invalid",
                    f"parameter {name!r} is {param.type}{unit}: expected {kind} from 0 up, got {value} "
                    f"(value from {when.isoformat()}); a count, a duration or an amount is never negative",
                    ("parameters", name, "values", when.isoformat()),
                    "write the value as the source publishes it; to count back from a date, "
                    "derive it with shift and minus: true",
                )
    for name, table in spec.tables.items():
        for index, period in enumerate(table.periods):
            for row_index, row in enumerate(period.rows):
                for column in ("lodging", "meals"):
                    value = getattr(row, column)
                    if _negative(value):
                        report(
                            "parameter_value_invalid",
                            f"table {name!r} (period from {period.from_.isoformat()}), {row.location!r}: "
                            f"expected a {column} rate from 0 up, got {value}",
                            ("tables", name, "periods", index, "rows", row_index, column),
                            "write the rate as the source publishes it",
                        )


def _money_not_as_written(written: Any) -> str | None:
    """Why money written so is not as written (``"1e3"`` and ``"7_6"``, which Decimal reads as
    1000 and 76), in the words event payloads and facts are refused with; None when it is (a
    whole number written plainly, or text in the one form), or when it is no text at all (the
    models refuse floats; the YAML reader numbers written in other forms)."""
    if not isinstance(written, str):
        return None
    try:
        money_as_written(written)
    except ValueError as error:
        return str(error)
    return None


def _written_money(spec: FamilySpec, document: YamlDocument) -> Iterator[tuple[Path, Any, str]]:
    """Every amount a spec writes itself (a money parameter's values, a table's rates, a money
    fact's default), with its path, as written, and what it is."""
    for name, param in spec.parameters.items():
        if param.type == "money":
            _, values = document.value_at(("parameters", name, "values"))
            for when, written in (values if isinstance(values, dict) else {}).items():
                yield ("parameters", name, "values", when), written, f"parameter {name!r} (value from {when})"
    for name, table in spec.tables.items():
        for index, period in enumerate(table.periods):
            for row_index, row in enumerate(period.rows):
                for column in ("lodging", "meals"):
                    at: Path = ("tables", name, "periods", index, "rows", row_index, column)
                    yield (
                        at,
                        document.value_at(at)[1],
                        f"table {name!r}, the {column} rate of {row.location!r}",
                    )
    for name, decl in spec.facts.items():
        if decl.type == "money" and decl.default is not None:
            at = ("facts", name, "default")
            yield at, document.value_at(at)[1], f"the default of fact {name!r}"


def _check_money_as_written(spec: FamilySpec, report: _Report) -> None:
    """A spec's amounts count as written, as payloads' and facts' do: the check stage, so that a
    release stored before (which decided with ``"1e3"`` read as 1000) still replays."""
    for path, written, what in _written_money(spec, report.document):
        problem = _money_not_as_written(written)
        if problem is not None:
            report("money_invalid", f"{what}: {problem}", path, _AS_WRITTEN)


def _month_problems(months: list[int]) -> str | None:
    if not months:
        return "expected at least one calendar month, got months: [] (a row that never applies)"
    wrong = [m for m in months if isinstance(m, bool) or not 1 <= m <= 12]
    if wrong:
        return f"expected calendar months 1 to 12, got {', '.join(str(m) for m in wrong)} in months {months}"
    twice = sorted({m for m in months if months.count(m) > 1})
    if twice:
        return f"expected each month once, got {', '.join(map(str, twice))} twice in months {months}"
    return None


def _check_table_rows(spec: FamilySpec, report: _Report) -> None:
    """A rate table's rows: months 1 to 12, and each location's months in one row only. The
    lookup takes the first row that matches, so a second row for King in May, or a second
    all-year King row, would be passed over without a word (``vrrules rates`` refuses the same
    in a rate file)."""
    for name, table in spec.tables.items():
        for index, period in enumerate(table.periods):
            rows: Path = ("tables", name, "periods", index, "rows")
            where = f"table {name!r} (period from {period.from_.isoformat()})"
            taken: dict[str, dict[int, int]] = {}  # location: month: the row that has it
            for row_index, row in enumerate(period.rows):
                at = (*rows, row_index)
                line = report.document.line_of(at)
                months = row.months
                if months is not None:
                    problem = _month_problems(months)
                    if problem is not None:
                        report(
                            "rate_table_invalid",
                            f"{where}, the row for {row.location!r} (line {line}): {problem}",
                            (*at, "months"),
                            "list the calendar months the rate applies in, 1 (January) to 12 "
                            "(December), each once; leave months out for a rate that applies all year",
                        )
                        continue
                covered = taken.setdefault(row.location, {})
                clash = sorted({m: covered[m] for m in (months or range(1, 13)) if m in covered}.items())
                if clash:
                    first = clash[0][1]
                    first_line = report.document.line_of((*rows, first))
                    loc = row.location
                    what = (
                        f"months {[m for m, _ in clash]} for {loc!r} again"
                        if months is not None
                        else f"a second all-year row for {loc!r}"
                        if len(clash) == 12 and len({r for _, r in clash}) == 1
                        else f"an all-year row for {loc!r}, though other rows give it months"
                    )
                    report(
                        "rate_table_invalid",
                        f"{where}: expected each month of a location in one row only, got {what} "
                        f"(line {line}); the row on line {first_line} has "
                        f"{'them' if len(clash) > 1 else 'it'} already, and the lookup takes the "
                        "first row listed, passing this one over without a word",
                        at,
                        f"keep one row for {row.location!r} per month: remove the duplicate, or "
                        "give each row the months it applies in, with no month in two rows",
                    )
                for month in months or range(1, 13):
                    covered.setdefault(month, row_index)
            fallback = fallback_problem(period)
            if fallback is not None:
                report(
                    "rate_table_invalid",
                    f"{where}: {fallback}",
                    ("tables", name, "periods", index, "all_other_locations"),
                    "name the row whose rates apply to locations the table does not list, or leave "
                    "all_other_locations out",
                )


def _check_period_and_sizes(spec: FamilySpec, report: _Report) -> None:
    if spec.effective_until is not None and spec.effective_until < spec.effective_from:
        report(
            "effective_period_invalid",
            f"expected effective_until on or after effective_from ({spec.effective_from}), "
            f"got {spec.effective_until}",
            ("effective_until",),
            "correct one of the two dates",
        )
    if len(spec.rules) > MAX_RULES_PER_RULESET:
        report(
            "ruleset_too_large",
            f"expected at most {MAX_RULES_PER_RULESET} rules in one family, got {len(spec.rules)}",
            ("rules",),
            "split the family; durable_rules hangs compiling 512 rules that share a test",
        )
    properties = engine_key_count(spec.facts)
    if properties > MAX_ENGINE_PROPERTIES:
        report(
            "facts_too_many",
            f"expected at most {MAX_ENGINE_PROPERTIES} engine properties, got {properties} "
            "(each set code counts as one)",
            ("facts",),
            "split the family or shorten code lists",
        )


def check_spec(
    spec: FamilySpec, document: YamlDocument, file: str, case_schema: Mapping[str, str]
) -> list[Diagnostic]:
    """Every problem with a typed spec, its ``source:`` paths checked against ``case_schema``."""
    report = _Report(document, file)
    _check_texts(spec, report)
    _check_references(spec, report)
    _check_written_values(spec, report)
    _check_money_as_written(spec, report)
    _check_rules(spec, report)
    _check_derivations(spec, report)
    _check_combine(spec, report)
    _check_dated_values(spec, report)
    _check_signs(spec, report)
    _check_table_rows(spec, report)
    _check_sources(spec, case_schema, report)
    _check_period_and_sizes(spec, report)
    return report.found
