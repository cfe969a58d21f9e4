"""vrrules: vocational-rehabilitation case policy as declarative rules.

Specs (YAML under ``specs/``) compile onto durable_rules; decisions are recorded as events
of an event-sourced case history and can be replayed and verified later.
"""

from typing import TYPE_CHECKING

from vrrules.errors import (
    ArgumentInvalidError,
    CaseConflictError,
    CaseExistsError,
    CaseUnknownError,
    Diagnostic,
    EngineError,
    EventInvalidError,
    FactsInvalidError,
    ParameterMissingError,
    PolicyNotInForceError,
    ReleaseUnknownError,
    RulesConflictError,
    SpecInvalidError,
    StoreConfigError,
    StoreDamagedError,
    StoreKeyError,
    StoreNotVrrulesError,
    StoreReadOnlyError,
    StoreUnavailableError,
    VersionAlreadyPublishedError,
    VersionAlreadyUsedError,
    VrrulesError,
)

if TYPE_CHECKING:
    from vrrules.audit.replay import ReplayResult
    from vrrules.events.application import EVENT_TYPES, CaseRecords, RecordedDecision
    from vrrules.policies.compiler import CompiledFamily, SpecSource, compile_or_raise
    from vrrules.policies.decision import Decision, FiredRule
    from vrrules.policies.library import PolicyLibrary

__version__ = "0.1.0"

# Imported when first used, not with the package: `vrrules due`, run every morning, needs the
# store and not the audit, the engine or the whole policy stack (see vrrules.cli.root).
_LAZY = {
    "ReplayResult": "vrrules.audit.replay",
    "EVENT_TYPES": "vrrules.events.application",
    "CaseRecords": "vrrules.events.application",
    "RecordedDecision": "vrrules.events.application",
    "CompiledFamily": "vrrules.policies.compiler",
    "SpecSource": "vrrules.policies.compiler",
    "compile_or_raise": "vrrules.policies.compiler",
    "Decision": "vrrules.policies.decision",
    "FiredRule": "vrrules.policies.decision",
    "PolicyLibrary": "vrrules.policies.library",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'vrrules' has no attribute {name!r}")
    import importlib  # noqa: PLC0415  (the lazy names only)

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "EVENT_TYPES",
    "ArgumentInvalidError",
    "CaseConflictError",
    "CaseExistsError",
    "CaseRecords",
    "CaseUnknownError",
    "CompiledFamily",
    "Decision",
    "Diagnostic",
    "EngineError",
    "EventInvalidError",
    "FactsInvalidError",
    "FiredRule",
    "ParameterMissingError",
    "PolicyLibrary",
    "PolicyNotInForceError",
    "RecordedDecision",
    "ReleaseUnknownError",
    "ReplayResult",
    "RulesConflictError",
    "SpecInvalidError",
    "SpecSource",
    "StoreConfigError",
    "StoreDamagedError",
    "StoreKeyError",
    "StoreNotVrrulesError",
    "StoreReadOnlyError",
    "StoreUnavailableError",
    "VersionAlreadyPublishedError",
    "VersionAlreadyUsedError",
    "VrrulesError",
    "__version__",
    "compile_or_raise",
]

del TYPE_CHECKING
