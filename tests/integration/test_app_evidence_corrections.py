"""Evidence corrections, closed periods and late evidence in cumulative windows, through the
message bus — on the in-memory fakes, SQLite and PostgreSQL alike.

perfcore's rule: a correction is a new version that supersedes the old one (kept for
audit); late evidence re-scores periods that are still open; closed periods change only through
an explicit recompute. Expected values are computed in the tests from the records they send.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from perfcore.bootstrap import bootstrap
from perfcore.domain.values import SubjectRef
from perfcore.services import commands as c
from perfcore.services.handlers.evidence import CorrectionResult
from perfcore.services.messagebus import MessageBus
from perfcore.services.records import ClosedPeriod, ScorecardRecord
from perfcore.testing.fakes import FakeClock, RecordingNotifier

E1 = SubjectRef.person("E1")
UTC = dt.UTC
V1 = "manual:lot-1:v1"
V2 = "manual:lot-1:v2"

PLAN = """
perfcore: 1
name: corrections
time_zone: UTC
period: month
locale: en
evidence:
  inspection:
    fields: {inspected: number, good: number}
people:
  - {id: E1, name: Li Wei, manager: M1}
  - {id: M1, name: Zhang Min}
indicators:
  inspected: {evidence: inspection, agg: sum, expr: inspected}
  good: {evidence: inspection, agg: sum, expr: good}
  fpy: {type: ratio, numerator: good, denominator: inspected, target: 0.95}
  good_3m: {type: cumulative, evidence: inspection, agg: sum, expr: good, window: "3 months"}
objectives:
  quality: {weight: 100, indicators: {fpy: 100}}
