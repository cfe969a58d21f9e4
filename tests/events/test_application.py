"""Case systems' and auditors' view: record, decide, explain, replay; errors leave no trace."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SPECS
from vrrules import (
    ArgumentInvalidError,
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


# ------------------------------------------------------- a decision asked for without a date


def _rich_case(records: CaseRecords, ref: str = "D-1") -> None:
    """A case whose latest business date (1 November) is later than every family's
    effective date: opened 6 October, assessed 10 October, an intervention 20 October."""
    records.open_case(ref, "2025-10-06")
    records.record(ref, "referral_received", {"received_on": "2025-10-06", "source": "insurer"})
    records.record(
        ref,
        "practitioner_assigned",
        {
            "practitioner_id": "vrp_a",
            "role": "vr_practitioner",
            "clinician": False,
            "assigned_on": "2025-10-07",
        },
    )
    records.record(ref, "assessment_completed", {**ASSESSMENT, "assessed_on": "2025-10-10"})
    records.record(
        ref,
        "intervention_planned",
        {
            "planned_on": "2025-10-20",
            "category": "health",
            "activity": "psychotherapy_cbt",
            "delivered_by": "vrp_a",
        },
    )
    records.record(
        ref, "employer_commitment_recorded", {"recorded_on": "2025-11-01", "kind": "phased_return"}
    )


NO_DATE_FAMILIES = [
    "employer-role",
    "tiers",
    "practitioner-roles",
    "intervention-delivery",
    "assessment-first",
    "tier-review",
]


@pytest.mark.parametrize("family", NO_DATE_FAMILIES)
def test_a_decision_without_a_date_is_for_the_latest_business_date_and_reads_the_facts_of_that_date(
    records: CaseRecords, family: str
) -> None:
    _rich_case(records)
    made = records.decide("D-1", family)
    assert made.decision.as_of == date(2025, 11, 1)  # the case's latest business date
    # the same decision asked for as of that date: its facts and outcome are the ones it recorded
    dated = records.decide("D-1", family, as_of=made.decision.as_of, record=False)
    assert dated.decision.facts == made.decision.facts
    assert (dated.decision.outcome, dated.decision.version) == (made.decision.outcome, made.decision.version)
    stored = records.case("D-1").decisions[-1][1]
    assert stored.reads_business_time and stored.as_of == date(2025, 11, 1)
    assert [r.status for r in replay(records, "D-1")] == ["reproduced"]


def test_the_employer_commitment_is_read_on_the_day_it_is_dated_for(records: CaseRecords) -> None:
    """Deciding without a date once dated the decision at the opening (employer-role's effective
    date) but read every event, a commitment recorded in November among them."""
    _rich_case(records)
    made = records.decide("D-1", "employer-role").decision
    assert made.facts["phased_return"] is True and made.as_of == date(2025, 11, 1)
    assert made.outcome is not None and made.outcome["verdict"] == "flagged"
    at_opening = records.decide("D-1", "employer-role", as_of="2025-10-06", record=False).decision
    assert at_opening.facts["phased_return"] is False  # not yet committed on the opening day


def test_an_event_dated_after_the_decision_date_is_not_used(records: CaseRecords) -> None:
    _rich_case(records)
    records.record(
        "D-1",
        "assessment_completed",
        {
            **ASSESSMENT,
            "assessed_on": "2025-12-01",
            "kind": "review",
            "support_needed": ["career_redirection"],
        },
    )
    dated = records.decide("D-1", "tiers", as_of="2025-11-15").decision
    assert dated.facts["support_needed"] == ["rtw_planning"]  # the October assessment's, not December's
    undated = records.decide("D-1", "tiers").decision
    assert undated.as_of == date(2025, 12, 1) and undated.facts["support_needed"] == ["career_redirection"]


def test_without_a_date_the_effective_date_picks_the_version_and_the_record_keeps_that_day(
    tmp_path: Path,
) -> None:
    from vrrules.audit import redecide_recorded  # noqa: PLC0415

    specs = _copy_specs(tmp_path)
    first = specs / "tiers" / "2025.1.yaml"
    text = first.read_text()
    first.write_text(
        text.replace("effective_from: 2025-10-01", "effective_from: 2025-10-01\neffective_until: 2025-12-31")
    )
    (specs / "tiers" / "2026.1.yaml").write_text(
        text.replace('version: "2025.1"', 'version: "2026.1"')
        .replace("effective_from: 2025-10-01", "effective_from: 2026-01-01")
        .replace("2025-10-01: 4", "2025-10-01: 3")
    )
    with CaseRecords("memory", specs) as records:
        _open(records)
        light = {**ASSESSMENT, "client_groups": [], "support_needed": []}
        records.record("C-1", "assessment_completed", {**light, "assessed_on": "2025-12-31"})
        records.record("C-1", "work_status_changed", {"status": "in_work", "effective_on": "2026-01-10"})
        made = records.decide("C-1", "tiers").decision
        assert (made.as_of, made.version) == (date(2026, 1, 10), "2025.1")  # the assessment's version
        stored = records.case("C-1").decisions[-1][1]
        assert stored.version_chosen_on == date(2025, 12, 31)
        again = redecide_recorded(records, "C-1", stored)
        assert (again.version, again.outcome) == (made.version, made.outcome)
        assert [r.status for r in replay(records, "C-1")] == ["reproduced"]
        dated = records.decide("C-1", "tiers", as_of="2026-01-10").decision  # a date: its own version
        assert dated.version == "2026.1"
        assert records.case("C-1").decisions[-1][1].model_dump().get("version_chosen_on") is None


# ------------------------------------------------------------------ versions of a case


@pytest.mark.parametrize("version", [0, -1, -(2**70), 4, 99, 2**63, 2**70])
@pytest.mark.parametrize("read", ["case", "case_view"])
def test_a_version_the_case_has_not_reached_is_refused_saying_how_many_it_has(
    records: CaseRecords, version: int, read: str
) -> None:
    _open(records)
    records.record("C-1", "assessment_completed", ASSESSMENT)  # three versions
    with pytest.raises(ArgumentInvalidError, match=r"the case has 3 versions\), got ") as caught:
        getattr(records, read)("C-1", version=version)
    assert caught.value.code == "argument_invalid" and caught.value.details["versions"] == 3


def test_every_version_the_case_has_reached_is_read(records: CaseRecords) -> None:
    _open(records)
    records.record("C-1", "assessment_completed", ASSESSMENT)
    assert [records.case("C-1", version=v).version for v in (1, 2, 3)] == [1, 2, 3]
    assert records.case_view("C-1", version=2)["assessment.completed"] is False
    with pytest.raises(CaseUnknownError):
        records.case("NO-SUCH", version=1)


# ------------------------------------------------- arguments of the wrong type, method by method

_WHEN = datetime(2025, 11, 10, 9, 30)  # a date to Python (a subclass), but not a business date
# (what is called, the argument refused): every public method of CaseRecords, each argument kind
WRONG_ARGUMENTS: list[tuple[str, Callable[[CaseRecords], object], str]] = [
    ("decide as_of datetime", lambda r: r.decide("C-1", "tiers", as_of=_WHEN), "as_of"),
    ("decide as_of midnight", lambda r: r.decide("C-1", "tiers", as_of=datetime(2025, 11, 10)), "as_of"),
    ("decide as_of number", lambda r: r.decide("C-1", "tiers", as_of=20251110), "as_of"),  # type: ignore[arg-type]
    ("decide record text", lambda r: r.decide("C-1", "tiers", record="no"), "record"),  # type: ignore[arg-type]
    ("decide record number", lambda r: r.decide("C-1", "tiers", record=0), "record"),  # type: ignore[arg-type]
    ("decide family number", lambda r: r.decide("C-1", 5), "family"),  # type: ignore[arg-type]
    ("decide case None", lambda r: r.decide(None, "tiers"), "case_ref"),  # type: ignore[arg-type]
    ("decide facts list", lambda r: r.decide("C-1", "tiers", facts=[1]), "facts"),  # type: ignore[arg-type]
    ("due as_of None", lambda r: r.due(None), "as_of"),  # type: ignore[arg-type]
    ("due as_of datetime", lambda r: r.due(_WHEN), "as_of"),
    ("due within text", lambda r: r.due("2025-11-10", "14"), "within"),  # type: ignore[arg-type]
    ("due rebuild text", lambda r: r.due("2025-11-10", rebuild="yes"), "rebuild"),  # type: ignore[arg-type]
    ("due progress number", lambda r: r.due("2025-11-10", progress=5), "progress"),  # type: ignore[arg-type]
    ("due workers float", lambda r: r.due("2025-11-10", workers=2.0), "workers"),  # type: ignore[arg-type]
    ("facts as_of datetime", lambda r: r.facts("tiers", as_of=_WHEN), "as_of"),
    ("facts family None", lambda r: r.facts(None), "family"),  # type: ignore[arg-type]
    ("case version text", lambda r: r.case("C-1", version="2"), "version"),  # type: ignore[arg-type]
    ("case version bool", lambda r: r.case("C-1", version=True), "version"),
    ("case ref number", lambda r: r.case(5), "case_ref"),  # type: ignore[arg-type]
    ("case_view on datetime", lambda r: r.case_view("C-1", on=_WHEN), "on"),
    ("case_view version float", lambda r: r.case_view("C-1", version=1.0), "version"),  # type: ignore[arg-type]
    ("history ref None", lambda r: r.history(None), "case_ref"),  # type: ignore[arg-type]
    ("record ref None", lambda r: r.record(None, "referral_received", {}), "case_ref"),  # type: ignore[arg-type]
    ("record type number", lambda r: r.record("C-1", 5, {}), "event_type"),  # type: ignore[arg-type]
    ("open_case ref number", lambda r: r.open_case(5, "2025-11-03"), "case_ref"),  # type: ignore[arg-type]
    ("worker_cases text", lambda r: r.worker_cases("C-1"), "case"),  # type: ignore[arg-type]
    ("save_new_cases text", lambda r: r.save_new_cases("C-1"), "cases"),  # type: ignore[arg-type]
    ("save_new_cases numbers", lambda r: r.save_new_cases([1]), "cases"),  # type: ignore[list-item]
    ("publish not compiled", lambda r: r.publish("tiers", "me", "n"), "compiled"),  # type: ignore[arg-type]
    (
        "publish by number",
        lambda r: r.publish(r.policies.versions("tiers")[0], 5, "note"),  # type: ignore[arg-type]
        "published_by",
    ),
    (
        "publish note None",
        lambda r: r.publish(r.policies.versions("tiers")[0], "me", None),  # type: ignore[arg-type]
        "note",
    ),
]


@pytest.mark.parametrize(
    ("call", "argument"), [w[1:] for w in WRONG_ARGUMENTS], ids=[w[0] for w in WRONG_ARGUMENTS]
)
def test_a_method_given_an_argument_of_the_wrong_type_refuses_it_and_stores_nothing(
    records: CaseRecords, call: Callable[[CaseRecords], object], argument: str
) -> None:
    _open(records)
    before = records.history("C-1")
    with pytest.raises(ArgumentInvalidError) as caught:
        call(records)
    error = caught.value
    assert error.code == "argument_invalid" and error.details["argument"] == argument
    assert argument in error.message and "expected " in error.message and " got " in error.message
    assert records.history("C-1") == before and records.publications() == []


@pytest.mark.parametrize(
    ("arguments", "argument"),
    [
        ({"store": 123}, "store"),
        ({"store": b"cases.db"}, "store"),
        ({"store": "memory", "specs": 5}, "specs"),
        ({"store": "memory", "encryption_key": 5}, "encryption_key"),
        ({"store": "memory", "encryption_key": b"key"}, "encryption_key"),
        ({"store": "memory", "published_only": "yes"}, "published_only"),
        ({"store": "memory", "read_only": 1}, "read_only"),
        ({"store": "memory", "sealed": "no"}, "sealed"),
    ],
)
def test_opening_records_with_an_argument_of_the_wrong_type_refuses_it_and_creates_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: dict[str, Any], argument: str
) -> None:
    monkeypatch.chdir(tmp_path)  # a store named after a number was once created here
    with pytest.raises(ArgumentInvalidError) as caught:
        CaseRecords(**arguments)
    assert caught.value.details["argument"] == argument and ", got " in caught.value.message
    assert list(tmp_path.iterdir()) == []
