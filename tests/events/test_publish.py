"""Published versions are immutable, and a store can decide with published versions only."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from eventsourcing.utils import get_topic

from tests.conftest import SPECS
from vrrules import CaseRecords, PolicyLibrary, SpecInvalidError, VersionAlreadyPublishedError
from vrrules.cli import main
from vrrules.events.caseview import CASE_SOURCES
from vrrules.events.domain import PolicyRelease


def _tiers(tmp_path: Path, name: str, change: tuple[str, str] | None = None) -> Path:
    folder = tmp_path / name
    shutil.copytree(SPECS / "tiers", folder / "tiers")
    if change is not None:
        spec = folder / "tiers" / "2025.1.yaml"
        spec.write_text(spec.read_text().replace(*change, 1))
    return folder


def test_republishing_changed_content_under_a_published_version_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "cases.db"
    original = PolicyLibrary(_tiers(tmp_path, "a"), case_sources=CASE_SOURCES).versions("tiers")[0]
    edited = PolicyLibrary(
        _tiers(tmp_path, "b", ("2025-10-01: 4\n", "2025-10-01: 5\n")), case_sources=CASE_SOURCES
    ).versions("tiers")[0]
    with CaseRecords(store, SPECS) as records:
        assert records.publish(original, "a.author", "first publication") == "published"
        assert records.publish(original, "b.author", "again") == "already published"
        before = records.publications()
        with pytest.raises(VersionAlreadyPublishedError) as caught:
            records.publish(edited, "c.author", "sneaky edit")
        assert "new version id" in str(caught.value) and "a.author" in str(caught.value)
        assert records.publications() == before
        assert [(p.published_by, p.note) for p in before] == [("a.author", "first publication")]


def test_an_overlapping_version_cannot_be_published(tmp_path: Path) -> None:
    store = tmp_path / "cases.db"
    first = PolicyLibrary(_tiers(tmp_path, "a"), case_sources=CASE_SOURCES).versions("tiers")[0]
    second = PolicyLibrary(
        _tiers(tmp_path, "b", ('version: "2025.1"', 'version: "2025.2"')), case_sources=CASE_SOURCES
    ).versions("tiers")[0]
    with CaseRecords(store, SPECS) as records:
        records.publish(first, "a", "first")
        with pytest.raises(SpecInvalidError, match="version_overlap"):
            records.publish(second, "a", "overlapping")
        assert len(records.publications()) == 1


def test_published_only_decisions_ignore_drafts_on_disk(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "cases.db"
    published = _tiers(tmp_path, "published")
    assert (
        main(["publish", str(published), "--store", str(store), "--by", "a.author", "--note", "VRA 2025"])
        == 0
    )
    assert "tiers 2025.1: published" in capsys.readouterr().out
    draft = _tiers(tmp_path, "draft", ("2025-10-01: 4\n", "2025-10-01: 9\n"))
    with CaseRecords(store, draft, published_only=True) as records:
        records.open_case("P-1", date(2025, 11, 3))
        records.record(
            "P-1",
            "assessment_completed",
            {
                "assessed_on": "2025-11-10",
                "kind": "initial",
                "depth": "brief",
                "assessor_id": "x",
                "domains_examined": ["health"],
            },
        )
        outcome = records.decide("P-1", "tiers").decision.outcome
        assert outcome is not None and outcome["max_weeks"] == 4  # the published value, not the draft's 9
        assert records.policies.families() == ["tiers"]
    assert main(["publish", str(draft), "--store", str(store), "--by", "b", "--note", "edit in place"]) == 1
    assert "refused: [version_already_published]" in capsys.readouterr().out


def test_publishing_other_content_under_a_version_decisions_used_is_refused(tmp_path: Path) -> None:
    from tests.conftest import TIER2_ASSESSMENT  # noqa: PLC0415
    from vrrules import VersionAlreadyUsedError  # noqa: PLC0415

    edited = PolicyLibrary(
        _tiers(tmp_path, "b", ("2025-10-01: 4\n", "2025-10-01: 5\n")), case_sources=CASE_SOURCES
    ).versions("tiers")[0]
    with CaseRecords(tmp_path / "cases.db", SPECS) as records:
        records.open_case("U-1", date(2025, 11, 3))
        records.record("U-1", "assessment_completed", TIER2_ASSESSMENT)
        used = records.decide("U-1", "tiers").decision
        assert (used.version, used.spec_sha256 != edited.sha256) == (edited.version, True)
        count = sum(1 for _ in records.store.records())
        with pytest.raises(VersionAlreadyUsedError) as caught:
            records.publish(edited, "c.author", "the same id, other content")
        assert caught.value.code == "version_already_used"
        assert "case U-1 event 3" in str(caught.value)
        assert caught.value.details["decisions"] and records.publications() == []
        assert sum(1 for _ in records.store.records()) == count  # nothing was stored


@pytest.mark.parametrize("then", ["decide", "import"])
def test_deciding_with_other_content_under_a_published_version_id_is_refused(
    tmp_path: Path, then: str
) -> None:
    """However a release comes to be stored (a decision, an import, a publication), a
    published version id with other content is refused and nothing is written: a published
    id keeps naming one text (a draft id may still be edited in place: see
    tests/events/test_application.py)."""
    from tests.conftest import TIER2_ASSESSMENT  # noqa: PLC0415
    from vrrules.events.importer import CaseHistory, import_cases  # noqa: PLC0415

    edited_specs = _tiers(tmp_path, "b", ("2025-10-01: 4\n", "2025-10-01: 5\n"))
    store = tmp_path / "cases.db"
    with CaseRecords(store, SPECS) as records:
        records.open_case("U-1", date(2025, 11, 3))
        records.record("U-1", "assessment_completed", TIER2_ASSESSMENT)
        records.publish(PolicyLibrary(SPECS).versions("tiers")[0], "c.author", "in force")
    with CaseRecords(store, edited_specs) as records:
        count = sum(1 for _ in records.store.records())
        with pytest.raises(VersionAlreadyPublishedError) as caught:
            if then == "decide":
                records.decide("U-1", "tiers")
            else:
                history = CaseHistory.model_validate(
                    {
                        "case_ref": "U-2",
                        "opened_on": "2025-11-03",
                        "steps": [
                            {"record": "assessment_completed", "payload": TIER2_ASSESSMENT},
                            {"decide": "tiers"},
                        ],
                    }
                )
                import_cases(records, [history])
        assert caught.value.code == "version_already_published"
        assert "published by c.author" in str(caught.value)
        if then == "decide":
            assert sum(1 for _ in records.store.records()) == count  # nothing was written
        released = records.store.records([get_topic(PolicyRelease.Released)])
        assert len(list(released)) == 1  # the id still names one text
