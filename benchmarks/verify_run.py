"""Run one replay-verify (or one plain read) in its own process and print its figures as JSON.

The suite starts this as a subprocess so that each figure's peak memory is its own::

    python -m benchmarks.verify_run STORE verify WORKERS   # full: the log against a checkpoint, every replay
    python -m benchmarks.verify_run STORE since            # after ~1% growth: only what came after
    python -m benchmarks.verify_run STORE read             # eventsourcing reading and decoding every event
    python -m benchmarks.verify_run STORE floor            # the raw floor: read, hash, decode, nothing else
    python -m benchmarks.verify_run STORE index            # what the log's index holds per record
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import resource
import sqlite3
import sys
import time

import orjson
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from vrrules import CaseRecords
from vrrules.audit import verify_store
from vrrules.audit.checkpoint import Checkpoint
from vrrules.audit.log import StoreLog, store_origin, verify_log
from vrrules.events.persistence import register_transcodings, store_environment


def _peak_mib() -> dict[str, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"peak_rss_mib": round(own, 1), "peak_worker_rss_mib": round(children, 1)}


def _checkpoint_at(records: CaseRecords, size: int) -> Checkpoint:
    """The checkpoint an auditor would have kept when the store held its first ``size`` records
    (the store only grows, so its prefix is exactly what was there then)."""
    log = StoreLog(records.store)
    return Checkpoint(
        store_origin(records.store.location), size, log.tree.tree_hash(size)
    ).with_case_heads(log.case_heads(size).commitment)


def _kept(store: str, fraction: float) -> Checkpoint:
    # made in a process of its own, as an auditor's checkpoint is: its memory is not this one's
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_kept_here, (store, fraction))


def _kept_here(store: str, fraction: float) -> Checkpoint:
    with CaseRecords(store, read_only=True) as records:
        total = sum(1 for _ in records.store.records())
        return _checkpoint_at(records, int(total * fraction))


def verify(store: str, workers: int) -> dict[str, object]:
    kept = _kept(store, 1.0)
    started = time.perf_counter()
    with CaseRecords(store, read_only=True) as records:
        report = verify_store(records, workers=workers, checkpoints=[kept])
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


def since(store: str) -> dict[str, object]:
    """The weekly audit: a checkpoint kept at 99% of the records, verified since."""
    kept = _kept(store, 0.99)
    started = time.perf_counter()
    with CaseRecords(store, read_only=True) as records:
        report = verify_store(records, since=kept)
    elapsed = time.perf_counter() - started
    return {"decisions": report.decisions, "ok": report.ok, "seconds": round(elapsed, 3), **_peak_mib()}


def index(store: str) -> dict[str, object]:
    """What the audit's log index holds per record, measured with tracemalloc: the figure
    that decides the parent's memory on a larger store (it grows with the records; the
    rest of an audit does not)."""
    import tracemalloc  # noqa: PLC0415  (only this measurement needs it)

    with CaseRecords(store, read_only=True) as records:
        tracemalloc.start()
        log = StoreLog(records.store, recompute=False)
        log.trust(list(log.unchecked))  # the leaves as stored: this measures the index alone
        report = verify_log(records.store, log=log)
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {
        "records": log.size,
        "ok": report.ok,
        "held_bytes_per_record": round(held / max(log.size, 1), 1),
        "peak_bytes_per_record": round(peak / max(log.size, 1), 1),
        **_peak_mib(),
    }


def floor(store: str) -> dict[str, object]:
    """Reading every stored row, hashing its bytes and decoding its JSON, with no audit logic:
    what any verification of the same rows costs at least."""
    started = time.perf_counter()
    rows = decisions = 0
    connection = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        cursor = connection.execute(
            "SELECT originator_id, originator_version, topic, state FROM stored_events ORDER BY rowid"
        )
        while batch := cursor.fetchmany(10_000):
            for _, _, topic, state in batch:
                hashlib.sha256(state).digest()
                orjson.loads(state)
                rows += 1
                decisions += topic.endswith("DecisionRecorded")
    finally:
        connection.close()
    elapsed = time.perf_counter() - started
    return {
        "rows": rows,
        "decisions": decisions,
        "seconds": round(elapsed, 3),
        "per_second": round(decisions / elapsed, 1),
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
    if what == "verify":
        figures = verify(store, int(sys.argv[3]))
    else:
        figures = {"since": since, "floor": floor, "read": read, "index": index}[what](store)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
