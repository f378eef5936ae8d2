"""NPI milestones: deliverable rules, lateness, root cause, escalation, reweighting, on-time rate.

Scenario: the NPI scenario (new product introduction in an electronics plant:
milestones with owners, deliverable templates and validation rules such as "the mould acceptance
report must be a PDF and contain a signature page"; late milestones escalate to the project manager
and the department head with a root-cause category; node weights change with customer orders;
on-time milestones is the reported indicator). Numbers below are computed in the tests.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from perfcore.domain.deliverable import (
    ContainsPage,
    DeliverableMetadata,
    DeliverableRequirement,
    FileKind,
    MaxSize,
    MinPages,
    Page,
    parse_rule,
)
from perfcore.domain.errors import (
    Conflict,
    InvalidTransition,
    InvalidValue,
    InvalidWeight,
    NotFound,
)
from perfcore.domain.evidence import EvidenceRecord, validate_record
from perfcore.domain.milestone import (
    MILESTONE_OUTCOME,
    EscalationTarget,
    Milestone,
    MilestonePlan,
    RootCause,
    on_time_rate,
)
from perfcore.domain.values import SubjectRef, quantize

SHANGHAI = ZoneInfo("Asia/Shanghai")
ENGINEER = SubjectRef.person("ME-12")
PM = EscalationTarget("project_manager", SubjectRef.person("PM-2"))
HEAD = EscalationTarget("department_head", SubjectRef.person("DH-1"))

REPORT = DeliverableRequirement(
    "mould_acceptance_report", (FileKind("pdf"), ContainsPage("signature"))
)


def mould_trial(**over: object) -> Milestone:
    kwargs: dict[str, object] = {
        "id": "mould-trial",
        "title": "Mould trial complete",
        "owner": ENGINEER,
        "due": dt.date(2025, 3, 10),
        "requirements": (REPORT,),
        "escalation": (PM, HEAD),
    }
    kwargs.update(over)
    return Milestone(**kwargs)  # type: ignore[arg-type]


def signed_pdf(**over: object) -> DeliverableMetadata:
    kwargs: dict[str, object] = {
        "filename": "MAR-0042.pdf",
        "mime_type": "application/pdf",
        "size_bytes": 830_000,
        "pages": (Page(1, {"cover"}), Page(2), Page(3, {"signature"})),
    }
    kwargs.update(over)
    return DeliverableMetadata(**kwargs)  # type: ignore[arg-type]


def at(local: str) -> dt.datetime:
    return dt.datetime.fromisoformat(local).replace(tzinfo=SHANGHAI)


# --- deliverable rules -----------------------------------------------------------------------


def test_signed_pdf_report_completes_the_milestone_on_time() -> None:
    done = mould_trial().complete(
        at("2025-03-10T17:45"), SHANGHAI, {"mould_acceptance_report": signed_pdf()}
    )
    assert done.completed_on == dt.date(2025, 3, 10)
    assert done.on_time() is True
    assert done.days_late(dt.date(2025, 4, 1)) == 0
    assert done.deliverables["mould_acceptance_report"].page_count == 3


def test_report_that_is_not_a_pdf_is_refused_with_its_path() -> None:
    m = mould_trial()
    docx = signed_pdf(
        filename="MAR-0042.docx",
        mime_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    [reason] = m.check_deliverables({"mould_acceptance_report": docx})
    assert reason.field == "milestones[mould-trial].deliverables.mould_acceptance_report.file_kind"
    assert reason.valid == "a pdf file (.pdf)"
    with pytest.raises(InvalidValue) as err:
        m.complete(at("2025-03-09T10:00"), SHANGHAI, {"mould_acceptance_report": docx})
    assert err.value.field == "milestones[mould-trial].deliverables"
    assert err.value.valid == (
        "mould_acceptance_report must be a PDF file, must contain a signature page"
    )


def test_pdf_without_signature_page_is_refused() -> None:
    unsigned = signed_pdf(pages=(Page(1, {"cover"}), Page(2)))
    [reason] = mould_trial().check_deliverables({"mould_acceptance_report": unsigned})
    assert reason.field.endswith("mould_acceptance_report.pages")
    assert reason.message == "no page labelled 'signature' among 2 page(s)"


def test_pdf_extension_with_another_mime_type_is_not_a_pdf() -> None:
    fake = signed_pdf(mime_type="image/png")
    assert mould_trial().check_deliverables({"mould_acceptance_report": fake})


def test_missing_deliverable_is_a_reason() -> None:
    [reason] = mould_trial().check_deliverables({})
    assert reason.message == "deliverable is missing"
    assert reason.field == "milestones[mould-trial].deliverables.mould_acceptance_report"


def test_size_and_page_count_rules() -> None:
    req = DeliverableRequirement("drawing", (MaxSize(1_000_000), MinPages(4)))
    reasons = req.check(signed_pdf(size_bytes=2_000_000))
    assert [r.field for r in reasons] == [
        "deliverables.drawing.size_bytes",
        "deliverables.drawing.pages",
    ]


@pytest.mark.parametrize(
    ("spec", "rule"),
    [
        ({"file_kind": "PDF"}, FileKind("pdf")),
        ({"contains_page": "signature"}, ContainsPage("signature")),
        ({"max_size_mb": 20}, MaxSize(20 * 1024 * 1024)),
        ({"max_size_bytes": 5}, MaxSize(5)),
        ({"min_pages": 2}, MinPages(2)),
    ],
)
def test_rules_are_declared_as_data(spec: dict[str, object], rule: object) -> None:
    assert parse_rule(spec) == rule


@pytest.mark.parametrize(
    ("spec", "path", "valid_fragment"),
    [
        ({"file_kind": "pdff"}, "rules[0].file_kind", "pdf"),
        ({"colour": "red"}, "rules[0]", "file_kind"),
        ({"file_kind": "pdf", "min_pages": 1}, "rules[0]", "contains_page"),
        ({"min_pages": -1}, "rules[0].min_pages", ">= 0"),
        ({"min_pages": "two"}, "rules[0].min_pages", ">= 0"),
    ],
)
def test_bad_rule_declarations_name_the_path_and_valid_values(
    spec: dict[str, object], path: str, valid_fragment: str
) -> None:
    with pytest.raises(InvalidValue) as err:
        parse_rule(spec, field="rules[0]")
    assert err.value.field == path
    assert err.value.valid is not None
    assert valid_fragment in err.value.valid


# --- lateness, root cause, escalation -------------------------------------------------------


def test_lateness_is_counted_in_local_days_of_the_plan_time_zone() -> None:
    """2025-03-10T23:30Z is already 2025-03-11 07:30 in Shanghai: one day late."""
    utc_evening = dt.datetime(2025, 3, 10, 23, 30, tzinfo=dt.UTC)
    done = mould_trial(root_cause="supplier_lead_time_slip").complete(
        utc_evening, SHANGHAI, {"mould_acceptance_report": signed_pdf()}
    )
    assert done.completed_on == dt.date(2025, 3, 11)
    assert done.days_late(dt.date(2025, 12, 31)) == 1
    assert done.on_time() is False


def test_late_completion_requires_a_root_cause_category() -> None:
    with pytest.raises(InvalidValue) as err:
        mould_trial().complete(
            at("2025-03-13T09:00"), SHANGHAI, {"mould_acceptance_report": signed_pdf()}
        )
    assert err.value.field == "milestones[mould-trial].root_cause"
    assert err.value.valid == (
        "supplier_lead_time_slip, internal_review_not_closed, design_change, "
        "resource_shortage, other"
    )
    assert "3 day(s) late" in err.value.message


def test_root_cause_may_be_given_at_completion_or_recorded_before() -> None:
    files = {"mould_acceptance_report": signed_pdf()}
    a = mould_trial().complete(
        at("2025-03-13T09:00"), SHANGHAI, files, root_cause="design_change", note="ECN-17"
    )
    assert (a.root_cause, a.root_cause_note) == (RootCause.DESIGN_CHANGE, "ECN-17")
    b = mould_trial().with_root_cause(RootCause.INTERNAL_REVIEW_NOT_CLOSED)
    assert b.complete(at("2025-03-13T09:00"), SHANGHAI, files).days_late(dt.date(2025, 4, 1)) == 3


def test_unknown_root_cause_is_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        mould_trial().with_root_cause("weather")
    assert err.value.field == "milestones[mould-trial].root_cause"


def test_completing_twice_is_an_invalid_transition() -> None:
    done = mould_trial().complete(
        at("2025-03-01T09:00"), SHANGHAI, {"mould_acceptance_report": signed_pdf()}
    )
    with pytest.raises(InvalidTransition) as err:
        done.complete(at("2025-03-02T09:00"), SHANGHAI, {"mould_acceptance_report": signed_pdf()})
    assert err.value.field == "milestones[mould-trial].state"


def test_naive_completion_time_is_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        mould_trial().complete(dt.datetime(2025, 3, 1), SHANGHAI, {})
    assert err.value.field == "milestones[mould-trial].completed_at"


def test_open_milestone_past_due_escalates_to_project_manager_and_department_head() -> None:
    m = mould_trial()
    assert m.escalation_for(dt.date(2025, 3, 10)) is None  # due today: not late yet
    esc = m.escalation_for(dt.date(2025, 3, 12))
    assert esc is not None
    assert esc.days_late == 2
    assert [t.role for t in esc.targets] == ["project_manager", "department_head"]
    assert esc.owner == ENGINEER
    assert esc.needs_root_cause
    with_cause = m.with_root_cause("supplier_lead_time_slip").escalation_for(dt.date(2025, 3, 12))
    assert with_cause is not None
    assert not with_cause.needs_root_cause


def test_completed_milestone_does_not_escalate() -> None:
    done = mould_trial(root_cause="other").complete(
        at("2025-03-12T09:00"), SHANGHAI, {"mould_acceptance_report": signed_pdf()}
    )
    assert done.escalation_for(dt.date(2025, 3, 20)) is None


# --- plan: weights, escalations, on-time rate ----------------------------------------------


def npi_plan() -> MilestonePlan:
    """13 milestones due on 1..13 March; all on time except 'm07' (two days late)."""
    ms = []
    for day in range(1, 14):
        m = Milestone(f"m{day:02d}", f"Milestone {day}", ENGINEER, dt.date(2025, 3, day))
        late = day == 7
        done_day = day + 2 if late else day
        ms.append(
            m.complete(
                at(f"2025-03-{done_day:02d}T16:00"),
                SHANGHAI,
                root_cause="supplier_lead_time_slip" if late else None,
            )
        )
    return MilestonePlan("npi-x1", ms)


def test_on_time_rate_is_on_time_completed_over_due() -> None:
    """12 of 13 on time → 12/13 = 92.31 % (2 dp). an NPI project report gives 92.3 %, which
    is what 12 of 13 gives at one decimal."""
    rate = npi_plan().on_time_rate(dt.date(2025, 3, 31))
    assert (rate.numerator, rate.denominator) == (12, 13)
    assert rate.value is not None
    assert quantize(rate.value * 100, 2) == Decimal("92.31")
    assert quantize(rate.value * 100, 1) == Decimal("92.3")
    assert rate.late == ("m07",)


def test_on_time_rate_counts_open_overdue_milestones_as_late_and_ignores_future_ones() -> None:
    ms = [
        mould_trial(id="a", due=dt.date(2025, 3, 1)).complete(
            at("2025-03-01T10:00"), SHANGHAI, {"mould_acceptance_report": signed_pdf()}
        ),
        mould_trial(id="b", due=dt.date(2025, 3, 5)),  # open, overdue on 03-08
        mould_trial(id="c", due=dt.date(2025, 3, 8)),  # due today: not counted
        mould_trial(id="d", due=dt.date(2025, 4, 1)),  # future
    ]
    rate = on_time_rate(ms, dt.date(2025, 3, 8))
    assert (rate.value, rate.on_time, rate.late) == (Decimal("0.5"), ("a",), ("b",))


def test_on_time_rate_replays_history_as_of_an_earlier_date() -> None:
    """As of 2025-03-08, m07 (due 03-07, completed 03-09) is still open and overdue → late;
    m01..m06 and m08 (completed on its due day 03-08) are on time; m09.. are not due yet:
    7 on time of 8 counted. As of 03-07, m07 is due that day and open → not yet counted: 6/6."""
    rate = npi_plan().on_time_rate(dt.date(2025, 3, 8))
    assert (rate.numerator, rate.denominator) == (7, 8)
    assert rate.late == ("m07",)
    earlier = npi_plan().on_time_rate(dt.date(2025, 3, 7))
    assert (earlier.numerator, earlier.denominator) == (6, 6)


def test_on_time_rate_without_anything_due_has_no_value() -> None:
    """perfcore's rule: division by zero yields no value, never 0."""
    rate = npi_plan().on_time_rate(dt.date(2025, 2, 1))
    assert rate.value is None
    assert rate.denominator == 0


