"""Pydantic models of the spec format: families, facts, parameters, rules, conditions.

A spec file describes one version of one policy family. Its layout follows OpenFisca's
parameters: values keyed by ISO effective date (``null`` ends a value), and a
``reference`` to the source clause on the family, on every parameter and on every rule.
Conditions are data (a small tree of ``all`` / ``any`` / ``not`` and comparisons); nothing
in a spec is ever evaluated as code.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from vrrules.policies.sources import SOURCE_FILES
from vrrules.policies.values import OperandError, parse_iso_date, parse_money, typed_scalar

__all__ = [
    "COMPARISON_OPERATORS",
    "LIST_OPERATORS",
    "AllOf",
    "AnyOf",
    "Combine",
    "Comparison",
    "Condition",
    "Derivation",
    "FactDecl",
    "FactRef",
    "FactType",
    "FamilySpec",
    "FractionOf",
    "Invariant",
    "Lookup",
    "NotOf",
    "ParamRef",
    "Parameter",
    "Reading",
    "Reference",
    "Rule",
    "Table",
    "TablePeriod",
    "TableRow",
    "parse_iso_date",
    "parse_money",
]

SLUG = r"^[a-z][a-z0-9_-]*$"
IDENT = r"^[a-z][a-z0-9_]*$"

FactType = Literal["bool", "int", "text", "enum", "set", "money", "date", "days"]


IsoDate = Annotated[date, BeforeValidator(parse_iso_date)]
Money = Annotated[Decimal, BeforeValidator(parse_money)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class Reference(_Strict):
    """Where a family, parameter or rule comes from in the source documents."""

    document: str = Field(min_length=1)
    section: str = Field(min_length=1)
    url: str | None = None
    seed: str | None = Field(
        default=None,
        description="file name of the source under shared/seeds or shared/reference",
        # the check stage refuses another name (reference_seed_unknown); the schema lists them
        json_schema_extra={"enum": [*SOURCE_FILES, None]},
    )
    note: str | None = None


class Reading(_Strict):
    """The project's reading where a source is silent or open to two readings."""

    id: str = Field(pattern=SLUG)
    text: str = Field(min_length=1)


class ParamRef(_Strict):
    """A reference to a parameter, resolved on the decision's effective date at compile time."""

    param: str = Field(pattern=IDENT)


class FactRef(_Strict):
    """A reference to a fact's value (in an outcome: reported, not decided on)."""

    fact: str = Field(pattern=IDENT)


DerivationInput = str | ParamRef


DERIVATIONS = (
    "sum",
    "difference",
    "days_between",
    "months_between",
    "fraction",
    "lookup",
    "shift",
    "period_end",
    "earliest",
    "latest",
    "product",
    "table_sum",
)


class FractionOf(_Strict):
    """A fraction of a money fact, rounded to the cent in a stated direction."""

    of: str = Field(pattern=IDENT)
    numerator: int = Field(ge=1)
    denominator: int = Field(ge=1)
    rounding: Literal["down", "half_up", "up"]


class Lookup(_Strict):
    """A value read from one of the family's tables by a key fact on a date fact."""

    table: str = Field(pattern=IDENT)
    key: str = Field(pattern=IDENT, description="the fact matched against the table's locations")
    date: str = Field(pattern=IDENT, description="the date fact that picks the period and month")
    column: Literal["lodging", "meals"]


class Shift(_Strict):
    """A date moved by whole days and calendar months (``minus``: back instead of forward).

    Months are added first, keeping the day of the month; a month without that day ends on
    its last day (31 January plus one month is 28 or 29 February), as months are counted
    everywhere else. Then days are added."""

    date: str = Field(pattern=IDENT)
    days: list[DerivationInput | int] = Field(default_factory=list)
    months: list[DerivationInput | int] = Field(default_factory=list)
    minus: bool = False

    @model_validator(mode="after")
    def _moves(self) -> Shift:
        if not self.days and not self.months:
            raise PydanticCustomError("derivation_invalid", "expected days or months to move the date by", {})
        return self


class TableSum(_Strict):
    """The sum of a table's daily rate over each day from one date to another, both included
    (a rate that changes by month or period is taken day by day)."""

    table: str = Field(pattern=IDENT)
    key: str = Field(pattern=IDENT, description="the fact matched against the table's locations")
    from_: str = Field(alias="from", pattern=IDENT)
    to: str = Field(pattern=IDENT)
    column: Literal["lodging", "meals", "both"]


