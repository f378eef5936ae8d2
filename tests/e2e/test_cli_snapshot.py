"""The demo replays on in-memory storage and then writes the whole state to SQLite in one commit
(``perfcore_adapters.cli._snapshot.copy_state``). These tests pin that the database then answers
the read side exactly as the in-memory store did, and the small display helpers of the CLI."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from perfcore.bootstrap import bootstrap, make_unit_of_work
from perfcore.services import commands as c
from perfcore.services import queries
from perfcore.testing.fakes import FakeClock, RecordingNotifier
from perfcore_adapters.cli._cmd_views import short_numbers, sparkline
from perfcore_adapters.cli._fastmem import indexed_unit_of_work
from perfcore_adapters.cli._replay import rating_from_rank
from perfcore_adapters.cli._snapshot import copy_state
from perfcore_adapters.cli._starter import STARTER_CSV, STARTER_PLAN

START = dt.datetime(2025, 3, 3, 18, tzinfo=dt.UTC)


def _rows() -> list[dict[str, str]]:
    lines = STARTER_CSV.strip().splitlines()
    header = lines[0].split(",")
    return [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]


def test_a_copied_database_answers_the_read_side_like_the_memory_store(tmp_path: Path) -> None:
    clock = FakeClock(START)
    bus = bootstrap(uow=indexed_unit_of_work(), clock=clock, notifiers={"*": RecordingNotifier()})
    bus.handle(c.ApplyPlan(STARTER_PLAN, "perfcore.yaml"))
    bus.handle(c.IngestBatch("inspections", _rows()))
    bus.handle(c.IngestBatch("inspections", [{"date": "2025-03-07", "leader": "E1"}]))  # bad row
    clock.advance(hours=49)
    bus.handle(c.TickClock())
    bus.handle(c.EvaluateIncentives("2025-03"))
    bus.handle(c.ClosePeriod("2025-03", by="hr"))

    target = make_unit_of_work(f"sqlite:///{tmp_path / 'copy.db'}")
    counts = copy_state(bus.uow, target)
    assert counts["evidence"] == 8
    assert counts["quarantined"] == 1
    assert counts["alerts"] == 1  # E1 on 2025-03-04: 111/130 = 0.854 < 0.9
    assert counts["closed_periods"] == 1

    copy = bootstrap(uow=target, clock=FakeClock(clock.now()), notifiers={"*": RecordingNotifier()})
    assert queries.scorecards(copy, "2025-03") == queries.scorecards(bus, "2025-03")
    assert queries.review_inbox(copy) == queries.review_inbox(bus)
    assert queries.ledger_balances(copy) == queries.ledger_balances(bus)
    with bus.uow as a, copy.uow as b:
        assert [m.dedupe_key for m in a.outbox.all()] == [m.dedupe_key for m in b.outbox.all()]
        assert [m.status for m in a.outbox.all()] == [m.status for m in b.outbox.all()]
        assert a.evidence.quarantined()[0].reason == b.evidence.quarantined()[0].reason
        assert a.periods.get("2025-03") == b.periods.get("2025-03")


def test_indexed_memory_store_lists_a_subjects_evidence_like_the_plain_fake() -> None:
    plain = bootstrap(storage="memory", clock=FakeClock(START), notifiers={})
    fast = bootstrap(uow=indexed_unit_of_work(), clock=FakeClock(START), notifiers={})
    for bus in (plain, fast):
        bus.handle(c.ApplyPlan(STARTER_PLAN, "perfcore.yaml"))
        bus.handle(c.IngestBatch("inspections", _rows()))
    end = dt.datetime(2025, 3, 5, tzinfo=dt.UTC)
    for subject in ("person:E1", "person:E2"):
        from perfcore.domain.values import SubjectRef

        ref = SubjectRef.parse(subject)
        with plain.uow as a, fast.uow as b:
            assert [e.key for e in a.evidence.list(subject=ref, end=end)] == [
                e.key for e in b.evidence.list(subject=ref, end=end)
            ]
            assert len(b.evidence.list(subject=ref)) == 4


def test_sparkline_scales_from_lowest_to_highest_and_marks_values_under_the_threshold() -> None:
    values = [Decimal(0), Decimal(7), None, Decimal(14)]
    assert sparkline(values) == "▁▄ █"
    assert sparkline(values, low=Decimal(5)) == "[red]▁[/]▄ █"
    assert sparkline([None, None]) == ""
    assert sparkline([Decimal(3), Decimal(3)]) == "▅▅"


def test_alert_reasons_are_shown_with_three_decimals() -> None:
    text = "attainment = 0.6745185186666666666666666667 is below 0.75"
    assert short_numbers(text) == "attainment = 0.675 is below 0.75"


def test_simulated_managers_rate_bottom_fifth_2_top_fifth_4_and_the_rest_3() -> None:
    # five people: ranks 0..4 -> shares 0, .2, .4, .6, .8 -> 2, 3, 3, 3, 4 (a 20/60/20 split)
    assert [rating_from_rank(r, 5) for r in range(5)] == [Decimal(v) for v in (2, 3, 3, 3, 4)]
