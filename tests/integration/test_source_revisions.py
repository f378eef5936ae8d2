"""Corrections sent by a source: a ``version`` column carries each record's revision number.

plan.md ``sources.<name>.version``: a higher revision than the stored one of the same id is a
correction (the stored version is kept for audit and the scorecard follows the new values), the
same revision again is a duplicate, a lower revision with other content is quarantined as
stale, and a bad revision number is quarantined with the column as its field path. Checked
through ``IngestBatch`` on the in-memory fakes, SQLite and PostgreSQL; expected fpy values are
computed here from the rows sent.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from perfcore.bootstrap import bootstrap
from perfcore.domain.values import SubjectRef
from perfcore.plan import PlanError, loads
from perfcore.services import commands as c
from perfcore.services.handlers.evidence import IngestResult, revision_key
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import FakeClock, RecordingNotifier

E1 = SubjectRef.person("E1")

PLAN = """
perfcore: 1
name: revisions
time_zone: UTC
period: month
evidence:
  inspection:
    fields: {inspected: number, good: number}
indicators:
  inspected: {evidence: inspection, agg: sum, expr: inspected}
  good: {evidence: inspection, agg: sum, expr: good}
  fpy: {type: ratio, numerator: good, denominator: inspected, target: 0.95}
objectives:
  quality: {weight: 100, indicators: {fpy: 100}}
weights: {sum_to: 100}
sources:
  mes:
    evidence: inspection
    subject: {field: badge}
    occurred_at: {field: at}
    id: [lot]
    version: rev
    fields: {inspected: qty, good: ok}
