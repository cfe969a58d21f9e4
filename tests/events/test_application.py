"""Case systems' and auditors' view: record, decide, explain, replay; errors leave no trace."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import SPECS
from vrrules import (
    CaseExistsError,
    CaseRecords,
    CaseUnknownError,
    EventInvalidError,
    FactsInvalidError,
    PolicyNotInForceError,
    SpecInvalidError,
    VrrulesError,
)
from vrrules.audit import replay
from vrrules.events.payloads import DecisionRecord

ASSESSMENT = {
    "assessed_on": "2025-11-10",
    "kind": "initial",
    "depth": "comprehensive",
    "assessor_id": "ot_1",
    "domains_examined": ["health", "physical", "psychological"],
    "obstacles": ["physical", "psychological"],
    "client_groups": ["long_term_condition"],
    "support_needed": ["rtw_planning"],
}


def _open(records: CaseRecords, ref: str = "C-1") -> None:
    records.open_case(ref, "2025-11-03")
    records.record(ref, "referral_received", {"received_on": "2025-11-03", "source": "insurer"})


def test_decision_explains_outcome_rules_reasons_and_sources(records: CaseRecords) -> None:
    _open(records)
    records.record("C-1", "assessment_completed", ASSESSMENT)
    made = records.decide("C-1", "tiers")
    decision = made.decision
    assert decision.as_of == date(2025, 11, 10)  # the assessment date picks the version
    assert decision.outcome is not None and decision.outcome["tier"] == 3
    assert decision.fired_rule_ids == ("tier-3-multi-layered-needs",)
    rule = decision.fired[0]
    assert "multi-layered" in rule.reason
    assert rule.reference["seed"] == "001_ef39799bbcac7ce7.txt"
    text = made.explain()
    assert "tier-3-multi-layered-needs" in text and "Tier 3, Clients" in text


def test_before_an_assessment_the_referral_date_decides_and_asks_for_one(
    records: CaseRecords,
) -> None:
    _open(records)
    made = records.decide("C-1", "tiers")
    assert made.decision.as_of == date(2025, 11, 3)
    assert made.decision.outcome == {"decision": "assessment_required"}
    assert made.decision.fired[0].fix is not None


def test_retiering_records_the_outcome_it_replaces(records: CaseRecords) -> None:
    _open(records)
    records.record("C-1", "assessment_completed", {**ASSESSMENT, "client_groups": []})
    first = records.decide("C-1", "tiers")
    records.record(
        "C-1",
        "assessment_completed",
        {
            **ASSESSMENT,
            "assessed_on": "2026-01-12",
            "kind": "review",
            "support_needed": ["career_redirection"],
        },
    )
    second = records.decide("C-1", "tiers")
    assert first.decision.outcome is not None and first.decision.outcome["tier"] == 2
    assert second.decision.outcome is not None and second.decision.outcome["tier"] == 3
    assert second.previous_outcome == first.decision.outcome
    assert second.changed and "changed from" in second.explain()


def test_facts_come_from_history_not_from_the_caller(records: CaseRecords) -> None:
    _open(records)
    with pytest.raises(FactsInvalidError, match="come from the case history"):
        records.decide("C-1", "tiers", facts={"assessment_completed": True})


def test_unknown_case_is_a_lookup_error_with_the_reference(records: CaseRecords) -> None:
    with pytest.raises(CaseUnknownError) as caught:
        records.decide("NO-SUCH-CASE", "tiers")
    assert isinstance(caught.value, LookupError)
    assert "NO-SUCH-CASE" in str(caught.value) and caught.value.code == "case_unknown"


def test_opening_a_case_twice_is_refused(records: CaseRecords) -> None:
    _open(records)
    with pytest.raises(CaseExistsError):
        records.open_case("C-1", "2025-11-04")
    assert len(records.history("C-1")) == 2


@pytest.mark.parametrize(
    ("event_type", "payload", "words"),
    [
        ("assessment_completed", {**ASSESSMENT, "depth": "deep"}, ["depth", "'deep'"]),
        (
            "assessment_completed",
            {**ASSESSMENT, "assessed_on": "10/11/2025"},
            ["assessed_on", "10/11/2025"],
        ),
        (
            "assessment_completed",
            {**ASSESSMENT, "obstacles": ["financial"]},
            ["not among the domains examined"],
        ),
        (
            "assessment_completed",
            {**ASSESSMENT, "extra": 1},
            ["extra", "expected only the fields this event has"],
        ),
        (
            "work_status_changed",
            {"status": "absent", "effective_on": "2025-11-03"},
            ["off_work_since"],
        ),
        ("referral_received", {"received_on": "2025-11-03"}, ["source", "expected a value, got nothing"]),
        ("practitioner_assigned", "not a mapping", ["expected a mapping"]),
        ("case_closed", {}, ["expected an event type among"]),
    ],
)
def test_bad_event_is_refused_with_what_was_expected_and_got(
    records: CaseRecords, event_type: str, payload: object, words: list[str]
) -> None:
    _open(records)
    before = records.history("C-1")
    with pytest.raises(EventInvalidError) as caught:
        records.record("C-1", event_type, payload)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "C-1" in message and "nothing was stored" in message
    for word in words:
        assert word in message
    assert records.history("C-1") == before


def test_date_outside_every_version_is_refused(records: CaseRecords) -> None:
    records.open_case("OLD-1", "2024-03-01")
    with pytest.raises(PolicyNotInForceError, match="2024-03-01"):
        records.decide("OLD-1", "tiers")
    assert len(records.history("OLD-1")) == 1


def test_a_decision_as_of_a_day_before_the_opening_reads_what_the_history_dates_by_then(
    records: CaseRecords,
) -> None:
    """Allowed on purpose: a case may record what happened before it was opened here (a plan
    begun elsewhere, a migrated case; the sample WA cases decide so), so a decision as of a
    day before the opening is taken on the events dated by then, as any dated decision is."""
    records.open_case("LATE-1", "2025-06-01")
    records.record(
        "LATE-1",
        "work_status_changed",
        {"status": "absent", "effective_on": "2025-01-05", "off_work_since": "2025-01-02"},
    )
    before = records.decide("LATE-1", "early-intervention", as_of="2025-05-01", record=False)
    assert before.decision.as_of == date(2025, 5, 1)
    assert before.decision.facts["off_work_since"] == "2025-01-02"  # the absence dated January counts
    assert before.decision.fired_rule_ids == ("off-work-three-months-without-help",)
    earlier = records.decide("LATE-1", "early-intervention", as_of="2024-12-01", record=False)
    assert earlier.decision.facts.get("off_work_since") is None  # nothing had happened yet
    assert earlier.decision.fired_rule_ids == ()
    assert records.due(date(2025, 5, 1)) == []  # yet the case is on no due list before its opening


def test_unknown_family_names_the_known_ones(records: CaseRecords) -> None:
    _open(records)
    with pytest.raises(PolicyNotInForceError, match="tiers"):
        records.decide("C-1", "no-such-family")


def _copy_specs(tmp_path: Path) -> Path:
    target = tmp_path / "specs"
    shutil.copytree(SPECS / "tiers", target / "tiers")
    return target


def test_an_edited_spec_is_used_by_the_next_decision(tmp_path: Path) -> None:
    specs = _copy_specs(tmp_path)
    with CaseRecords("memory", specs) as records:
        _open(records)
        records.record(
            "C-1", "assessment_completed", {**ASSESSMENT, "client_groups": [], "support_needed": []}
        )
        before = records.decide("C-1", "tiers")
        spec_file = specs / "tiers" / "2025.1.yaml"
        spec_file.write_text(spec_file.read_text().replace("2025-10-01: 4", "2025-10-01: 5"))
        after = records.decide("C-1", "tiers")
        assert before.decision.outcome is not None and before.decision.outcome["max_weeks"] == 4
        assert after.decision.outcome is not None and after.decision.outcome["max_weeks"] == 5
        assert before.decision.spec_sha256 != after.decision.spec_sha256
        # both releases are stored, so both decisions still replay
        assert [r.status for r in replay(records, "C-1")] == ["reproduced", "reproduced"]


def test_a_malformed_edit_is_refused_and_the_store_is_unchanged(tmp_path: Path) -> None:
    specs = _copy_specs(tmp_path)
    with CaseRecords("memory", specs) as records:
        _open(records)
        spec_file = specs / "tiers" / "2025.1.yaml"
        spec_file.write_text(spec_file.read_text().replace("hit_policy: first", "hit_policy: sometimes"))
        before = records.history("C-1")
        with pytest.raises(SpecInvalidError) as caught:
            records.decide("C-1", "tiers")
        assert "2025.1.yaml" in str(caught.value) and "hit_policy" in str(caught.value)
        assert records.history("C-1") == before


def test_version_in_force_is_chosen_by_the_effective_date(tmp_path: Path) -> None:
    specs = _copy_specs(tmp_path)
    first = specs / "tiers" / "2025.1.yaml"
    text = first.read_text()
    first.write_text(
        text.replace("effective_from: 2025-10-01", "effective_from: 2025-10-01\neffective_until: 2025-12-31")
    )
    second = (
        text.replace('version: "2025.1"', 'version: "2026.1"')
        .replace("effective_from: 2025-10-01", "effective_from: 2026-01-01")
        .replace("2025-10-01: 4", "2025-10-01: 3")
    )
    (specs / "tiers" / "2026.1.yaml").write_text(second)
    with CaseRecords("memory", specs) as records:
        _open(records)
        light = {**ASSESSMENT, "client_groups": [], "support_needed": []}
        records.record("C-1", "assessment_completed", {**light, "assessed_on": "2025-12-31"})
        old = records.decide("C-1", "tiers").decision
        records.record(
            "C-1", "assessment_completed", {**light, "assessed_on": "2026-01-01", "kind": "review"}
        )
        new = records.decide("C-1", "tiers").decision
        assert (old.version, old.outcome and old.outcome["max_weeks"]) == ("2025.1", 4)
        assert (new.version, new.outcome and new.outcome["max_weeks"]) == ("2026.1", 3)


def test_replay_reports_a_decision_that_does_not_follow_from_its_record(
    records: CaseRecords,
) -> None:
    _open(records)
    records.record("C-1", "assessment_completed", ASSESSMENT)
    honest = records.decide("C-1", "tiers")
    # A decision appended by other means, claiming an outcome the policy does not give.
    case = records.case("C-1")
    forged = honest.decision
    case.record_decision(
        DecisionRecord(
            family="tiers",
            version=forged.version,
            spec_sha256=forged.spec_sha256,
            as_of=forged.as_of,
            case_version_read=case.version,
            facts=forged.facts,
            status="decided",
            outcome={**(forged.outcome or {}), "tier": 1},
            fired=[r.as_dict() for r in forged.fired],
        )
    )
    records.store.save(case)
    results = replay(records, "C-1")
    assert [r.status for r in results] == ["reproduced", "differs"]
    assert "outcome: recorded" in results[1].differences[0]


def test_replay_reports_facts_the_history_does_not_give(records: CaseRecords) -> None:
    _open(records)
    records.record("C-1", "assessment_completed", ASSESSMENT)
    honest = records.decide("C-1", "tiers").decision
    case = records.case("C-1")
    facts = {**honest.facts, "client_groups": []}  # a fact changed after the event
    case.record_decision(
        DecisionRecord(
            family="tiers",
            version=honest.version,
            spec_sha256=honest.spec_sha256,
            as_of=honest.as_of,
            case_version_read=3,
            facts=facts,
            status="decided",
            outcome={**(honest.outcome or {})},
            fired=[r.as_dict() for r in honest.fired],
        )
    )
    records.store.save(case)
    result = replay(records, "C-1")[1]
    assert result.status == "differs"
    assert any("fact 'client_groups'" in d for d in result.differences)


def test_replay_of_a_decision_whose_release_is_missing_is_unreplayable(
    records: CaseRecords,
) -> None:
    _open(records)
    case = records.case("C-1")
    case.record_decision(
        DecisionRecord(
            family="tiers",
            version="9.9",
            spec_sha256="0" * 64,
            as_of=date(2025, 11, 3),
            case_version_read=2,
            facts={},
            status="no_rule_applied",
            outcome=None,
            fired=[],
        )
    )
    records.store.save(case)
    result = replay(records, "C-1")[0]
    assert result.status == "unreplayable" and "release" in result.differences[0]


def test_every_error_is_a_vrrules_error_with_a_code(records: CaseRecords) -> None:
    with pytest.raises(VrrulesError) as caught:
        records.record("X", "referral_received", {})
    assert caught.value.code in {"case_unknown", "event_invalid"}


def test_a_case_file_that_is_a_pipe_is_refused_unread(tmp_path: Path) -> None:
    import os  # noqa: PLC0415
    import threading  # noqa: PLC0415

    from vrrules.errors import FileNotRegularError  # noqa: PLC0415
    from vrrules.events.importer import load_case_file  # noqa: PLC0415

    os.mkfifo(tmp_path / "cases.yaml")  # opening it to read would block until a writer comes
    raised: list[BaseException] = []

    def load() -> None:
        try:
            load_case_file(tmp_path / "cases.yaml")
        except BaseException as error:  # handed over to the test
            raised.append(error)

    reader = threading.Thread(target=load, daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert len(raised) == 1 and isinstance(raised[0], FileNotRegularError)
