"""Evidence constraints declared in the plan (trial finding 8): a count below 0, a fraction
of a count or a value above its max is quarantined with a reason naming the field, the value
and the valid range — on the bulk fast path as on the full path — and read = accepted +
rejected. Exponent notation (``1e5``) is a number in data (docs/plan.md); ragged CSV rows
are rejected, never trimmed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from perfcore.bootstrap import bootstrap
from perfcore.domain.evidence import Bounds, EvidenceType, Rejection, validate_record
from perfcore.services import commands as c
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import FakeClock, InMemoryUnitOfWork
from perfcore_adapters.sources.files import CsvConfig, CsvSource, RawColumns

PLAN = """
perfcore: 1
name: constrained
evidence:
  inspection:
    fields: {inspected: number, good: number, share: "number?"}
    constraints:
      inspected: {min: 0, integer: true}
      good: {min: 0}
      share: {min: 0, max: 1}
sources:
  mes:
    evidence: inspection
    subject: {field: badge}
    occurred_at: {field: ts}
    id: [lot]
    fields: {inspected: n_in, good: n_ok, share: share}
indicators:
  good: {evidence: inspection, agg: sum, expr: good}
"""


def _bus() -> MessageBus:
    bus = bootstrap(
        uow=InMemoryUnitOfWork(),
        clock=FakeClock(dt.datetime(2025, 3, 10, tzinfo=dt.UTC)),
    )
    bus.handle(c.ApplyPlan(PLAN, "plan.yaml"))
    return bus


def _row(lot: str, n_in: str, n_ok: str = "1", share: str = "") -> dict[str, str]:
    return {
        "lot": lot,
        "badge": "E1",
        "ts": "2025-03-03T09:00:00+00:00",
        "n_in": n_in,
        "n_ok": n_ok,
        "share": share,
    }


def test_out_of_range_counts_are_quarantined_with_field_value_and_range() -> None:
    bus = _bus()
    rows = [
        _row("L1", "50", "48"),
        _row("L2", "-5"),
        _row("L3", "2.5"),
        _row("L4", "10", share="1.5"),
        _row("L5", "1e5", "99999"),
    ]
    result = bus.handle(c.IngestBatch("mes", rows))
    assert (result.read, result.accepted, result.rejected) == (5, 2, 3)
    assert result.read == result.accepted + result.duplicates + result.rejected
    with bus.uow as uow:
        reasons = sorted(q.reason for q in uow.evidence.quarantined())
        stored = sorted(e.values["inspected"] for e in uow.evidence.list())
    assert reasons == [
        "fields.inspected: -5 is out of range (valid: an integer >= 0)",
        "fields.inspected: 2.5 is out of range (valid: an integer >= 0)",
        "fields.share: 1.5 is out of range (valid: a number from 0 to 1)",
    ]
    # 1e5 is exponent notation for 100000: accepted in data, exactly
    assert stored == [Decimal(50), Decimal(100000)]


def test_a_large_batch_takes_the_fast_path_and_still_rejects_every_bad_row() -> None:
    bus = _bus()
    rows = [_row(f"L{i}", "-1" if i % 10 == 0 else "3", "2") for i in range(200)]
    result = bus.handle(c.IngestBatch("mes", rows))
    assert (result.read, result.accepted, result.rejected) == (200, 180, 20)


def test_validate_record_checks_bounds_only_after_the_value_is_a_number() -> None:
    etype = EvidenceType.declare(
        "inspection", {"inspected": "number"}, {"inspected": Bounds(Decimal(0), integer=True)}
    )
    raw = {
        "subject": "person:E1",
        "source": "mes",
        "external_id": "L1",
        "occurred_at": "2025-03-03T09:00:00+00:00",
        "recorded_at": "2025-03-03T09:00:00+00:00",
        "fields": {"inspected": "ten"},
    }
    out = validate_record(etype, raw)
    assert isinstance(out, Rejection)
    assert str(out) == (
        "fields.inspected: 'ten' is not a number (valid: a finite decimal number such as 12.5)"
    )


def test_a_ragged_csv_row_is_rejected_not_trimmed(tmp_path: Path) -> None:
    path = tmp_path / "mes.csv"
    path.write_text("lot,day\nL1,2025-03-01\nL2,2025-03-02,7\nL3,2025-03-03,\n", encoding="utf-8")
    source = CsvSource(CsvConfig(str(path), raw=RawColumns(occurred_at="day")))
    batches = list(source.read("rows", None))
    records = [r for b in batches for r in b.records]
    rejections = [j for b in batches for j in b.rejections]
    assert [r.data["lot"] for r in records] == ["L1", "L3"]  # a trailing empty cell is no value
    assert [(j.location, j.column, j.reason) for j in rejections] == [
        (
            "mes.csv:3",
            "",
            "the row has 3 values but the header has 2 columns (extra: '7'); "
            "check the delimiter and quoting",
        )
    ]
