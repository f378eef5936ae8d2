"""The closed loop end to end through ``bootstrap()`` with the in-memory fakes (issue 5, "Must
show"): evidence in → scorecard → alert → review opened with a 48 h SLA → clock advanced 49 h →
escalation notification in the outbox → feedback → calibration → incentive awarded once — and
every step run twice changes nothing the second time.

Numbers are computed independently here from the plan in ``loop_plan.yaml``:
first pass yield = good / inspected = 85 / 100 = 0.85 (ISO 22400-2 FPY = GP / IP, a ratio of
sums); ratio scoring against the 0.95 target gives 0.85 / 0.95 = 17/19.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from perfcore.bootstrap import bootstrap
from perfcore.domain.values import SubjectRef
from perfcore.services import commands as c
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import FakeClock, InMemoryUnitOfWork, RecordingNotifier

PLAN = (Path(__file__).parent / "loop_plan.yaml").read_text(encoding="utf-8")
E1 = SubjectRef.person("E1")
START = dt.datetime(2025, 3, 3, 1, 0, tzinfo=dt.UTC)  # 09:00 in Asia/Shanghai


@pytest.fixture
def world() -> tuple[MessageBus, FakeClock, InMemoryUnitOfWork, RecordingNotifier]:
    clock = FakeClock(START)
    uow = InMemoryUnitOfWork()
    notifier = RecordingNotifier()
    bus = bootstrap(uow=uow, clock=clock, notifiers={"*": notifier})
    return bus, clock, uow, notifier


def twice(bus: MessageBus, command: c.Command) -> object:
    first = bus.handle(command)
    bus.handle(command)
    return first


def test_the_closed_loop_runs_end_to_end_and_every_step_is_idempotent(
    world: tuple[MessageBus, FakeClock, InMemoryUnitOfWork, RecordingNotifier],
) -> None:
    bus, clock, uow, notifier = world
    assert twice(bus, c.ApplyPlan(PLAN, "loop_plan.yaml")) == 1

    # evidence in -> scorecard
    evidence = c.RecordEvidence(
        "inspection",
        {"inspected": 100, "good": 85},
        START,
        source="mes",
        external_id="lot-1",
        subject=E1,
    )
    assert bus.handle(evidence) is True
    assert bus.handle(evidence) is False  # the same record again is a duplicate
    with uow:
        card = uow.scorecards.get(E1, "2025-03")
        assert card.values["fpy"] == Decimal("0.85")
        assert card.total == Decimal(17) / Decimal(19)
        assert len(uow.evidence.list()) == 1

        # -> alert -> review opened with a 48 h SLA from the alert
        [alert] = uow.alerts.list()
        assert alert.rule == "low_fpy"
        [review_id] = uow.reviews.open_keys()
        review = uow.reviews.get(review_id)
        assert review.assignee_id == "M1"
        assert review.sla_deadline == START + dt.timedelta(hours=48)

    # -> 49 h later the tick escalates, once
    clock.advance(hours=49)
    first = bus.handle(c.TickClock())
    second = bus.handle(c.TickClock())
    assert first.escalations == 1
    assert second.escalations == 0
    with uow:
        escalations = [m for m in uow.outbox.all() if m.template == "review_escalated"]
    assert [(m.recipient, m.dedupe_key) for m in escalations] == [
        ("M1", f"review:{review_id}:escalation:1")
    ]
    assert sum("Escalated to you (level 1)" in b for b in notifier.bodies()) == 1

    # -> feedback, the manager's review, finalization
    twice(bus, c.SubmitFeedback(review_id, "P1", Decimal(3), "good recovery plan"))
    twice(bus, c.SubmitReview(review_id, Decimal(4), "late, but thorough"))
    final = twice(bus, c.FinalizeReview(review_id))
    # indicator component: 17/19 of 100 % on the 1..5 scale = 1 + 4 * 17/19; manager 4; 50/50
    expected = (Decimal(1) + Decimal(4) * Decimal(17) / Decimal(19) + Decimal(4)) / 2
    assert final == expected
    with uow:
        assert uow.reviews.open_keys() == []
        assert len(uow.reviews.get(review_id).feedback.as_seen_by("HR")) == 1

    # -> calibration: 4.289... snaps to 4; the committee moves it to 3 with a reason
    assert twice(bus, c.RunCalibration("cal-2025-03", "2025-03", facilitator="HR1")) == [E1]
    adjust = c.AdjustRating("cal-2025-03", E1, Decimal(3), actor="HR1", reason="evidence_review")
    assert twice(bus, adjust) == Decimal(3)
    twice(bus, c.LockCalibration("cal-2025-03"))
    ratings = twice(bus, c.PublishCalibration("cal-2025-03"))
    assert ratings == {E1: Decimal(3)}
    with uow:
        session = uow.calibrations.get("cal-2025-03")
        assert len(session.adjustments) == 1

    # -> incentive: fpy 0.85 >= 0.8 pays 50 points, exactly once
    awarded = bus.handle(c.EvaluateIncentives("2025-03"))
    again = bus.handle(c.EvaluateIncentives("2025-03"))
    assert [e.amount for e in awarded] == [Decimal(50)]
    assert again == []
    with uow:
        assert [e.amount for e in uow.ledger.entries(subject=E1)] == [Decimal(50)]


def test_a_plan_with_a_problem_is_never_half_applied(
    world: tuple[MessageBus, FakeClock, InMemoryUnitOfWork, RecordingNotifier],
) -> None:
    from perfcore.plan import PlanError

    bus, _clock, uow, _n = world
    broken = PLAN.replace("fpy: 100}", "fyp: 100}")
    with pytest.raises(PlanError):
        bus.handle(c.ApplyPlan(broken, "loop_plan.yaml"))
    with uow:
        assert uow.plans.latest() is None


def test_a_changed_plan_becomes_a_new_version_and_the_scoring_version_is_recorded(
    world: tuple[MessageBus, FakeClock, InMemoryUnitOfWork, RecordingNotifier],
) -> None:
    bus, _clock, uow, _n = world
    bus.handle(c.ApplyPlan(PLAN, "loop_plan.yaml"))
    bus.handle(c.RecordEvidence("inspection", {"inspected": 10, "good": 10}, START, subject=E1))
    assert bus.handle(c.ApplyPlan(PLAN.replace("target: 0.95", "target: 0.9"))) == 2
    bus.handle(c.ComputeScorecards(("2025-03",)))
    with uow:
        assert [(s.period_key, s.plan_version) for s in uow.plans.scorings()] == [("2025-03", 2)]
        assert [v.number for v in uow.plans.list()] == [1, 2]


def test_late_evidence_is_scored_by_the_plan_version_that_scored_the_period(
    world: tuple[MessageBus, FakeClock, InMemoryUnitOfWork, RecordingNotifier],
) -> None:
    bus, _clock, uow, _n = world
    bus.handle(c.ApplyPlan(PLAN, "loop_plan.yaml"))
    bus.handle(c.RecordEvidence("inspection", {"inspected": 10, "good": 9}, START, subject=E1))
    bus.handle(c.ApplyPlan(PLAN.replace("target: 0.95", "target: 0.9"), "loop_plan.yaml"))
    # late evidence for March: still version 1 (target 0.95); fpy (9 + 9) / (10 + 10) = 0.9
    bus.handle(
        c.RecordEvidence(
            "inspection", {"inspected": 10, "good": 9}, START + dt.timedelta(days=1), subject=E1
        )
    )
    with uow:
        card = uow.scorecards.get(E1, "2025-03")
    assert card.plan_version == 1
    assert card.total == Decimal("0.9") / Decimal("0.95")
    # an explicit recompute applies the current version (target 0.9): 0.9 / 0.9 = 1
    [again] = bus.handle(c.ComputeScorecards(("2025-03",)))
    assert (again.plan_version, again.total) == (2, Decimal(1))
