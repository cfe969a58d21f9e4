"""The PostgreSQL recorder of a vrrules store (imported only when a store is on PostgreSQL,
so the base install needs no PostgreSQL driver)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from vrrules.events.persistence import leaf_rows, leaves_table

__all__ = ["PostgresLoggedRecorder"]


class PostgresLoggedRecorder(PostgresApplicationRecorder):
    """eventsourcing's PostgreSQL recorder, writing each record's leaf in its transaction
    (under the same table lock that orders the records' notification ids)."""

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self._leaves = SQL("{schema}.{table}").format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(leaves_table(self.events_table_name)),
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {leaves} (position bigint PRIMARY KEY, leaf bytea NOT NULL)"
            ).format(leaves=self._leaves)
        )

    def _fetch_ids_after_insert_events(
        self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        curs.executemany(
            SQL("INSERT INTO {leaves} (position, leaf) VALUES (%s, %s)").format(leaves=self._leaves),
            leaf_rows(ids, stored_events),
        )
        return ids
