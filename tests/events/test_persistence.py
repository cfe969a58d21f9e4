"""The store's transcoder: its fast reading of the states vrrules writes gives exactly what
eventsourcing's stdlib decoder gives, for those states and for any hostile text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eventsourcing.persistence import JSONTranscoder
from hypothesis import given
from hypothesis import strategies as st

from vrrules import CaseRecords
from vrrules.events.importer import import_cases, load_case_file
from vrrules.events.persistence import StateTranscoder
from vrrules.samples import SAMPLE_CASES

_fast = CaseRecords("memory").store._log.mapper.transcoder  # the store's own, every transcoding registered


def _reference() -> JSONTranscoder:
    """eventsourcing's transcoder with the same transcodings: the stdlib decoder and its hook."""
    reference = JSONTranscoder()
    for transcoding in _fast.names.values():
        reference.register(transcoding)
    return reference


_slow = _reference()


def _outcome(transcoder: JSONTranscoder, data: bytes) -> str:
    try:
        return repr(transcoder.decode(data))
    except Exception as error:  # the same refusal, of the same kind
        return f"raises {type(error).__name__}"


def test_the_store_decodes_with_the_state_transcoder() -> None:
    assert isinstance(_fast, StateTranscoder)


def test_every_state_the_sample_stories_write_decodes_as_eventsourcing_decodes_it() -> None:
    records = CaseRecords("memory")
    import_cases(records, load_case_file(SAMPLE_CASES).cases)
    states = [record.state for record in records.store.records()]
    assert len(states) > 100
    for state in states:
        fast = _fast.decode(state)
        assert repr(fast) == repr(_slow.decode(state))
        assert json.loads(state).keys() == fast.keys()


_HOSTILE = [
    b'{"when":{"_type_":"date_iso","_data_":"2025-01-02"},"n":12345678901234567890123}',
    b'{"n":-9223372036854775809,"when":{"_type_":"date_iso","_data_":"2025-01-02"}}',
    b'{"n":NaN}',
    b'{"n":1e400}',
    b'{"text":"\\ud800"}',
    b'{"\\u005ftype_":"date_iso","_data_":"2025-01-02"}',
    b'{"x":{"\\u005ftype_":"date_iso","_data_":"2025-01-02"}}',
    b'{"x":{"y":{"_type_":"date_iso","_data_":"2025-01-02"}}}',
    b'{"x":[{"_type_":"date_iso","_data_":"2025-01-02"}]}',
    b'{"_type_":"date_iso","_data_":"2025-01-02"}',
    b'{"x":{"_type_":"date_iso","_data_":{"_type_":"date_iso","_data_":"2025-01-02"}}}',
    b'{"":{"_type_":null,"_data_":{"_type_":"date_iso","_data_":"no date"}}}',
    b'{"x":{"_type_":"no such type","_data_":1}}',
    b'{"x":{"_type_":"date_iso","_data_":"not a date"}}',
    b'{"x":{"_type_":"date_iso","_data_":"2025-01-02","extra":1}}',
    b'{"x":"mentions \\"_type_\\" in text","y":{"_type_":"date_iso","_data_":"2025-01-02"}}',
    b'{"a":1,"a":{"_type_":"date_iso","_data_":"2025-01-02"}}',
    b'{"a":{"_type_":"date_iso","_data_":"2025-01-02"},"a":2}',
    b'{"a":"\xff"}',
    b'\xef\xbb\xbf{"a":1}',
    b'{"a":1}x',
    b"[1, 2]",
    b'"text"',
    b"",
    b"[" * 5000,
]


@pytest.mark.parametrize("data", _HOSTILE, ids=range(len(_HOSTILE)))
def test_hostile_text_decodes_or_is_refused_as_eventsourcing_would(data: bytes) -> None:
    assert _outcome(_fast, data) == _outcome(_slow, data)


_typed = st.sampled_from(
    [
        {"_type_": "date_iso", "_data_": "2025-03-04"},
        {"_type_": "datetime_iso", "_data_": "2025-03-04T05:06:07+00:00"},
        {"_type_": "decimal_str", "_data_": "12.50"},
        {"_type_": "date_iso", "_data_": "no date"},
        {"_type_": "unknown", "_data_": None},
    ]
)
_plain = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
_values = st.recursive(
    _plain | _typed,
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["_type_", "_data_", "a", "b", "\u00e9"]), inner, max_size=3),
    max_leaves=8,
)


@given(st.dictionaries(st.text(max_size=6), _values, max_size=5), st.booleans())
def test_any_state_decodes_as_eventsourcing_decodes_it(state: dict[str, Any], ascii_only: bool) -> None:
    data = json.dumps(state, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    assert _outcome(_fast, data) == _outcome(_slow, data)


def test_records_are_counted_over_the_key_index_or_the_table_where_there_is_none(tmp_path: Any) -> None:
    """The count (``--since``'s check of the checkpoint's end) reads the primary key's index;
    a table made without that key is counted over the table, to the same number."""
    import sqlite3  # noqa: PLC0415

    location = str(tmp_path / "cases.db")
    with CaseRecords(location) as records:
        for n in range(3):
            records.open_case(f"C-{n}", "2025-11-03")
        store = records.store
        counted = [store.count_records(upto) for upto in (0, 1, 2, 3, 10**9)]
        assert counted == [0, 1, 2, 3, 3]
    bare = sqlite3.connect(":memory:")
    bare.execute("CREATE TABLE stored_events (originator_id TEXT, originator_version INTEGER)")
    bare.executemany("INSERT INTO stored_events VALUES (?, 1)", [("a",), ("b",)])
    assert store._sqlite_count(bare.cursor(), 1) == 1  # no index of the key: the table itself
    assert store._sqlite_count(bare.cursor(), 5) == 2