class Derivation(_Strict):
    """How a derived fact is computed from facts declared before it: exactly one operation.

    Derivations are arithmetic and look-ups, never decisions: sums of amounts, the
    difference of two, days between two dates, a stated fraction with stated rounding,
    and a table look-up. They run before the engine, exactly (Decimal and whole days),
    and their results are recorded with the decision's facts.
    """

    sum: list[DerivationInput] | None = Field(default=None, min_length=1)
    difference: list[DerivationInput] | None = Field(default=None, min_length=2, max_length=2)
    days_between: list[str] | None = Field(default=None, min_length=2, max_length=2)
    months_between: list[str] | None = Field(
        default=None, min_length=2, max_length=2, description="whole calendar months from the first date"
    )
    inclusive: bool = Field(default=False, description="days_between: count both end days")
    fraction: FractionOf | None = None
    lookup: Lookup | None = None
    shift: Shift | None = Field(default=None, description="a date plus or minus days and months")
    period_end: Shift | None = Field(
        default=None, description="the last day of a period of days and months starting on a date"
    )
    earliest: list[str] | None = Field(default=None, min_length=1, description="the earliest known date")
    latest: list[str] | None = Field(default=None, min_length=1, description="the latest known date")
    product: list[DerivationInput] | None = Field(
        default=None, min_length=2, description="an amount times whole numbers"
    )
    table_sum: TableSum | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Derivation:
        used = [k for k in DERIVATIONS if getattr(self, k)]
        if len(used) != 1:
            raise PydanticCustomError(
                "derivation_invalid",
                "expected exactly one of {names}; got {got}",
                {"names": ", ".join(DERIVATIONS), "got": used or "none"},
            )
        return self

    @property
    def params(self) -> list[str]:
        """The parameters this derivation reads."""
        items: list[Any] = [*(self.sum or self.difference or self.product or [])]
        moved = self.shift or self.period_end
        if moved is not None:
            items += [*moved.days, *moved.months]
        return [i.param for i in items if isinstance(i, ParamRef)]

    @property
    def inputs(self) -> list[str]:
        """The facts this derivation reads (parameters are not facts)."""
        moved = self.shift or self.period_end
        if moved is not None:
            return [moved.date, *(i for i in [*moved.days, *moved.months] if isinstance(i, str))]
        if self.earliest or self.latest:
            return list(self.earliest or self.latest or [])
        if self.product:
            return [i for i in self.product if isinstance(i, str)]
        if self.table_sum is not None:
            return [self.table_sum.key, self.table_sum.from_, self.table_sum.to]
        if self.sum or self.difference:
            return [i for i in (self.sum or self.difference or []) if isinstance(i, str)]
        if self.days_between or self.months_between:
            return list(self.days_between or self.months_between or [])
        if self.fraction:
            return [self.fraction.of]
        assert self.lookup is not None
        return [self.lookup.key, self.lookup.date]


class FactDecl(_Strict):
    """A fact a family reads: its type, meaning and where it comes from in the case."""

    type: FactType
    description: str = Field(min_length=1)
    values: list[str] | None = Field(default=None, description="the allowed codes, for enum and set facts")
    source: str | None = Field(
        default=None,
        description="path in the case view this fact is read from; absent: the caller supplies it",
    )
    derive: Derivation | None = Field(
        default=None, description="computed from earlier facts instead of being given"
    )
    default: bool | int | str | None = Field(
        default=None, description='the value of the fact when it is not given (e.g. a cost item: "0.00")'
    )

    @model_validator(mode="after")
    def _values_match_type(self) -> FactDecl:
        if self.source is not None and self.derive is not None:
            raise PydanticCustomError(
                "derivation_invalid", "a fact is either read from a 'source' or derived, not both", {}
            )
        if self.type in ("enum", "set"):
            if not self.values:
                raise PydanticCustomError(
                    "fact_values_missing",
                    "expected a non-empty 'values' list of codes for an {type} fact",
                    {"type": self.type},
                )
            for code in self.values:
                if not re.match(IDENT, code):
                    raise PydanticCustomError(
                        "fact_value_invalid",
                        "expected codes in lower_snake_case, got {got}",
                        {"got": repr(code)},
                    )
            if len(set(self.values)) != len(self.values):
                raise PydanticCustomError("fact_value_invalid", "expected each code once in 'values'", {})
        elif self.values is not None:
            raise PydanticCustomError(
                "fact_values_unexpected",
                "'values' only belongs on enum and set facts, not on a {type} fact",
                {"type": self.type},
            )
        return self