def test_weighted_on_time_rate_uses_node_weights_after_a_customer_order_change() -> None:
    """Weights: m07 → 3, m13 → 0 (reason recorded). Weighted: Σ on-time weights = 11 (m01..m12
    minus m07, each 1) over Σ weights = 11 + 3 + 0 = 14 → 11/14."""
    plan = npi_plan().reweight(
        {"m07": 3, "m13": "0"},
        at=dt.datetime(2025, 3, 20, tzinfo=dt.UTC),
        reason="customer order 4711 moved to variant B",
    )
    rate = plan.on_time_rate(dt.date(2025, 3, 31), weighted=True)
    assert (rate.numerator, rate.denominator) == (11, 14)
    assert rate.value == Decimal(11) / Decimal(14)
    [change] = plan.weight_changes
    assert change.before == {"m07": 1, "m13": 1}
    assert change.after == {"m07": 3, "m13": 0}
    assert change.reason.startswith("customer order")


def test_reweight_refuses_negative_unknown_and_reasonless_changes() -> None:
    plan = npi_plan()
    when = dt.datetime(2025, 3, 20, tzinfo=dt.UTC)
    with pytest.raises(InvalidWeight) as err:
        plan.reweight({"m01": -2}, at=when, reason="x")
    assert err.value.field == "milestones[m01].weight"
    assert err.value.valid == "a decimal >= 0"
    with pytest.raises(NotFound) as err2:
        plan.reweight({"m99": 1}, at=when, reason="x")
    assert err2.value.field == "milestones[m99]"
    with pytest.raises(InvalidValue) as err3:
        plan.reweight({"m01": 1}, at=when, reason=" ")
    assert err3.value.field == "reason"


