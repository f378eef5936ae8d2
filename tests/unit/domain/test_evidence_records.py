"""Evidence types, validation into records or rejections, provenance and default keys.

perfcore's rules (provenance on every record; bad records are
rejected with a reason and kept aside — read = accepted + rejected).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from perfcore.domain.errors import InvalidValue
from perfcore.domain.evidence import (
    EvidenceRecord,
    EvidenceType,
    FieldType,
    Provenance,
    Rejection,
    coerce_value,
    default_idempotency_key,
    validate_record,
)
from perfcore.domain.values import SubjectRef

CST = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2025, 3, 14, 9, 0, tzinfo=dt.UTC)

INSPECTION = EvidenceType.declare(
    "inspection",
    {
        "inspected": "number",
        "good": "number",
        "passed_first_piece": "boolean",
        "shift_date": "date",
        "closed_at": "datetime?",
        "downtime": "duration?",
        "note": "text?",
    },
)


def raw(**over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "subject": "person:E1042",
        "source": "mes",
        "external_id": "insp-77",
        "occurred_at": "2025-03-14T08:30:00+08:00",
        "fields": {
            "inspected": 120,
            "good": "117",
            "passed_first_piece": "true",
            "shift_date": "2025-03-14",
            "downtime": "PT1H30M",
        },
    }
    base.update(over)
    return base


def test_type_names_are_the_formula_language_names() -> None:
    assert [t.value for t in FieldType] == [
        "number",
        "text",
        "boolean",
        "date",
        "datetime",
        "duration",
    ]
    assert INSPECTION.schema["downtime"] == "duration"


def test_declare_marks_optional_fields_with_a_question_mark() -> None:
    spec = INSPECTION.spec("note")
    assert spec is not None
    assert (spec.type, spec.required) == (FieldType.TEXT, False)
    good = INSPECTION.spec("good")
    assert good is not None
    assert good.required


def test_unknown_type_name_is_refused_with_the_valid_names() -> None:
    with pytest.raises(InvalidValue) as err:
        EvidenceType.declare("visit", {"count": "integer"})
    assert err.value.field == "evidence_types[visit].fields.count"
    assert err.value.valid == "number, text, boolean, date, datetime, duration"


def test_duplicate_or_bad_field_names_are_refused() -> None:
    with pytest.raises(InvalidValue) as err:
        EvidenceType.declare("visit", {"1st": "number"})
    assert err.value.field == "evidence_types[visit].fields.1st"


def test_valid_raw_record_becomes_a_typed_record_with_provenance() -> None:
    result = validate_record(INSPECTION, raw(), recorded_at=NOW)
    assert isinstance(result, EvidenceRecord)
    assert result.subject == SubjectRef.person("E1042")
    assert result.fields["good"] == Decimal("117")
    assert result.fields["passed_first_piece"] is True
    assert result.fields["shift_date"] == dt.date(2025, 3, 14)
    assert result.fields["downtime"] == dt.timedelta(hours=1, minutes=30)
    assert result.fields["closed_at"] is None
    assert result.provenance == Provenance(
        "mes", "insp-77", dt.datetime(2025, 3, 14, 8, 30, tzinfo=CST), NOW, "mes:insp-77:v1"
    )
    assert (result.version, result.supersedes) == (1, None)


def test_default_idempotency_key_is_deterministic_and_unambiguous() -> None:
    assert default_idempotency_key("mes", "insp-77") == "mes:insp-77:v1"
    assert default_idempotency_key("mes", "A:1", 2) == "mes:A%3A1:v2"
    assert default_idempotency_key("mes:A", "1") != default_idempotency_key("mes", "A:1")


def test_explicit_idempotency_key_is_kept() -> None:
    result = validate_record(INSPECTION, raw(idempotency_key="batch-9/row-3"), recorded_at=NOW)
    assert isinstance(result, EvidenceRecord)
    assert result.key == "batch-9/row-3"


def test_correction_defaults_supersedes_to_the_previous_versions_default_key() -> None:
    result = validate_record(INSPECTION, raw(version=2), recorded_at=NOW)
    assert isinstance(result, EvidenceRecord)
    assert result.key == "mes:insp-77:v2"
    assert result.supersedes == "mes:insp-77:v1"
    assert result.is_correction


def test_bad_record_is_rejected_with_every_reason_and_the_raw_record_kept() -> None:
    bad = raw(
        subject="E1042",
        occurred_at="2025-03-14T08:30:00",
        fields={"inspected": "many", "good": 3, "passed_first_piece": "yes", "colour": "red"},
    )
    result = validate_record(INSPECTION, bad, recorded_at=NOW)
    assert isinstance(result, Rejection)
    by_field = {r.field: r for r in result.reasons}
    assert set(by_field) == {
        "subject",
        "provenance.occurred_at",
        "fields.inspected",
        "fields.passed_first_piece",
        "fields.shift_date",
        "fields.colour",
    }
    assert by_field["subject"].valid == "person:<id> or team:<id>"
    assert by_field["fields.passed_first_piece"].valid == "true or false"
    assert by_field["fields.shift_date"].message == "required field is missing"
    assert by_field["fields.colour"].message == "unknown field"
    assert "naive" in by_field["provenance.occurred_at"].message
    assert result.raw == bad
    assert result.key == "mes:insp-77:v1"


def test_missing_recorded_at_without_a_clock_value_is_a_reason() -> None:
    result = validate_record(INSPECTION, raw())
    assert isinstance(result, Rejection)
    assert [r.field for r in result.reasons] == ["provenance.recorded_at"]


def test_missing_source_and_unknown_top_level_key_are_reasons() -> None:
    bad = raw(source="", extra=1)
    result = validate_record(INSPECTION, bad, recorded_at=NOW)
    assert isinstance(result, Rejection)
    assert {r.field for r in result.reasons} == {"provenance.source", "extra"}
    assert result.key.startswith("raw:")


def test_version_one_cannot_supersede_and_bad_versions_are_reasons() -> None:
    r1 = validate_record(INSPECTION, raw(supersedes="x"), recorded_at=NOW)
    assert isinstance(r1, Rejection)
    assert [r.field for r in r1.reasons] == ["supersedes"]
    r2 = validate_record(INSPECTION, raw(version=0), recorded_at=NOW)
    assert isinstance(r2, Rejection)
    assert r2.reasons[0].valid == "an integer >= 1"


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        (FieldType.NUMBER, 0.1, Decimal("0.1")),
        (FieldType.BOOLEAN, "FALSE", False),
        (FieldType.DATETIME, "2025-03-14T00:00:00Z", dt.datetime(2025, 3, 14, tzinfo=dt.UTC)),
        (FieldType.DURATION, "P1DT2H", dt.timedelta(days=1, hours=2)),
        (FieldType.DURATION, "PT0.5S", dt.timedelta(milliseconds=500)),
        (FieldType.TEXT, "", ""),
    ],
)
def test_coerce_value_accepts_the_documented_inputs(
    kind: FieldType, value: object, expected: object
) -> None:
    assert coerce_value(kind, value) == expected


@pytest.mark.parametrize(
    ("kind", "value", "valid_fragment"),
    [
        (FieldType.NUMBER, True, "decimal"),
        (FieldType.TEXT, 3, "text"),
        (FieldType.DATE, dt.datetime(2025, 1, 1, tzinfo=dt.UTC), "YYYY-MM-DD"),
        (FieldType.DATETIME, dt.datetime(2025, 1, 1), "tzinfo"),
        (FieldType.DURATION, 90, "PT1H30M"),
        (FieldType.DURATION, "PT", "PT1H30M"),
    ],
)
def test_coerce_value_refuses_with_field_and_valid_text(
    kind: FieldType, value: object, valid_fragment: str
) -> None:
    with pytest.raises(InvalidValue) as err:
        coerce_value(kind, value, field="fields.x")
    assert err.value.field == "fields.x"
    assert err.value.valid is not None
    assert valid_fragment in err.value.valid


def test_fingerprint_ignores_recorded_at_but_not_content() -> None:
    a = validate_record(INSPECTION, raw(), recorded_at=NOW)
    b = validate_record(INSPECTION, raw(), recorded_at=NOW + dt.timedelta(days=1))
    c = validate_record(
        INSPECTION,
        raw(fields={**raw()["fields"], "good": 116}),  # type: ignore[dict-item]
        recorded_at=NOW,
    )
    assert isinstance(a, EvidenceRecord)
    assert isinstance(b, EvidenceRecord)
    assert isinstance(c, EvidenceRecord)
    assert a.fingerprint() == b.fingerprint()
    assert a.fingerprint() != c.fingerprint()


def test_fingerprint_treats_equal_numbers_and_instants_as_equal() -> None:
    """117 and 117.0 are the same number; 08:30+08:00 and 00:30Z are the same instant."""
    a = validate_record(INSPECTION, raw(), recorded_at=NOW)
    fields = dict(raw()["fields"])  # type: ignore[call-overload]
    fields["good"] = "117.0"
    b = validate_record(
        INSPECTION, raw(fields=fields, occurred_at="2025-03-14T00:30:00Z"), recorded_at=NOW
    )
    assert isinstance(a, EvidenceRecord)
    assert isinstance(b, EvidenceRecord)
    assert a.fingerprint() == b.fingerprint()


def test_provenance_refuses_naive_times_and_empty_source() -> None:
    with pytest.raises(InvalidValue) as err:
        Provenance("mes", "1", dt.datetime(2025, 1, 1), NOW, "k")
    assert err.value.field == "provenance.occurred_at"
    with pytest.raises(InvalidValue) as err2:
        Provenance(" ", "1", NOW, NOW, "k")
    assert err2.value.field == "provenance.source"
