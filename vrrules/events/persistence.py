"""How events are stored: transcodings for our payload types, where the store is, its key.

eventsourcing's JSON transcoder knows ``Decimal``, ``datetime`` and ``UUID`` but not
``date`` or pydantic models. Each payload model gets a transcoding that stores its JSON
form under a stable name and validates it again on the way back in.

With a store key every event's stored state is encrypted with AES-GCM (eventsourcing's
cipher, pycryptodome): names, health findings and amounts are unreadable without the key,
and a changed byte fails the cipher's own check. Ids and event types stay in the clear (the
store indexes them); a case's id is a hash of its reference, not the reference.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse
from uuid import UUID

import orjson
from eventsourcing.persistence import JSONTranscoder, StoredEvent, Transcoding
from eventsourcing.persistence import ProgrammingError as PersistenceProgrammingError
from eventsourcing.sqlite import SQLiteApplicationRecorder

from vrrules.errors import StoreConfigError, StoreKeyError
from vrrules.events.registry import Payload, stored_payloads
from vrrules.events.tlog import record_leaf_hash

__all__ = [
    "DEFAULT_STORE",
    "SQLiteLoggedRecorder",
    "StateTranscoder",
    "cipher_settings",
    "leaf_rows",
    "leaves_table",
    "new_store_key",
    "register_transcodings",
    "store_environment",
]

DEFAULT_STORE = "vrrules.db"
# seconds to wait for a PostgreSQL server before the store is reported unavailable
CONNECT_TIMEOUT = "5"


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class PayloadAsJSON(Transcoding):
    """Stores a payload as its JSON form; reading validates it again."""

    def __init__(self, model: type[Payload]) -> None:
        self.type = model
        self.name = model.stored_name
        self._model = model

    def encode(self, obj: Payload) -> dict[str, Any]:
        return obj.model_dump(mode="json")

    def decode(self, data: dict[str, Any]) -> Payload:
        return self._model.model_validate(data)


# A run of 19 digits or more may be an integer beyond 64 bits, which orjson reads as a float;
# it is looked for with every digit made a 0 (two passes in C, where a regular expression
# took longer than the parse)
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19
_TYPE_KEY = b'"_type_"'


class StateTranscoder(JSONTranscoder):
    """eventsourcing's JSON transcoder, decoding the states vrrules writes with orjson.

    The states vrrules writes are a flat object whose typed values (the timestamp, the
    payload) sit at its top level, each ``{"_type_": …, "_data_": …}`` around plain JSON.
    Such a state is parsed by orjson and only its top-level typed values revived, which
    gives what the stdlib decoder with eventsourcing's per-object hook gives, in about half
    the time (verification decodes every stored record). Anything else goes the stdlib way,
    so every state decodes to exactly what eventsourcing would make of it: one with a typed
    value below the top level, a key written with ``\\u`` escapes (which could spell
    ``_type_``), an integer orjson would read as a float, or text orjson refuses (NaN,
    Infinity, lone surrogates).
    """

    def decode(self, data: bytes) -> Any:
        if b"\\u" not in data and _LONG_NUMBER not in data.translate(_DIGITS_AS_ZERO):
            try:
                state = orjson.loads(data)
            except orjson.JSONDecodeError:
                return super().decode(data)
            if type(state) is dict:
                typed = [
                    key
                    for key, value in state.items()
                    if type(value) is dict and len(value) == 2 and "_type_" in value and "_data_" in value
                ]
                # every "_type_" in the text is one of these: none deeper down, none dropped
                # as a repeated key, so reviving these in order is what the hook does
                if data.count(_TYPE_KEY) == len(typed):
                    for key in typed:
                        state[key] = self._decode_obj(state[key])
                    return state
        return super().decode(data)


def register_transcodings(transcoder: JSONTranscoder) -> None:
    transcoder.register(DateAsISO())
    # every payload class the registry knows, including ones defined after this module loaded
    for model in stored_payloads():
        transcoder.register(PayloadAsJSON(model))


CIPHER_TOPIC = "eventsourcing.cipher:AESCipher"


def new_store_key() -> str:
    """A fresh 256-bit key for an encrypted store (base64 text); keep it apart from the store."""
    return base64.b64encode(os.urandom(32)).decode("ascii")


def cipher_settings(key: str) -> dict[str, str]:
    """eventsourcing's settings to encrypt every stored event with AES-GCM under ``key``."""
    try:
        raw = base64.b64decode(key.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raw = b""
    if len(raw) not in (16, 24, 32):
        raise StoreKeyError(
            f"expected a store key of 16, 24 or 32 bytes in base64 (make one with `vrrules key`), "
            f"got {len(key)} characters that "
            + (f"decode to {len(raw)} bytes" if raw else "are not base64")
        )
    return {"CIPHER_TOPIC": CIPHER_TOPIC, "CIPHER_KEY": key}


def store_environment(store: str | Path | None) -> dict[str, str]:
    """Translate a store location into eventsourcing's settings.

    ``memory`` (or ``:memory:``) keeps events in this process only; a path or
    ``sqlite:///path`` is an embedded SQLite file; ``postgresql://user:password@host:port/db``
    is a PostgreSQL server.
    """
    location = str(store) if store is not None else DEFAULT_STORE
    if location in ("memory", ":memory:"):
        return {"PERSISTENCE_MODULE": "eventsourcing.popo"}
    if location.startswith(("postgresql://", "postgres://")):
        url = urlparse(location)
        dbname = url.path.lstrip("/")
        if not (url.hostname and dbname and url.username):
            raise StoreConfigError(
                f"expected postgresql://user:password@host:port/dbname, got {_redacted(location)!r}",
                store=_redacted(location),
            )
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": url.hostname,
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": CONNECT_TIMEOUT,
            "APPLICATION_RECORDER_TOPIC": "vrrules.events.pglog:PostgresLoggedRecorder",
        }
    if "://" in location and not location.startswith("sqlite:///"):
        raise StoreConfigError(
            f"expected 'memory', a file path, sqlite:///path or postgresql://…, got {_redacted(location)!r}",
            store=_redacted(location),
        )
    path = Path(location.removeprefix("sqlite:///")).expanduser()
    if _is_companion_name(path):
        raise StoreConfigError(
            f"expected the store file itself, got {path}, a name SQLite gives the files it keeps "
            f"beside a store ({', '.join(_COMPANION_SUFFIXES)}); name the store without it",
            store=str(path),
        )
    if path.is_dir():
        raise StoreConfigError(
            f"expected a file for the SQLite store, got the folder {path}", store=str(path)
        )
    if not path.parent.exists():
        raise StoreConfigError(
            f"expected the folder of the SQLite store to exist, got {path.parent} (missing)",
            store=str(path),
        )
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "APPLICATION_RECORDER_TOPIC": f"{__name__}:SQLiteLoggedRecorder",
    }