# A parameter value, typed by the parameter's declared type when the spec is loaded:
# money is Decimal, int and days are int, codes a list of codes; None ends a value.
ParamValue = Decimal | bool | int | str | list[str] | None
ParamType = Literal["int", "money", "days", "text", "bool", "codes"]


def typed_parameter_value(name: str, param_type: str, when: Any, value: Any) -> ParamValue:
    """One dated value of parameter ``name`` typed by its declared type (the load stage's job)."""
    if value is None:
        return None
    if param_type == "money":
        return parse_money(value)  # money_invalid says what is wrong
    if param_type == "codes" or isinstance(value, list):
        if param_type != "codes" or not isinstance(value, list) or not value:
            wanted = "a non-empty list of codes" if param_type == "codes" else "a single value"
            raise PydanticCustomError(
                "parameter_value_invalid",
                "parameter {name} is {type}: expected {wanted}, got {got} (value from {when})",
                {
                    "name": repr(name),
                    "type": param_type,
                    "wanted": wanted,
                    "got": repr(value),
                    "when": str(when),
                },
            )
        if not all(isinstance(code, str) for code in value):
            raise PydanticCustomError(
                "parameter_value_invalid",
                "parameter {name} is codes: expected codes as text, got {got} (value from {when})",
                {"name": repr(name), "got": repr(value), "when": str(when)},
            )
        return list(value)
    try:
        typed: ParamValue = typed_scalar("int" if param_type == "days" else param_type, value)
    except OperandError as exc:
        raise PydanticCustomError(
            "parameter_value_invalid",
            "parameter {name} is {type}: {problem} (value from {when})",
            {"name": repr(name), "type": param_type, "problem": str(exc), "when": str(when)},
        ) from None
    return typed


