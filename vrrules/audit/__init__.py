"""The auditor's tools, computed from the store's raw records; rendering lives apart.

* :mod:`~vrrules.audit.replay`: decide a recorded decision again from the stored release
  and history (load, resolve, lower, evaluate: never the checks or the lint);
* :mod:`~vrrules.audit.chain`: each case's hash chain and the flat store digest;
* :mod:`~vrrules.audit.verify`: the whole store, chains and replays, in one pass, in parallel;
* :mod:`~vrrules.audit.whatif`: what re-deciding the history with a draft or with today's
  facts would change;
* :mod:`~vrrules.audit.bundle`: cases exported as stored, checked elsewhere;
* :mod:`~vrrules.audit.timeline`: a case as the store knew it on a day;
* :mod:`~vrrules.events.tlog`, :mod:`~vrrules.audit.checkpoint`: the RFC 9162 Merkle log and
  C2SP checkpoints;
* :mod:`~vrrules.audit.report`: the HTML rendering of a report.
"""

from __future__ import annotations

from vrrules.audit.bundle import BUNDLE_FORMAT, BundleCheck, export_bundle, verify_bundle
from vrrules.audit.chain import ChainCheck, check_chain, store_digest
from vrrules.audit.corrections import CorrectionsReport, corrections
from vrrules.audit.log import LogReport, check_migration, make_checkpoint, migrate_log, verify_log
from vrrules.audit.replay import Replayer, ReplayResult, redecide_recorded, replay, replay_all
from vrrules.audit.timeline import case_as_of
from vrrules.audit.verify import AuditReport, count_decisions, merge_reports, verify_store
from vrrules.audit.whatif import Change, ImpactReport, impact

__all__ = [
    "BUNDLE_FORMAT",
    "AuditReport",
    "BundleCheck",
    "ChainCheck",
    "Change",
    "CorrectionsReport",
    "ImpactReport",
    "LogReport",
    "ReplayResult",
    "Replayer",
    "case_as_of",
    "check_chain",
    "check_migration",
    "corrections",
    "count_decisions",
    "export_bundle",
    "impact",
    "make_checkpoint",
    "merge_reports",
    "migrate_log",
    "redecide_recorded",
    "replay",
    "replay_all",
    "store_digest",
    "verify_bundle",
    "verify_log",
    "verify_store",
]