def test_negative_weight_on_construction_names_the_milestone() -> None:
    with pytest.raises(InvalidWeight) as err:
        mould_trial(weight=-1)
    assert err.value.field == "milestones[mould-trial].weight"


def test_duplicate_milestone_ids_conflict() -> None:
    with pytest.raises(Conflict):
        MilestonePlan("p", [mould_trial(), mould_trial()])


def test_plan_escalations_are_ordered_by_days_late() -> None:
    plan = MilestonePlan(
        "p",
        [
            mould_trial(id="x", due=dt.date(2025, 3, 10)),
            mould_trial(id="y", due=dt.date(2025, 3, 5)),
            mould_trial(id="z", due=dt.date(2025, 3, 20)),
        ],
    )
    assert [(e.milestone_id, e.days_late) for e in plan.escalations(dt.date(2025, 3, 12))] == [
        ("y", 7),
        ("x", 2),
    ]


def test_outcome_evidence_sums_reproduce_the_on_time_rate() -> None:
    """ISO 22400 rule (a ratio indicator is a ratio of sums): summing
    the milestone_outcome fields over the plan gives 12 on time of 13 counted, as above."""
    as_of = dt.date(2025, 3, 31)
    records = []
    for m in npi_plan().milestones:
        raw = {
            "subject": "team:npi-x1",
            "source": "perfcore.milestones",
            "external_id": m.id,
            "occurred_at": "2025-03-31T00:00:00+08:00",
            "fields": m.outcome_fields(as_of),
        }
        rec = validate_record(MILESTONE_OUTCOME, raw, recorded_at=at("2025-03-31T00:00"))
        assert isinstance(rec, EvidenceRecord)
        records.append(rec)
    on_time = sum(r.fields["on_time_count"] for r in records)  # type: ignore[misc]
    counted = sum(r.fields["counted"] for r in records)  # type: ignore[misc]
    assert (on_time, counted) == (12, 13)
    late = next(r for r in records if r.fields["milestone"] == "m07")
    assert late.fields["days_late"] == 2
    assert late.fields["root_cause"] == "supplier_lead_time_slip"


def test_outcome_as_of_before_a_late_completion_counts_days_late_so_far() -> None:
    """Replay: as of 03-08, m07 (due 03-07, completed 03-09) is open and 1 day late."""
    m07 = npi_plan().get("m07")
    fields = m07.outcome_fields(dt.date(2025, 3, 8))
    assert (fields["counted"], fields["on_time_count"], fields["days_late"]) == (1, 0, 1)
    assert fields["completed_on"] is None
