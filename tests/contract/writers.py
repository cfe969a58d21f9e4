"""Writer processes for the concurrency and crash tests (run as real, separate processes).

``contend`` is one of several processes recording and deciding on the same case at once.
Run as a module, it writes forever and reports each committed call on stdout, so the test
can kill it at any moment and compare what was reported with what the store holds::

    python -m tests.contract.writers STORE PREFIX
"""

from __future__ import annotations

import sys
import time
from datetime import date, timedelta
from typing import Any

from tests.conftest import SPECS, TIER2_ASSESSMENT
from vrrules import CaseConflictError, CaseRecords


def open_case(records: CaseRecords, case_ref: str) -> None:
    records.open_case(case_ref, date(2025, 11, 3))
    records.record(case_ref, "assessment_completed", TIER2_ASSESSMENT)


def _change(worker: int, step: int) -> dict[str, Any]:
    return {
        "status": "in_work" if (worker + step) % 2 else "in_work_struggling",
        "effective_on": (date(2025, 11, 5) + timedelta(days=step)).isoformat(),
    }


def contend(job: tuple[str, str, int, int, float]) -> dict[str, Any]:
    """Alternately record a work-status change and decide the tier, ``operations`` times,
    all writers starting at the same moment ``start_at``."""
    store, case_ref, worker, operations, start_at = job
    committed: list[int] = []
    conflicts = 0
    with CaseRecords(store, SPECS) as records:
        records.case(case_ref)  # warm up (imports, specs) before the start
        time.sleep(max(0.0, start_at - time.time()))
        for step in range(operations):
            try:
                if step % 2:
                    committed.append(records.decide(case_ref, "tiers").case_version)
                else:
                    committed.append(records.record(case_ref, "work_status_changed", _change(worker, step)))
            except CaseConflictError:
                conflicts += 1  # reported to the caller, nothing stored: the call may be made again
        retried = records.conflicts_retried
    return {"worker": worker, "committed": committed, "conflicts": conflicts, "retried": retried}


def write_until_killed(store: str, prefix: str) -> None:
    """Open cases and append to them until killed; print each committed (case, version)."""
    with CaseRecords(store, SPECS) as records:
        number = 0
        while True:
            case_ref = f"{prefix}-{number}"
            open_case(records, case_ref)
            print(f"{case_ref} 2", flush=True)
            for step in range(6):
                if step % 2:
                    version = records.decide(case_ref, "tiers").case_version
                else:
                    version = records.record(case_ref, "work_status_changed", _change(number, step))
                print(f"{case_ref} {version}", flush=True)
            number += 1


if __name__ == "__main__":
    write_until_killed(sys.argv[1], sys.argv[2])