"""


@pytest.fixture
def bus(any_uow: Any) -> MessageBus:
    clock = FakeClock(dt.datetime(2025, 3, 31, 20, tzinfo=dt.UTC))
    made = bootstrap(uow=any_uow, clock=clock, notifiers={"*": RecordingNotifier()})
    made.handle(c.ApplyPlan(PLAN))
    return made


def row(lot: str, rev: object, ok: int, *, day: int = 10) -> dict[str, object]:
    return {"badge": "E1", "at": f"2025-03-{day:02d}T09:00:00Z", "lot": lot, "rev": rev,
            "qty": "10", "ok": str(ok)}  # fmt: skip


def ingest(bus: MessageBus, *rows: dict[str, object]) -> IngestResult:
    result: IngestResult = bus.handle(c.IngestBatch("mes", rows))
    assert result.read == result.accepted + result.duplicates + result.rejected
    return result


def fpy(bus: MessageBus) -> Decimal:
    bus.handle(c.ComputeScorecards(("2025-03",), (E1,)))
    with bus.uow as uow:
        card = uow.scorecards.get(E1, "2025-03")
    assert card is not None
    value: Decimal = card.values["fpy"]
    return value


def test_a_higher_revision_corrects_the_record_and_keeps_the_old_one(bus: MessageBus) -> None:
    assert ingest(bus, row("L1", 1, 9), row("L2", 1, 10)) == IngestResult(2, 2, 0, 0)
    assert fpy(bus) == Decimal(19) / Decimal(20)
    assert ingest(bus, row("L1", "3", 6)) == IngestResult(1, 1, 0, 0)  # 3 may follow 1
    assert fpy(bus) == Decimal(16) / Decimal(20)
    with bus.uow as uow:
        history = uow.evidence.versions("mes", "L1")
        current = {e.external_id: e.values["good"] for e in uow.evidence.list()}
    assert [(v.key, v.version, v.supersedes) for v in history] == [
        ("mes:L1:r1", 1, None),
        ("mes:L1:r3", 2, "mes:L1:r1"),
    ]
    assert history[0].values["good"] == Decimal(9)  # kept for audit
    assert current == {"L1": Decimal(6), "L2": Decimal(10)}


def test_a_full_re_send_of_the_history_changes_nothing(bus: MessageBus) -> None:
    ingest(bus, row("L1", 1, 9))
    ingest(bus, row("L1", 2, 7))
    again = ingest(bus, row("L1", 1, 9), row("L1", 2, 7), row("L1", " 2 ", 7))
    assert again == IngestResult(3, 0, 3, 0)
    assert fpy(bus) == Decimal(7) / Decimal(10)


def test_stale_and_conflicting_revisions_are_quarantined_with_the_column(bus: MessageBus) -> None:
    ingest(bus, row("L1", 2, 9))
    ingest(bus, row("L1", 3, 7))
    # revision 1 was never stored and is older than 3; revision 2 is stored with other values
    result = ingest(bus, row("L1", 1, 8), row("L1", 2, 5))
    assert result == IngestResult(2, 0, 0, 2)
    with bus.uow as uow:
        changed, stale = sorted((q.field_path, q.reason) for q in uow.evidence.quarantined())
    assert stale == ("rev", "stale revision 1 of mes/L1: revision 3 is stored "
                     "(key 'mes:L1:r3'); send a revision higher than 3")  # fmt: skip
    assert changed == (
        "rev",
        "revision 2 of mes/L1 is already stored with other values (key 'mes:L1:r2'); "
        "send changed values as a revision higher than 3",
    )
    assert fpy(bus) == Decimal(7) / Decimal(10)


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5", "", None])
def test_a_bad_revision_number_is_quarantined(bus: MessageBus, bad: object) -> None:
    result = ingest(bus, row("L1", bad, 9))
    assert result == IngestResult(1, 0, 0, 1)
    with bus.uow as uow:
        [q] = uow.evidence.quarantined()
    assert q.field_path == "rev"
    assert q.reason == f"{bad!r} is not a revision number (valid: a whole number >= 1)"


def test_a_higher_revision_with_the_same_values_keeps_the_source_order(bus: MessageBus) -> None:
    ingest(bus, row("L1", 1, 9))
    assert ingest(bus, row("L1", 5, 9)) == IngestResult(1, 1, 0, 0)  # recorded: revision 5
    # revision 4 is older than 5 in the source system: stale, although it changes the values
    assert ingest(bus, row("L1", 4, 7)) == IngestResult(1, 0, 0, 1)
    with bus.uow as uow:
        assert [v.key for v in uow.evidence.versions("mes", "L1")] == ["mes:L1:r1", "mes:L1:r5"]
    assert fpy(bus) == Decimal(9) / Decimal(10)


def test_records_stored_before_the_version_column_count_as_revision_0(bus: MessageBus) -> None:
    bus.handle(c.ApplyPlan(PLAN.replace("    version: rev\n", "")))
    ingest(bus, row("L1", "", 9), row("L2", "", 10))  # no version column: keys ...:v1
    bus.handle(c.ApplyPlan(PLAN))
    # the same values under revision 1 confirm the stored records; changed values correct them
    assert ingest(bus, row("L1", 1, 9), row("L2", 1, 8)) == IngestResult(2, 1, 1, 0)
    with bus.uow as uow:
        assert [v.key for v in uow.evidence.versions("mes", "L1")] == ["mes:L1:v1"]
        assert [v.key for v in uow.evidence.versions("mes", "L2")] == ["mes:L2:v1", "mes:L2:r1"]
    assert fpy(bus) == Decimal(17) / Decimal(20)


def test_the_revision_key_escapes_like_the_default_key() -> None:
    assert revision_key("mes", "A:1", 3) == "mes:A%3A1:r3"


def test_the_version_column_is_checked_against_the_declared_columns() -> None:
    declared = "    id: [lot]\n    columns: [badge, at, lot, qty, ok]\n"
    text = PLAN.replace("    id: [lot]\n", declared)
    with pytest.raises(PlanError) as info:
        loads(text, "p.yaml")
    [message] = info.value.messages
    assert "sources.mes.version: column 'rev' is not in the source's declared columns" in message


def test_revisions_of_one_record_inside_one_batch_apply_in_order(bus: MessageBus) -> None:
    result = ingest(bus, row("L1", 1, 9), row("L1", 1, 9), row("L1", 2, 8), row("L1", 1, 9))
    assert result == IngestResult(4, 2, 2, 0)  # original, duplicate, correction, old duplicate
    with bus.uow as uow:
        assert [v.key for v in uow.evidence.versions("mes", "L1")] == ["mes:L1:r1", "mes:L1:r2"]
    assert fpy(bus) == Decimal(8) / Decimal(10)


def test_a_revision_moving_the_only_record_to_another_month_leaves_no_empty_scorecard(
    bus: MessageBus,
) -> None:
    ingest(bus, row("L1", 1, 9))
    assert fpy(bus) == Decimal(9) / Decimal(10)
    moved = {**row("L1", 2, 8), "at": "2025-04-02T09:00:00Z"}
    assert ingest(bus, moved) == IngestResult(1, 1, 0, 0)
    with bus.uow as uow:
        assert [k for _s, k, _c in uow.scorecards.list(subject=E1)] == ["2025-04"]