weights: {sum_to: 100}
"""


@pytest.fixture
def world(any_uow: Any) -> tuple[MessageBus, FakeClock]:
    clock = FakeClock(dt.datetime(2025, 7, 1, 8, tzinfo=UTC))
    bus = bootstrap(uow=any_uow, clock=clock, notifiers={"*": RecordingNotifier()})
    bus.handle(c.ApplyPlan(PLAN))
    return bus, clock


def lot(good: int, *, day: int = 10, month: int = 3, version: int = 1, **kw: Any) -> c.Command:
    at = dt.datetime(2025, month, day, 9, tzinfo=UTC)
    values = {"inspected": 10, "good": good}
    return c.RecordEvidence(
        "inspection", values, at, subject=E1, external_id="lot-1", version=version, **kw
    )


def card(bus: MessageBus, key: str) -> ScorecardRecord:
    with bus.uow as uow:
        found: ScorecardRecord | None = uow.scorecards.get(E1, key)
    assert found is not None, key
    return found


def test_a_correction_supersedes_the_old_version_which_is_kept_for_audit(
    world: tuple[MessageBus, FakeClock],
) -> None:
    bus, _ = world
    assert bus.handle(lot(9)) is True
    assert card(bus, "2025-03").values["fpy"] == Decimal(9) / Decimal(10)
    assert bus.handle(lot(6, version=2)) is True  # supersedes defaults to version 1's key
    assert card(bus, "2025-03").values["fpy"] == Decimal(6) / Decimal(10)
    with bus.uow as uow:
        [current] = uow.evidence.list()
        history = uow.evidence.versions("manual", "lot-1")
        old = uow.evidence.get_by_idempotency_key(V1)
    assert (current.key, current.version, current.supersedes) == (V2, 2, V1)
    assert [(v.key, v.version) for v in history] == [(V1, 1), (V2, 2)]
    assert old is not None
    assert old.values["good"] == Decimal(9)


def test_resending_the_same_correction_changes_nothing(
    world: tuple[MessageBus, FakeClock],
) -> None:
    bus, _ = world
    bus.handle(lot(9))
    assert bus.handle(lot(6, version=2)) is True
    assert bus.handle(lot(6, version=2)) is False
    with bus.uow as uow:
        assert len(uow.evidence.versions("manual", "lot-1")) == 2
        assert uow.evidence.quarantined() == []


def test_a_stale_or_skipped_correction_is_a_conflict_quarantined_with_its_reason(
    world: tuple[MessageBus, FakeClock],
) -> None:
    bus, _ = world
    bus.handle(lot(9))
    bus.handle(lot(6, version=2))
    stale = lot(7, version=2, idempotency_key="manual:lot-1:v2-bis")  # follows v1, not v2
    skipped = lot(7, version=4, supersedes=V2)
    assert bus.handle(stale) is False
    assert bus.handle(skipped) is False
    with bus.uow as uow:
        reasons = sorted(q.reason for q in uow.evidence.quarantined())
        [current] = uow.evidence.list()
    assert current.key == V2
    assert reasons == [
        "conflict: skipped correction (version 4 superseding 'manual:lot-1:v2') of manual/lot-1;"
        " the current version is 2 (key 'manual:lot-1:v2'): send version 3 with"
        " supersedes='manual:lot-1:v2'",
        "conflict: stale correction (version 2 superseding 'manual:lot-1:v1') of manual/lot-1;"
        " the current version is 2 (key 'manual:lot-1:v2'): send version 3 with"
        " supersedes='manual:lot-1:v2'",
    ]
    assert card(bus, "2025-03").values["fpy"] == Decimal(6) / Decimal(10)


def test_a_correction_without_an_original_is_a_conflict(
    world: tuple[MessageBus, FakeClock],
) -> None:
    bus, _ = world
    assert bus.handle(lot(6, version=2)) is False
    with bus.uow as uow:
        [bad] = uow.evidence.quarantined()
    assert "which has no recorded original" in bad.reason


def test_correct_evidence_moving_a_record_rescores_the_old_and_the_new_period(
    world: tuple[MessageBus, FakeClock],
) -> None:
    bus, _ = world
    bus.handle(lot(9))
    moved = dt.datetime(2025, 4, 2, 9, tzinfo=UTC)
    result = bus.handle(c.CorrectEvidence(V1, {"good": 8}, occurred_at=moved))
    assert result == CorrectionResult("corrected", V2, 2, "", ("2025-03", "2025-04"), ())
    with bus.uow as uow:  # v1 no longer counts: March has no evidence, so no scorecard left
        assert uow.scorecards.get(E1, "2025-03") is None
        assert [k for _s, k, _c in uow.scorecards.list(subject=E1)] == ["2025-04"]
    april = card(bus, "2025-04")
    assert april.values["fpy"] == Decimal(8) / Decimal(10)
    assert april.evidence_count == 1


def test_correcting_a_superseded_version_is_refused_in_the_result(
    world: tuple[MessageBus, FakeClock],
) -> None:
    bus, _ = world
    bus.handle(lot(9))
    bus.handle(c.CorrectEvidence(V1, {"good": 8}))
    again: CorrectionResult = bus.handle(c.CorrectEvidence(V1, {"good": 7}))
    assert again.outcome == "rejected"
    assert "the current version is 2" in again.reason
    assert card(bus, "2025-03").values["good"] == Decimal(8)


def test_a_correction_in_a_closed_period_is_held_until_an_explicit_recompute(
    world: tuple[MessageBus, FakeClock],
) -> None:
    bus, _ = world
    bus.handle(lot(9))
    closed = bus.handle(c.ClosePeriod("2025-03", by="HR1", reason="month-end"))
    assert isinstance(closed, ClosedPeriod)
    result: CorrectionResult = bus.handle(c.CorrectEvidence(V1, {"good": 6}))
    assert (result.outcome, result.rescored, result.held) == ("corrected", (), ("2025-03",))
    assert card(bus, "2025-03").values["fpy"] == Decimal(9) / Decimal(10)  # unchanged
    with bus.uow as uow:
        held = uow.periods.get("2025-03")
    assert held.held == ("person:E1",)
    [recomputed] = bus.handle(c.ComputeScorecards(("2025-03",)))
    assert recomputed.values["fpy"] == Decimal(6) / Decimal(10)
    with bus.uow as uow:
        assert uow.periods.get("2025-03").held == ()


def test_reopening_a_period_refreshes_what_was_held(world: tuple[MessageBus, FakeClock]) -> None:
    bus, _ = world
    bus.handle(lot(9))
    bus.handle(c.ClosePeriod("2025-03"))
    bus.handle(_second_lot())
    assert card(bus, "2025-03").values["good"] == Decimal(9)
    assert bus.handle(c.ClosePeriod("2025-03", reopen=True)) is None
    assert card(bus, "2025-03").values["good"] == Decimal(9 + 4)


def _second_lot() -> c.Command:
    at = dt.datetime(2025, 3, 11, 9, tzinfo=UTC)
    return c.RecordEvidence(
        "inspection", {"inspected": 10, "good": 4}, at, subject=E1, external_id="lot-2"
    )


def test_late_evidence_rescores_later_periods_whose_cumulative_window_reads_it(
    world: tuple[MessageBus, FakeClock],
) -> None:
    """good_3m of a month sums ``good`` over the three months ending with it: March counts for
    April and May, not for June (June's window starts on 31 March)."""
    bus, clock = world
    for month, good in ((3, 9), (4, 8), (5, 7), (6, 6)):
        at = dt.datetime(2025, month, 1, 9, tzinfo=UTC)
        bus.handle(
            c.RecordEvidence(
                "inspection",
                {"inspected": 10, "good": good},
                at,
                subject=E1,
                external_id=f"m{month}",
            )
        )
    bus.handle(c.ComputeScorecards(("2025-03", "2025-04", "2025-05", "2025-06")))
    before = {k: card(bus, k) for k in ("2025-03", "2025-04", "2025-05", "2025-06")}
    assert before["2025-05"].values["good_3m"] == Decimal(9 + 8 + 7)
    clock.advance(hours=1)
    late = dt.datetime(2025, 3, 20, 9, tzinfo=UTC)
    bus.handle(
        c.RecordEvidence(
            "inspection", {"inspected": 10, "good": 5}, late, subject=E1, external_id="late"
        )
    )
    after = {k: card(bus, k) for k in before}
    assert after["2025-03"].values["good_3m"] == Decimal(9 + 5)
    assert after["2025-04"].values["good_3m"] == Decimal(9 + 5 + 8)
    assert after["2025-05"].values["good_3m"] == Decimal(9 + 5 + 8 + 7)
    assert after["2025-06"].values["good_3m"] == Decimal(8 + 7 + 6)
    refreshed = sorted(k for k in after if after[k].computed_at != before[k].computed_at)
    assert refreshed == ["2025-03", "2025-04", "2025-05"]


def test_sql_dirty_pairs_include_later_scored_periods_whose_window_reads_a_late_day(
    tmp_path: Path,
) -> None:
    """The SQL adapter's incremental refresh (refresh.dirty_pairs) marks the same later periods
    as the application layer: April and May read 20 March through good_3m, June does not."""
    from perfcore.domain.values import Period
    from perfcore.plan import loads
    from perfcore.services.records import AcceptedEvidence
    from perfcore_adapters.sqlalchemy import SqlAlchemyUnitOfWork, create_engine_for, upgrade
    from perfcore_adapters.sqlalchemy.refresh import dirty_pairs, refresh_dirty

    plan = loads(PLAN, "plan.yaml")
    engine = create_engine_for(f"sqlite:///{tmp_path}/dirty.db")
    upgrade(engine)
    uow = SqlAlchemyUnitOfWork(engine, tz=UTC)
    values = {"inspected": Decimal(10), "good": Decimal(9)}

    def add(key: str, at: dt.datetime) -> None:
        ev = AcceptedEvidence(key, "inspection", E1, at, at, "mes", key, values)
        uow.evidence.add(key, ev, subject=E1, evidence_type="inspection", at=at)

    with uow:
        for month in (3, 4, 5, 6):
            add(f"m{month}", dt.datetime(2025, month, 1, 9, tzinfo=UTC))
        refresh_dirty(uow, plan)
        uow.commit()
    with uow:
        add("late", dt.datetime(2025, 3, 20, 9, tzinfo=UTC))
        pairs, _ = dirty_pairs(uow, plan)
    assert sorted(p.key for _s, p in pairs) == ["2025-03", "2025-04", "2025-05"]
    assert {s for s, _p in pairs} == {E1}
    assert Period.month(2025, 6) not in {p for _s, p in pairs}
    engine.dispose()
