"""vrrules: vocational-rehabilitation case policy as declarative rules.

Specs (YAML under ``specs/``) compile onto durable_rules; decisions are recorded as events
of an event-sourced case history and can be replayed and verified later.
"""

from vrrules.audit.replay import ReplayResult
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
    StoreKeyError,
    StoreNotVrrulesError,
    StoreReadOnlyError,
    StoreUnavailableError,
    VersionAlreadyPublishedError,
    VersionAlreadyUsedError,
    VrrulesError,
)
from vrrules.events.application import EVENT_TYPES, CaseRecords, RecordedDecision
from vrrules.policies.compiler import CompiledFamily, SpecSource, compile_or_raise
from vrrules.policies.decision import Decision, FiredRule
from vrrules.policies.library import PolicyLibrary

__version__ = "0.1.0"

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
