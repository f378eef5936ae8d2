"""Evidence log: idempotent re-ingest, conflicts, corrections that supersede, quarantine.

perfcore's rules: re-ingesting the same record changes nothing;
a correction (new version) supersedes and the old one is kept for audit; bad records are kept
aside — read = accepted + rejected, always.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfcore.domain.errors import Conflict
from perfcore.domain.evidence import EvidenceRecord, EvidenceType, Rejection, validate_record
from perfcore.domain.evidence_log import EvidenceLog, IngestOutcome
from perfcore.domain.values import SubjectRef

NOW = dt.datetime(2025, 3, 14, 9, 0, tzinfo=dt.UTC)
REWORK = EvidenceType.declare("rework", {"hours": "number", "order": "text"})


def record(
    ext: str = "RW-1", hours: object = "2.5", version: int = 1, **extra: object
) -> EvidenceRecord | Rejection:
    raw: dict[str, object] = {
        "subject": "person:W7",
        "source": "erp",
        "external_id": ext,
        "occurred_at": "2025-03-13T16:00:00+08:00",
        "version": version,
        "fields": {"hours": hours, "order": "WO-889"},
        **extra,
    }
    return validate_record(REWORK, raw, recorded_at=NOW)


def ok(item: EvidenceRecord | Rejection) -> EvidenceRecord:
    assert isinstance(item, EvidenceRecord), item
    return item


def test_reingesting_the_same_record_changes_nothing() -> None:
    log = EvidenceLog()
    assert log.ingest(ok(record())) is IngestOutcome.NEW
    later = validate_record(
        REWORK,
        {
            "subject": "person:W7",
            "source": "erp",
            "external_id": "RW-1",
            "occurred_at": "2025-03-13T08:00:00Z",
            "recorded_at": "2025-03-20T00:00:00Z",
            "fields": {"hours": 2.5, "order": "WO-889"},
        },
    )
    assert log.ingest(ok(later)) is IngestOutcome.UNCHANGED
    assert len(log.current()) == 1
    assert log.current()[0].provenance.recorded_at == NOW  # the first one is kept


def test_same_key_with_different_content_is_a_conflict_and_changes_nothing() -> None:
    log = EvidenceLog()
    log.ingest(ok(record()))
    with pytest.raises(Conflict) as err:
        log.ingest(ok(record(hours=3)))
    assert err.value.field == "provenance.idempotency_key"
    assert err.value.valid is not None
    assert "version 2" in err.value.valid
    assert log.current()[0].fields["hours"] == Decimal("2.5")


def test_correction_supersedes_the_current_version_and_keeps_history() -> None:
    log = EvidenceLog()
    log.ingest(ok(record()))
    assert log.ingest(ok(record(hours=3, version=2))) is IngestOutcome.CORRECTED

    [current] = log.current()
    assert current.fields["hours"] == 3
    assert current.supersedes == "erp:RW-1:v1"
    history = log.history("erp", "RW-1")
    assert [(r.version, r.fields["hours"]) for r in history] == [(1, Decimal("2.5")), (2, 3)]
    assert log.get("erp:RW-1:v1") is history[0]
    assert len(log.all_versions()) == 2


def test_stale_correction_is_a_conflict() -> None:
    log = EvidenceLog()
    log.ingest(ok(record()))
    log.ingest(ok(record(hours=3, version=2)))
    with pytest.raises(Conflict) as err:
        log.ingest(ok(record(hours=4, version=2, idempotency_key="other")))
    assert err.value.field == "version"
    with pytest.raises(Conflict) as err2:
        log.ingest(ok(record(hours=4, version=3, supersedes="erp:RW-1:v1")))
    assert err2.value.field == "supersedes"
    assert err2.value.valid == "version 3 with supersedes='erp:RW-1:v2'"


def test_correction_arriving_before_its_original_is_quarantined_until_replayed() -> None:
    """Out-of-order arrival: the correction is kept aside (not dropped); replaying it after the
    original arrived accepts it."""
    log = EvidenceLog()
    early = ok(record(hours=3, version=2))
    first = log.ingest_many([early, ok(record())])
    assert (first.new, first.rejected) == (1, 1)
    assert log.ingest(early) is IngestOutcome.CORRECTED


def test_correction_of_an_unknown_record_is_a_conflict() -> None:
    with pytest.raises(Conflict) as err:
        EvidenceLog().ingest(ok(record(version=2)))
    assert err.value.valid == "ingest version 1 first"


def test_batch_reports_read_equals_accepted_plus_rejected_and_quarantines_conflicts() -> None:
    log = EvidenceLog()
    items = [
        record("RW-1"),
        record("RW-1"),  # duplicate: unchanged
        record("RW-2", hours="lots"),  # rejected by validation
        record("RW-1", hours=9),  # conflict: quarantined, not raised
        record("RW-1", hours=3, version=2),  # correction
        record("RW-3"),
    ]
    report = log.ingest_many(items)
    assert (report.read, report.accepted, report.rejected) == (6, 4, 2)
    assert (report.new, report.unchanged, report.corrected) == (2, 1, 1)
    assert report.read == report.accepted + report.rejected
    assert [r.reasons[0].field for r in log.rejected] == [
        "fields.hours",
        "provenance.idempotency_key",
    ]
    assert log.rejected[1].raw["fields"] == {"hours": Decimal(9), "order": "WO-889"}
    assert sorted(r.provenance.external_id for r in log.current()) == ["RW-1", "RW-3"]


def test_current_filters_by_type_and_subject() -> None:
    log = EvidenceLog()
    log.ingest(ok(record("RW-1")))
    assert log.current(subject=SubjectRef.person("W7"), evidence_type="rework")
    assert log.current(subject=SubjectRef.person("W8")) == []
    assert log.current(evidence_type="inspection") == []


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["RW-1", "RW-2", "RW-3"]),
            st.sampled_from(["1", "2", "x"]),
            st.integers(1, 3),
        ),
        max_size=25,
    )
)
def test_read_always_equals_accepted_plus_rejected(
    rows: list[tuple[str, str, int]],
) -> None:
    """perfcore's rule: read = accepted + rejected, always — whatever the mix of
    duplicates, conflicts, corrections and invalid rows; and re-ingesting every accepted record
    changes nothing."""
    log = EvidenceLog()
    items = [record(ext, hours, version) for ext, hours, version in rows]
    report = log.ingest_many(items)
    assert report.read == len(rows) == report.accepted + report.rejected
    snapshot = log.all_versions()
    again = log.ingest_many(snapshot)
    assert again.unchanged == len(snapshot)
    assert again.rejected == 0
    assert log.all_versions() == snapshot
