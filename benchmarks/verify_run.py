"""Run one replay-verify (or one plain read) in its own process and print its figures as JSON.

The suite starts this as a subprocess so that each figure's peak memory is its own::

    python -m benchmarks.verify_run STORE verify WORKERS
    python -m benchmarks.verify_run STORE read
"""

from __future__ import annotations

import json
import resource
import sys
import time

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from vrrules import CaseRecords
from vrrules.audit import verify_store
from vrrules.events.persistence import register_transcodings, store_environment


def _peak_mib() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mib": round(own, 1), "peak_worker_rss_mib": round(children, 1)}


def verify(store: str, workers: int) -> dict[str, object]:
    started = time.perf_counter()
    with CaseRecords(store) as records:
        report = verify_store(records, workers=workers)
    elapsed = time.perf_counter() - started
    return {
        "decisions": report.decisions,
        "cases": report.cases,
        "ok": report.ok,
        "digest": report.digest,
        "seconds": round(elapsed, 3),
        "per_second": round(report.decisions / elapsed, 1),
        **_peak_mib(),
    }


class _Reader(Application):  # type: ignore[type-arg]
    """A plain eventsourcing application over vrrules' tables, with its transcodings."""

    name = "VrrulesCases"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_transcodings(transcoder)


def read(store: str) -> dict[str, object]:
    """eventsourcing reading every stored event and decoding it, evaluating nothing."""
    app = _Reader(env=store_environment(store))
    started = time.perf_counter()
    events = decisions = 0
    start = 1
    while True:
        batch = app.recorder.select_notifications(start=start, limit=1000)
        if not batch:
            break
        for stored in batch:
            event = app.mapper.to_domain_event(stored)
            events += 1
            decisions += type(event).__name__ == "DecisionRecorded"
        start = batch[-1].id + 1
    elapsed = time.perf_counter() - started
    app.close()
    return {
        "events": events,
        "decisions": decisions,
        "seconds": round(elapsed, 3),
        "per_second": round(decisions / elapsed, 1),
        **_peak_mib(),
    }


def main() -> None:
    store, what = sys.argv[1], sys.argv[2]
    figures = verify(store, int(sys.argv[3])) if what == "verify" else read(store)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
