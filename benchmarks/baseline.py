"""eventsourcing on its own: the append the record benchmark compares vrrules with."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Ledger(Aggregate):  # type: ignore[misc]
    """An aggregate that only notes records: no rules, no hash chain, no validation."""

    @event("Noted")  # type: ignore[misc]
    def note(self, record: dict[str, Any]) -> None:
        """Nothing to change: the event itself is the record."""


class LedgerApp(Application):  # type: ignore[type-arg]
    name = "BenchLedger"
