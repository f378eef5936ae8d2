"""Challenge diagnosis, redemption, milestones and the calibration lock policy through the bus."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from perfcore.domain.errors import NotFound, PolicyDenied
from perfcore.domain.values import SubjectRef
from perfcore.services import commands as c
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import FakeClock, RecordingNotifier

E1 = SubjectRef.person("E1")
P1 = SubjectRef.person("P1")


def record(bus: MessageBus, who: SubjectRef, month: int, inspected: int, good: int) -> None:
    at = dt.datetime(2025, month, 10, 2, tzinfo=dt.UTC)
    bus.handle(
        c.RecordEvidence("inspection", {"inspected": inspected, "good": good}, at, subject=who)
    )


def test_challenge_diagnosis_flags_a_target_that_is_too_hard(perfcore_bus: MessageBus) -> None:
    # attainment = fpy / 0.95: E1 0.60 / 0.95 = 63.2 % and 0.50 / 0.95 = 52.6 % (< 70 % twice);
    # P1 0.95 / 0.95 = 100 % twice (the default bounds 70 % / 130 %)
    record(perfcore_bus, E1, 1, 100, 60)
    record(perfcore_bus, E1, 2, 100, 50)
    record(perfcore_bus, P1, 1, 100, 95)
    record(perfcore_bus, P1, 2, 100, 95)
    result = perfcore_bus.handle(c.DiagnoseChallenge("fpy", ("2025-01", "2025-02")))
    levels = {str(d.subject): (d.level.value, d.action.value) for d in result}
    assert levels == {
        "person:E1": ("too_hard", "coaching_resource_pack"),
        "person:P1": ("healthy", "keep"),
    }
    with pytest.raises(NotFound):
        perfcore_bus.handle(c.DiagnoseChallenge("fpyy", ("2025-01",)))


def test_redemption_checks_the_balance_and_is_idempotent(perfcore_bus: MessageBus) -> None:
    record(perfcore_bus, E1, 1, 100, 85)  # fpy 0.85 >= 0.8: 50 points
    perfcore_bus.handle(c.EvaluateIncentives("2025-01"))
    redeem = c.Redeem(E1, Decimal(40), "training seat", "req-1")
    assert perfcore_bus.handle(redeem) == Decimal(10)
    assert perfcore_bus.handle(redeem) == Decimal(10)  # the same request id again
    with pytest.raises(PolicyDenied):
        perfcore_bus.handle(c.Redeem(E1, Decimal(20), "leave day", "req-2"))


MILESTONES = """
milestones:
  m1: {title: ID freeze, owner: E1, due: 2025-01-10, escalate_to: [M1, D1]}
  m2: {title: Mould trial, owner: E1, due: 2025-01-20, escalate_to: [M1]}
"""


def test_an_overdue_milestone_is_escalated_once_and_a_completed_one_never(
    perfcore_bus: MessageBus,
    perfcore_plan: str,
    fake_clock: FakeClock,
    recording_notifier: RecordingNotifier,
) -> None:
    perfcore_bus.handle(c.ApplyPlan(perfcore_plan + MILESTONES))
    on_time = perfcore_bus.handle(
        c.CompleteMilestone("m1", dt.datetime(2025, 1, 9, 8, tzinfo=dt.UTC))
    )
    assert on_time is True
    # due 2025-01-20 means the end of that day in Asia/Shanghai: 2025-01-20 16:00 UTC
    fake_clock.set(dt.datetime(2025, 1, 20, 15, 59, tzinfo=dt.UTC))
    assert perfcore_bus.handle(c.TickClock()).overdue_milestones == 0
    fake_clock.set(dt.datetime(2025, 1, 20, 16, 0, tzinfo=dt.UTC))
    assert perfcore_bus.handle(c.TickClock()).overdue_milestones == 1
    assert perfcore_bus.handle(c.TickClock()).overdue_milestones == 0
    late = [m.recipients[0] for m in recording_notifier.sent if "Mould trial" in m.subject]
    assert late == ["E1", "M1"]
    late_completion = perfcore_bus.handle(
        c.CompleteMilestone(
            "m2", dt.datetime(2025, 1, 22, tzinfo=dt.UTC), root_cause="design_change"
        )
    )
    assert late_completion is False


def test_a_blocking_guideline_refuses_the_lock(
    perfcore_bus: MessageBus, perfcore_plan: str
) -> None:
    perfcore_bus.handle(
        c.ApplyPlan(
            perfcore_plan.replace(
                "calibration:\n",
                'calibration:\n  enforce: block\n  rules: [{bucket: high, op: "<=", value: 0.1}]\n',
            )
        )
    )
    record(perfcore_bus, E1, 1, 100, 85)
    with perfcore_bus.uow as uow:
        [review_id] = uow.reviews.open_keys()
    perfcore_bus.handle(c.SubmitReview(review_id, Decimal(4)))
    perfcore_bus.handle(c.FinalizeReview(review_id))
    perfcore_bus.handle(c.RunCalibration("s1", "2025-01", facilitator="HR1"))
    # one person of one in "high" is 100 %, above the "<= 10 %" rule: the lock is blocked
    with pytest.raises(PolicyDenied):
        perfcore_bus.handle(c.LockCalibration("s1"))
