"""The resolve stage: the parameter values in force on a date, typed, never extrapolated.

A family's constants change only on the dates its parameters are given values, so the days
between two such dates form periods with the same values. :class:`ParameterTimeline` finds
a day's period by bisection and resolves each period once; derivation (parameters inside
``derive``) and lowering (parameters in conditions and outcomes) read the same cached
values, so they cannot disagree. A day on which a used parameter has no value raises
``parameter_missing`` naming every such parameter and why.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Mapping
from datetime import date
from types import MappingProxyType
from typing import Any

from vrrules.errors import ParameterMissingError
from vrrules.policies.conditions import operand_items, walk
from vrrules.policies.model import FamilySpec, Parameter, ParamRef, ParamValue

__all__ = ["ParameterTimeline", "param_refs", "parameter_periods", "resolve_parameters"]


def param_refs(spec: FamilySpec) -> list[str]:
    """The parameters a family's rules use, in conditions, outcomes and derivations."""
    names: list[str] = []
    for rule in spec.rules:
        for comparison, _ in walk(rule.when, ()):
            names.extend(i.param for i in operand_items(comparison) if isinstance(i, ParamRef))
        names.extend(v.param for v in rule.outcome.values() if isinstance(v, ParamRef))
    for decl in spec.facts.values():
        derivation = decl.derive
        if derivation is not None:
            names.extend(derivation.params)
    return sorted(set(names))


def _why_missing(name: str, param: Parameter, start: date | None) -> str:
    if not param.values:
        why = "no value is published"
    elif start is None:
        why = f"before its first value ({min(param.values).isoformat()})"
    else:
        why = f"no value published from {start.isoformat()}"
    if param.unpublished:
        why += f": {param.unpublished}"
    return f"{name!r} ({param.description.rstrip('.')}): {why}"


def resolve_parameters(spec: FamilySpec, as_of: date, file: str) -> dict[str, ParamValue]:
    """The typed value of each parameter the rules use, as in force on ``as_of``.

    Every parameter without a value on that date is named in one error, each with why.
    """
    resolved: dict[str, ParamValue] = {}
    missing: list[str] = []
    for name in param_refs(spec):
        param = spec.parameters[name]
        value: ParamValue = None
        start: date | None = None
        for when, candidate in param.values.items():
            if when <= as_of:
                value, start = candidate, when
        if value is None:
            missing.append(_why_missing(name, param, start))
            continue
        resolved[name] = value
    if missing:
        raise ParameterMissingError(
            f"{file}: {spec.family} {spec.version} cannot decide on {as_of.isoformat()}: the value "
            f"is unknown for " + "; ".join(missing) + ". Values are never extrapolated or invented; "
            "add the published value, dated, with the reference it comes from.",
            parameters=[m.split("'")[1] for m in missing],
            as_of=as_of,
        )
    return resolved


def parameter_periods(spec: FamilySpec) -> Iterator[tuple[date, dict[str, ParamValue]]]:
    """Each date the rules' constants change on within the family's period, with the values
    in force from it (periods in which a parameter is unpublished are left out)."""
    starts = {spec.effective_from}
    for name in param_refs(spec):
        starts.update(spec.parameters[name].values)
    until = spec.effective_until
    for start in sorted(starts):
        if start < spec.effective_from or (until is not None and start > until):
            continue
        try:
            yield start, resolve_parameters(spec, start, "")
        except ParameterMissingError:
            continue


class ParameterTimeline:
    """The parameters of one spec, resolved once per period and shared by every later stage."""

    def __init__(self, spec: FamilySpec, file: str) -> None:
        self.spec = spec
        self.file = file
        self.breaks: list[date] = sorted(
            {when for name in param_refs(spec) for when in spec.parameters[name].values}
        )
        self._resolved: dict[int, Mapping[str, Any] | ParameterMissingError] = {}

    def period_of(self, as_of: date) -> int:
        """Which of the spans between parameter changes ``as_of`` falls in."""
        return bisect.bisect_right(self.breaks, as_of)

    def on(self, as_of: date) -> Mapping[str, Any]:
        """The typed parameters in force on ``as_of`` (read-only); raises ``parameter_missing``."""
        period = self.period_of(as_of)
        found = self._resolved.get(period)
        if found is None:
            try:
                found = MappingProxyType(resolve_parameters(self.spec, as_of, self.file))
            except ParameterMissingError as error:
                found = error
            self._resolved[period] = found
        if isinstance(found, ParameterMissingError):
            # re-raised with this day's date: the message names the day asked about
            resolve_parameters(self.spec, as_of, self.file)
        assert not isinstance(found, ParameterMissingError)
        return found