# the files SQLite keeps beside a database: a store under such a name would be taken for
# another store's write-ahead log, index or journal
_COMPANION_SUFFIXES = ("-wal", "-shm", "-journal")


def _is_companion_name(path: Path) -> bool:
    """Whether a store at ``path`` would be, or be taken for, the file SQLite keeps beside the
    database of the same name without the suffix: a new store under such a name, or an
    existing file whose database is beside it (a store already named so, alone, still opens)."""
    lowered = path.name.lower()  # case-insensitive file systems make X-WAL the same file
    suffix = next((s for s in _COMPANION_SUFFIXES if lowered.endswith(s)), None)
    if suffix is None:
        return False
    return not path.exists() or path.with_name(path.name[: -len(suffix)]).exists()


def _redacted(location: str) -> str:
    url = urlparse(location)
    if url.password:
        return location.replace(f":{url.password}@", ":***@")
    return location


# ------------------------------------------------------------------ the Merkle log's leaves
#
# Every stored record is a leaf of the store's log (vrrules.events.tlog). Its leaf hash is
# written by the recorder in the same transaction as the record, keyed by the record's
# notification id (its place in the store's total order), so a record and its leaf commit
# or fail together, and PostgreSQL's table lock orders concurrent writers for both alike.


def leaves_table(events_table: str) -> str:
    return f"{events_table}_leaves"


def leaf_rows(ids: Sequence[int] | None, stored: Sequence[StoredEvent]) -> list[tuple[int, bytes]]:
    if ids is None or len(ids) != len(stored):
        raise PersistenceProgrammingError("expected one notification id per stored record for the log")
    return [
        (
            position,
            record_leaf_hash(_as_uuid(s.originator_id), s.originator_version, s.topic, bytes(s.state)),
        )
        for position, s in zip(ids, stored, strict=True)
    ]


def _as_uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


class SQLiteLoggedRecorder(SQLiteApplicationRecorder):
    """eventsourcing's SQLite recorder, writing each record's leaf in its transaction."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {leaves_table(self.events_table_name)} "
            "(position INTEGER PRIMARY KEY, leaf BLOB NOT NULL)",
        ]

    def _insert_events(
        self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        c.executemany(
            f"INSERT INTO {leaves_table(self.events_table_name)} (position, leaf) VALUES (?, ?)",
            leaf_rows(ids, stored_events),
        )
        return ids