class Parameter(_Strict):
    """An effective-dated value: amounts, day counts, codes. ``null`` ends a value.

    Values are typed by ``type`` when the spec is loaded (see :class:`FamilySpec`), so every
    later stage reads ``Decimal`` money and ``int`` days, never text.
    """

    type: ParamType
    description: str = Field(min_length=1)
    unit: str | None = None
    reference: Reference
    values: dict[IsoDate, ParamValue] = Field(default_factory=dict)
    unpublished: str | None = Field(
        default=None,
        description="why no value is given: the sources publish none, so none is invented",
    )

    @model_validator(mode="after")
    def _values_or_why_not(self) -> Parameter:
        if not self.values and not self.unpublished:
            raise PydanticCustomError(
                "parameter_values_missing",
                "expected at least one dated value, or 'unpublished' saying why the sources give none",
                {},
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _typed_values(cls, data: Any) -> Any:
        if isinstance(data, dict) and _NAME_KEY in data:
            data = dict(data)
            return _typed_parameter(data.pop(_NAME_KEY), data)
        return _typed_parameter(None, data)

    @field_validator("values")
    @classmethod
    def _sorted(cls, values: dict[date, ParamValue]) -> dict[date, ParamValue]:
        return dict(sorted(values.items()))


_PARAM_TYPES = ("int", "money", "days", "text", "bool", "codes")
_NAME_KEY = "\x00name"  # never a YAML key a spec can write (keys are checked identifiers)


def _typed_parameter(name: str | None, data: Any) -> Any:
    if not (
        isinstance(data, dict) and data.get("type") in _PARAM_TYPES and isinstance(data.get("values"), dict)
    ):
        return data  # the model reports what is wrong with its shape
    label = name if name is not None else "value"
    values = {when: typed_parameter_value(label, data["type"], when, v) for when, v in data["values"].items()}
    return {**data, "values": values}


Scalar = bool | int | str
Operand = Annotated[ParamRef, Tag("<param>")] | Annotated[Scalar, Tag("<scalar>")]


def _operand_kind(value: Any) -> str:
    return "<param>" if isinstance(value, dict | ParamRef) else "<scalar>"


OperandValue = Annotated[Operand, Discriminator(_operand_kind)]

# operators whose operand is a list of values, or a parameter of type codes
LIST_OPERATORS = ("in", "not_in", "contains_any", "contains_all", "contains_none")

COMPARISON_OPERATORS: dict[str, str] = {
    "equals": "the fact equals the value",
    "not_equals": "the fact is present and differs from the value",
    "lt": "the fact is less than the value",
    "lte": "the fact is at most the value",
    "gt": "the fact is greater than the value",
    "gte": "the fact is at least the value",
    "in": "the fact is one of the listed values",
    "not_in": "the fact is present and none of the listed values",
    "contains": "the set fact holds the code",
    "contains_any": "the set fact holds at least one of the codes",
    "contains_all": "the set fact holds every one of the codes",
    "contains_none": "the set fact is present and holds none of the codes",
    "count_gte": "the set fact holds at least this many codes",
    "count_lte": "the set fact holds at most this many codes",
    "present": "true: the fact is known; false: the fact is unknown",
}


_ORDERED_VALUE = 'a whole number, a date YYYY-MM-DD, money as quoted text ("1234.50")'
_ONE_VALUE = f"true or false, a code or text, {_ORDERED_VALUE}"
# what each operator takes, in the words a refusal uses (the fact's own type is the check stage's)
OPERAND_EXPECTED: dict[str, str] = {
    "equals": f"one value ({_ONE_VALUE}) or {{param: name}}",
    "not_equals": f"one value ({_ONE_VALUE}) or {{param: name}}",
    "lt": f"one value to order by ({_ORDERED_VALUE}) or {{param: name}}",
    "lte": f"one value to order by ({_ORDERED_VALUE}) or {{param: name}}",
    "gt": f"one value to order by ({_ORDERED_VALUE}) or {{param: name}}",
    "gte": f"one value to order by ({_ORDERED_VALUE}) or {{param: name}}",
    "in": "a list of values such as [a, b] or {param: name} of a codes parameter",
    "not_in": "a list of values such as [a, b] or {param: name} of a codes parameter",
    "contains": "one code (text)",
    "contains_any": "a list of codes such as [a, b] or {param: name} of a codes parameter",
    "contains_all": "a list of codes such as [a, b] or {param: name} of a codes parameter",
    "contains_none": "a list of codes such as [a, b] or {param: name} of a codes parameter",
    "count_gte": "a whole number (a count of codes, from 0 up) or {param: name}",
    "count_lte": "a whole number (a count of codes, from 0 up) or {param: name}",
    "present": "true or false",
}


def operand_refusal(op: str, value: Any) -> str:
    """Why ``value`` is not an operand of ``op``: what the operator takes and what was got."""
    got = repr(value)
    if len(got) > 80:
        got = got[:77] + "..."
    message = f"expected {OPERAND_EXPECTED[op]} for {op}, got {got}"
    listed = op in LIST_OPERATORS
    if listed and isinstance(value, list):
        wanted = str if op.startswith("contains") else (bool, int, str, dict)
        bad = next((i for i, item in enumerate(value) if not isinstance(item, wanted)), None)
        if bad is not None:
            value = value[bad]
            message += f" (item {bad + 1}: {value!r})"
    if isinstance(value, dict) and "param" in value and op not in ("contains", "present"):
        message += "; a parameter is written {param: name}, its name in lower_snake_case, nothing beside it"
    elif isinstance(value, float) and op in _MONEY_OPERATORS:
        message += '; money is quoted text such as "1234.50" (a float cannot hold cents exactly)'
    elif isinstance(value, list) and op == "contains":
        message += "; to test several codes use contains_any or contains_all"
    elif isinstance(value, list) and not listed:
        message += "; to test against several values use in"
    return message


_MONEY_OPERATORS = ("equals", "not_equals", "lt", "lte", "gt", "gte", "in", "not_in")


class Comparison(_Strict):
    """One test on one fact; exactly one operator key.

    Each operator's value is refused in the operator's own words (``count_gte: 1.5``: a whole
    number was expected), never in the words of one member of the union pydantic tried last.
    """

    fact: str = Field(pattern=IDENT)
    equals: OperandValue | None = None
    not_equals: OperandValue | None = None
    lt: OperandValue | None = None
    lte: OperandValue | None = None
    gt: OperandValue | None = None
    gte: OperandValue | None = None
    in_: list[OperandValue] | ParamRef | None = Field(default=None, alias="in")
    not_in: list[OperandValue] | ParamRef | None = Field(default=None)
    contains: str | None = None
    contains_any: list[str] | ParamRef | None = Field(default=None)
    contains_all: list[str] | ParamRef | None = Field(default=None)
    contains_none: list[str] | ParamRef | None = Field(default=None)
    count_gte: OperandValue | None = None
    count_lte: OperandValue | None = None
    present: bool | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @field_validator(*(("in_" if op == "in" else op) for op in COMPARISON_OPERATORS), mode="wrap")
    @classmethod
    def _operand_of_its_operator(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        try:
            return handler(value)
        except ValidationError:
            op = "in" if info.field_name == "in_" else str(info.field_name)
            raise PydanticCustomError(
                "condition_value_mismatch", "{message}", {"message": operand_refusal(op, value)}
            ) from None

    @model_validator(mode="after")
    def _exactly_one_operator(self) -> Comparison:
        for op in LIST_OPERATORS:
            value = getattr(self, "in_" if op == "in" else op)
            if isinstance(value, list) and not value:
                raise PydanticCustomError(
                    "condition_value_mismatch",
                    "expected at least one value for {op}, got an empty list, which no fact "
                    "matches; list the codes meant, or remove the test",
                    {"op": op},
                )
        used = self.operators_used()
        given_null = [
            op for op in COMPARISON_OPERATORS if ("in_" if op == "in" else op) in self.model_fields_set
        ]
        if not used and given_null:
            raise PydanticCustomError(
                "condition_value_mismatch",
                "expected {expected} for {op}, got null (an empty value)",
                {"expected": OPERAND_EXPECTED[given_null[0]], "op": given_null[0]},
            )
        if len(used) != 1:
            raise PydanticCustomError(
                "condition_operator_count",
                "expected exactly one operator beside 'fact' (one of {known}), got {got}",
                {"known": ", ".join(COMPARISON_OPERATORS), "got": used or "none"},
            )
        return self

    def operators_used(self) -> list[str]:
        return [op for op in COMPARISON_OPERATORS if getattr(self, "in_" if op == "in" else op) is not None]

    @property
    def operator(self) -> str:
        return self.operators_used()[0]

    @property
    def operand(self) -> Any:
        return getattr(self, "in_" if self.operator == "in" else self.operator)


class AllOf(_Strict):
    all: list[Condition] = Field(min_length=1)


class AnyOf(_Strict):
    any: list[Condition] = Field(min_length=1)


class NotOf(_Strict):
    not_: Condition = Field(alias="not")
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _condition_kind(value: Any) -> str:
    if isinstance(value, AllOf):
        return "<all>"
    if isinstance(value, AnyOf):
        return "<any>"
    if isinstance(value, NotOf):
        return "<not>"
    if isinstance(value, dict):
        for key in ("all", "any", "not"):
            if key in value:
                return f"<{key}>"
    return "<fact>"


def _condition_is_data(value: Any) -> Any:
    if not isinstance(value, dict | AllOf | AnyOf | NotOf | Comparison):
        raise PydanticCustomError(
            "condition_not_data",
            "expected a condition as data (a mapping with fact, all, any or not), got {got}; "
            "conditions are never evaluated as code",
            {"got": repr(value)[:80]},
        )
    return value


Condition = Annotated[
    Annotated[AllOf, Tag("<all>")]
    | Annotated[AnyOf, Tag("<any>")]
    | Annotated[NotOf, Tag("<not>")]
    | Annotated[Comparison, Tag("<fact>")],
    Discriminator(_condition_kind),
    BeforeValidator(_condition_is_data),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()


def _outcome_kind(value: Any) -> str:
    if isinstance(value, FactRef) or (isinstance(value, dict) and "fact" in value):
        return "<fact>"
    return _operand_kind(value)


OutcomeValue = Annotated[
    Annotated[ParamRef, Tag("<param>")]
    | Annotated[FactRef, Tag("<fact>")]
    | Annotated[Scalar, Tag("<scalar>")],
    Discriminator(_outcome_kind),
]


class Rule(_Strict):
    """A rule: when its condition holds, it decides ``outcome`` and says ``reason``."""

    id: str = Field(pattern=SLUG, max_length=80)
    when: Condition
    outcome: dict[str, OutcomeValue] = Field(min_length=1)
    reason: str = Field(min_length=1)
    fix: str | None = Field(default=None, description="what would change the outcome, for refusals")
    reference: Reference


class Invariant(_Strict):
    """A property no decision of the family may ever break; checked by generated tests."""

    id: str = Field(pattern=SLUG, max_length=80)
    description: str = Field(min_length=1)
    when: Condition
    never: dict[str, Scalar] | None = Field(
        default=None, description="outcome values that must not all hold when 'when' holds"
    )
    never_finding: str | None = Field(
        default=None, description="a collect family's finding code that must not appear"
    )

    @model_validator(mode="after")
    def _one_kind_of_never(self) -> Invariant:
        if (self.never is None) == (self.never_finding is None):
            raise PydanticCustomError(
                "invariant_invalid", "expected exactly one of 'never' or 'never_finding'", {}
            )
        return self


class TableRow(_Strict):
    location: str = Field(min_length=1)
    lodging: Money
    meals: Money
    months: list[int] | None = Field(
        default=None, description="calendar months (1-12) this row applies in; absent: all year"
    )


class TablePeriod(_Strict):
    """The rows in force from one date to another, with their source."""

    from_: IsoDate = Field(alias="from")
    until: IsoDate
    reference: Reference
    all_other_locations: str | None = Field(
        default=None, description="the row that applies to a location not listed in this period"
    )
    rows: list[TableRow] = Field(min_length=1)
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Table(_Strict):
    """An effective-dated rate table (e.g. per diem by location)."""

    description: str = Field(min_length=1)
    periods: list[TablePeriod] = Field(min_length=1)


class Combine(_Strict):
    """How a collect family sums its findings up: the most severe value of one outcome key."""

    key: str = Field(pattern=IDENT)
    order: list[str] = Field(min_length=1, description="values from most to least severe")


class FamilySpec(_Strict):
    """One version of one policy family."""

    family: str = Field(pattern=SLUG, max_length=60)
    version: str = Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]*$", max_length=40)
    title: str = Field(min_length=1)
    summary: str | None = None
    effective_from: IsoDate
    effective_until: IsoDate | None = Field(
        default=None, description="last day this version is in force; absent: open-ended"
    )
    hit_policy: Literal["first", "collect", "unique", "any"] = Field(
        description="first: the first rule that applies decides; collect: every rule that applies "
        "adds a finding; unique: at most one rule may apply; any: rules that apply together must "
        "agree (DMN's hit policies)"
    )
    always_decides: bool = Field(
        default=False,
        description="some rule must apply to every combination of facts; a gap is an error in check",
    )
    effective_date: list[str] = Field(
        default_factory=list,
        description="case-view paths of the date that selects the version in force; the first known wins",
    )
    reference: Reference
    readings: list[Reading] = Field(default_factory=list)
    facts: dict[str, FactDecl] = Field(min_length=1)
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    rules: list[Rule] = Field(min_length=1)
    no_rule_outcome: dict[str, Scalar] | None = Field(
        default=None, description="recorded when no rule applies (still reported as such)"
    )
    tables: dict[str, Table] = Field(default_factory=dict)
    invariants: list[Invariant] = Field(default_factory=list)
    combine: Combine | None = Field(
        default=None, description="collect families: the summary key and its severity order"
    )

    @field_validator("parameters", mode="before")
    @classmethod
    def _named_parameters(cls, value: Any) -> Any:
        # each parameter's name travels into its own validation, for the messages of the load stage
        if isinstance(value, dict):
            return {
                name: {**d, _NAME_KEY: str(name)} if isinstance(d, dict) else d for name, d in value.items()
            }
        return value

    @field_validator("facts", "parameters")
    @classmethod
    def _identifier_keys(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key in value:
            if not re.match(IDENT, key):
                raise PydanticCustomError(
                    "name_invalid",
                    "expected names in lower_snake_case, got {got}",
                    {"got": repr(key)},
                )
        return value
