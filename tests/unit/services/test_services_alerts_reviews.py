"""Alert rules (threshold, fluctuation against a trailing window), reviews with SLAs,
reminders, and the review inbox's SLA status."""

from __future__ import annotations

import datetime as dt

from perfcore.domain.values import SubjectRef
from perfcore.services import commands as c
from perfcore.services import queries
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import FakeClock

E1 = SubjectRef.person("E1")

FLUCTUATION = """
  fpy_swing:
    indicator: fpy
    kind: fluctuation
    window: 2
    change: 0.1
    open_review: false
"""


def record(bus: MessageBus, at: dt.datetime, inspected: int, good: int) -> None:
    bus.handle(
        c.RecordEvidence("inspection", {"inspected": inspected, "good": good}, at, subject=E1)
    )


def test_fluctuation_compares_with_the_mean_of_the_trailing_window(
    perfcore_bus: MessageBus, perfcore_plan: str
) -> None:
    plan = perfcore_plan.replace("alerts:\n", "alerts:\n" + FLUCTUATION.lstrip("\n"))
    perfcore_bus.handle(c.ApplyPlan(plan))
    record(perfcore_bus, dt.datetime(2025, 1, 10, 2, tzinfo=dt.UTC), 10, 9)  # 0.9
    record(perfcore_bus, dt.datetime(2025, 2, 10, 2, tzinfo=dt.UTC), 10, 10)  # 1.0
    record(perfcore_bus, dt.datetime(2025, 3, 10, 2, tzinfo=dt.UTC), 10, 8)  # 0.8
    with perfcore_bus.uow as uow:
        swings = [a for a in uow.alerts.list() if a.rule == "fpy_swing"]
    # mean of Jan and Feb = 0.95; |0.8 - 0.95| / 0.95 = 15.8 % > 10 %; Feb vs Jan alone is 11.1 %
    assert [(a.period_key, a.reason) for a in swings] == [
        ("2025-02", "fpy = 1 moved 11.1 % from the mean 0.9 of the previous 1 period(s)"),
        ("2025-03", "fpy = 0.8 moved 15.8 % from the mean 0.95 of the previous 2 period(s)"),
    ]


def test_a_threshold_alert_is_raised_once_per_rule_subject_and_period(
    perfcore_bus: MessageBus, fake_clock: FakeClock
) -> None:
    record(perfcore_bus, fake_clock.now(), 10, 8)
    record(perfcore_bus, fake_clock.now() + dt.timedelta(hours=1), 10, 7)
    again = perfcore_bus.handle(c.EvaluateAlerts(E1, "2025-01"))
    assert again == ["alert:low_fpy:person:E1:2025-01"]
    with perfcore_bus.uow as uow:
        assert len(uow.reviews.open_keys()) == 1


def test_the_reminder_is_sent_24_hours_before_the_deadline_and_only_once(
    perfcore_bus: MessageBus, fake_clock: FakeClock
) -> None:
    record(perfcore_bus, fake_clock.now(), 10, 8)
    fake_clock.advance(hours=23)
    assert perfcore_bus.handle(c.TickClock()).reminders == 0
    fake_clock.advance(hours=2)
    assert perfcore_bus.handle(c.TickClock()).reminders == 1
    assert perfcore_bus.handle(c.TickClock()).reminders == 0


def test_the_inbox_shows_the_sla_status_of_each_open_review(
    perfcore_bus: MessageBus, fake_clock: FakeClock
) -> None:
    record(perfcore_bus, fake_clock.now(), 10, 8)
    fake_clock.advance(hours=1)
    [row] = queries.review_inbox(perfcore_bus, "M1")
    assert (row["sla_status"], row["hours_left"]) == ("on_time", "47.0")
    fake_clock.advance(hours=24)
    assert queries.review_inbox(perfcore_bus, "M1")[0]["sla_status"] == "due_soon"
    fake_clock.advance(hours=24)
    [row] = queries.review_inbox(perfcore_bus)
    assert (row["sla_status"], row["hours_left"]) == ("overdue", "-1.0")
    assert queries.review_inbox(perfcore_bus, "somebody-else") == []


def test_submitting_within_the_sla_is_recorded_as_on_time(
    perfcore_bus: MessageBus, fake_clock: FakeClock
) -> None:
    from decimal import Decimal

    from perfcore.domain.events import ReviewSubmitted

    record(perfcore_bus, fake_clock.now(), 10, 8)
    with perfcore_bus.uow as uow:
        [review_id] = uow.reviews.open_keys()
    fake_clock.advance(hours=30)
    seen: list[ReviewSubmitted] = []
    perfcore_bus.event_handlers[ReviewSubmitted] = [lambda e, ctx: seen.append(e)]
    perfcore_bus.handle(c.SubmitReview(review_id, Decimal(4)))
    assert [e.within_sla for e in seen] == [True]


def test_open_review_by_command_is_idempotent(
    perfcore_bus: MessageBus, fake_clock: FakeClock
) -> None:
    cmd = c.OpenReview(E1, "quality_exception:QE-7", sla_hours=48)
    first = perfcore_bus.handle(cmd)
    assert perfcore_bus.handle(cmd) == first
    with perfcore_bus.uow as uow:
        review = uow.reviews.get(first)
    assert review.assignee_id == "M1"
    assert review.trigger.key == "quality_exception:QE-7"


def test_a_finalized_review_is_amended_only_through_a_recorded_reopen(
    perfcore_bus: MessageBus, fake_clock: FakeClock
) -> None:
    from decimal import Decimal

    import pytest

    from perfcore.domain.errors import InvalidTransition

    record(perfcore_bus, fake_clock.now(), 100, 85)
    with perfcore_bus.uow as uow:
        [review_id] = uow.reviews.open_keys()
    perfcore_bus.handle(c.SubmitSelfAssessment(review_id, Decimal(3)))
    perfcore_bus.handle(c.SubmitReview(review_id, Decimal(4)))
    first = perfcore_bus.handle(c.FinalizeReview(review_id))
    with pytest.raises(InvalidTransition):
        perfcore_bus.handle(c.SubmitFeedback(review_id, "P1", Decimal(5)))
    perfcore_bus.handle(c.ReopenReview(review_id, "M1", "late evidence from the customer audit"))
    with perfcore_bus.uow as uow:
        assert uow.reviews.open_keys() == [review_id]
    perfcore_bus.handle(c.SubmitReview(review_id, Decimal(2)))
    second = perfcore_bus.handle(c.FinalizeReview(review_id))
    # components indicator 50 / manager 50 (self is not a component of this plan):
    # (1 + 4 * 17/19 + 4) / 2 before, (1 + 4 * 17/19 + 2) / 2 after
    indicator = Decimal(1) + Decimal(4) * Decimal(17) / Decimal(19)
    assert (first, second) == ((indicator + 4) / 2, (indicator + 2) / 2)
    with perfcore_bus.uow as uow:
        review = uow.reviews.get(review_id)
    assert [a.reason for a in review.amendments] == ["late evidence from the customer audit"]
