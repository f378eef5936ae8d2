"""Evidence in: idempotent, with quarantine; read = accepted + duplicates + rejected; a sync
stores the bookmark with the data."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from perfcore.domain.values import SubjectRef
from perfcore.ports.sources import RawRecord, SourceState
from perfcore.services import commands as c
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import StaticIdentityResolver
from perfcore.testing.sources import InMemorySource

E1 = SubjectRef.person("E1")
AT = dt.datetime(2025, 3, 3, 1, tzinfo=dt.UTC)

SOURCE = """
sources:
  mes:
    evidence: inspection
    subject: {field: badge, system: mes}
    occurred_at: {field: ts}
    id: [lot]
    fields: {inspected: n_in, good: n_ok}
"""


def with_source(plan: str) -> str:
    return plan.replace("people:", SOURCE.strip() + "\npeople:", 1)


def test_the_same_record_twice_is_stored_once(perfcore_bus: MessageBus) -> None:
    cmd = c.RecordEvidence("inspection", {"inspected": 10, "good": 9}, AT, subject=E1)
    assert perfcore_bus.handle(cmd) is True
    assert perfcore_bus.handle(cmd) is False
    with perfcore_bus.uow as uow:
        assert len(uow.evidence.list()) == 1


def test_a_bad_value_is_quarantined_with_its_field_and_reason(perfcore_bus: MessageBus) -> None:
    cmd = c.RecordEvidence("inspection", {"inspected": "ten", "good": 9}, AT, subject=E1)
    assert perfcore_bus.handle(cmd) is False
    with perfcore_bus.uow as uow:
        [bad] = uow.evidence.quarantined()
        assert uow.evidence.list() == []
    assert (bad.field_path, bad.reason) == (
        "fields.inspected",
        "fields.inspected: 'ten' is not a number (valid: a finite decimal number such as 12.5)",
    )


def test_a_batch_reports_read_as_accepted_plus_duplicates_plus_rejected(
    perfcore_bus: MessageBus, perfcore_plan: str, static_identity: StaticIdentityResolver
) -> None:
    perfcore_bus.handle(c.ApplyPlan(with_source(perfcore_plan)))
    static_identity.add("mes", "B-17", E1)
    rows = [
        {
            "lot": "L1",
            "badge": "B-17",
            "ts": "2025-03-03T09:00:00+08:00",
            "n_in": "50",
            "n_ok": "48",
        },
        {
            "lot": "L1",
            "badge": "B-17",
            "ts": "2025-03-03T09:00:00+08:00",
            "n_in": "50",
            "n_ok": "48",
        },
        {"lot": "L2", "badge": "B-99", "ts": "2025-03-03T10:00:00+08:00", "n_in": "5", "n_ok": "5"},
        {"lot": "L3", "badge": "B-17", "ts": "yesterday", "n_in": "5", "n_ok": "5"},
        {"lot": "L4", "badge": "B-17", "ts": "2025-03-04T10:00:00+08:00", "n_in": "5"},
    ]
    result = perfcore_bus.handle(c.IngestBatch("mes", rows))
    assert (result.read, result.accepted, result.duplicates, result.rejected) == (5, 1, 1, 3)
    with perfcore_bus.uow as uow:
        reasons = sorted(q.reason for q in uow.evidence.quarantined())
    assert reasons == [
        "'yesterday' does not match ISO 8601",
        "column 'n_ok' is missing",
        "unresolved identity mes:B-99",
    ]


def test_ingest_refreshes_only_the_touched_scorecards(perfcore_bus: MessageBus) -> None:
    perfcore_bus.handle(
        c.RecordEvidence("inspection", {"inspected": 10, "good": 9}, AT, subject=E1)
    )
    later = AT + dt.timedelta(days=40)  # April
    perfcore_bus.handle(
        c.RecordEvidence("inspection", {"inspected": 10, "good": 10}, later, subject=E1)
    )
    with perfcore_bus.uow as uow:
        march = uow.scorecards.get(E1, "2025-03")
        april = uow.scorecards.get(E1, "2025-04")
    assert march.values["fpy"] == Decimal("0.9")
    assert april.values["fpy"] == Decimal(1)
    assert march.computed_at == april.computed_at  # the fake clock did not move


def test_sync_stores_records_and_the_bookmark_together(
    perfcore_bus: MessageBus, perfcore_plan: str, static_identity: StaticIdentityResolver
) -> None:
    perfcore_bus.handle(c.ApplyPlan(with_source(perfcore_plan)))
    static_identity.add("mes", "B-17", E1)
    records = [
        RawRecord(
            {"lot": f"L{i}", "badge": "B-17", "n_in": "10", "n_ok": "9"},
            f"L{i}",
            AT + dt.timedelta(hours=i),
        )
        for i in range(5)
    ]
    source = InMemorySource({"mes": records}, batch_size=2)
    perfcore_bus.ctx.sources["mes"] = source
    first = perfcore_bus.handle(c.SyncSource("mes"))
    again = perfcore_bus.handle(c.SyncSource("mes"))
    assert (first.read, first.accepted) == (5, 5)
    assert (again.read, again.accepted) == (0, 0)
    with perfcore_bus.uow as uow:
        bookmark = uow.bookmarks.get("mes", "mes")
        assert len(uow.evidence.list()) == 5
    state = SourceState.from_dict(bookmark.state)  # type: ignore[arg-type]
    assert state.bookmark("mes").value is not None
