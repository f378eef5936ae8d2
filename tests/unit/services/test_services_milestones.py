"""Milestones through the bus on the domain Milestone (the NPI scenario): lateness in
plan-local days, a root cause required for a late completion, escalation to the project manager
and the department head through the outbox, and the on-time rate (an NPI project report gives
92.3 %: 12 of 13 on time = 12/13 = 0.923076… → 92.31 % at 2 dp)."""

from __future__ import annotations

import datetime as dt

import pytest

from perfcore.domain.errors import InvalidValue
from perfcore.services import commands as c
from perfcore.services import queries
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import FakeClock

SHANGHAI = dt.timezone(dt.timedelta(hours=8))  # the plan's zone (Asia/Shanghai, no DST)
DUES = [dt.date(2025, 1, 10) + dt.timedelta(days=7 * i) for i in range(13)]
MILESTONES = "milestones:\n" + "".join(
    f"  m{i:02}: {{title: Step {i}, owner: E1, due: {due.isoformat()}, escalate_to: [M1, D1]}}\n"
    for i, due in enumerate(DUES, start=1)
)


@pytest.fixture
def bus(perfcore_bus: MessageBus, perfcore_plan: str) -> MessageBus:
    perfcore_bus.handle(c.ApplyPlan(perfcore_plan + MILESTONES))
    return perfcore_bus


def local(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), SHANGHAI)


def test_a_late_completion_without_a_root_cause_is_refused(bus: MessageBus) -> None:
    late = local(DUES[0] + dt.timedelta(days=2), 9)
    with pytest.raises(InvalidValue) as info:
        bus.handle(c.CompleteMilestone("m01", late))
    assert info.value.field == "milestones[m01].root_cause"
    assert info.value.message == "completed 2 day(s) late without a root cause"
    assert info.value.valid is not None
    assert "supplier_lead_time_slip" in info.value.valid
    with bus.uow as uow:
        assert uow.milestones.get("m01") is None  # nothing stored
    assert bus.handle(c.CompleteMilestone("m01", late, root_cause="design_change")) is False


def test_lateness_is_counted_in_plan_local_days(bus: MessageBus) -> None:
    # 23:30 on the due date in Shanghai is 15:30 UTC the same day: on time
    assert bus.handle(c.CompleteMilestone("m01", local(DUES[0], 23) + dt.timedelta(minutes=30)))
    # 00:30 the next day in Shanghai is still the due date in UTC, but one local day late
    next_day = local(DUES[1] + dt.timedelta(days=1), 0) + dt.timedelta(minutes=30)
    assert next_day.astimezone(dt.UTC).date() == DUES[1]
    with pytest.raises(InvalidValue):
        bus.handle(c.CompleteMilestone("m02", next_day))
    assert not bus.handle(c.CompleteMilestone("m02", next_day, root_cause="resource_shortage"))
    report = queries.milestones(bus, DUES[2])
    assert [r["days_late"] for r in report["milestones"][:2]] == [0, 1]


def test_a_late_milestone_escalates_to_the_project_manager_and_department_head(
    bus: MessageBus, fake_clock: FakeClock
) -> None:
    # m01 is due 2025-01-10: late from 2025-01-11 00:00 in Shanghai = 2025-01-10 16:00 UTC
    fake_clock.set(dt.datetime(2025, 1, 10, 15, 59, tzinfo=dt.UTC))
    assert bus.handle(c.TickClock()).overdue_milestones == 0
    fake_clock.set(dt.datetime(2025, 1, 10, 16, 0, tzinfo=dt.UTC))
    assert bus.handle(c.TickClock()).overdue_milestones == 1
    assert bus.handle(c.TickClock()).overdue_milestones == 0  # once
    with bus.uow as uow:
        sent = [m for m in uow.outbox.all() if m.dedupe_key.startswith("milestone:m01:")]
    assert [(m.recipient, m.params["role"]) for m in sent] == [
        ("E1", "owner"),
        ("M1", "project_manager"),
        ("D1", "department_head"),
    ]
    assert {m.params["days_late"] for m in sent} == {"1"}


def test_on_time_rate_of_twelve_of_thirteen_is_92_31_percent(bus: MessageBus) -> None:
    for i, due in enumerate(DUES, start=1):
        if i == 7:
            at = local(due + dt.timedelta(days=3), 10)
            bus.handle(c.CompleteMilestone(f"m{i:02}", at, root_cause="supplier_lead_time_slip"))
        else:
            bus.handle(c.CompleteMilestone(f"m{i:02}", local(due, 10)))
    report = queries.milestones(bus, DUES[-1] + dt.timedelta(days=1))
    assert (report["on_time_count"], report["counted"]) == ("12", "13")
    assert report["rate_percent"] == "92.31"
    assert report["late"] == ["m07"]
    assert report["milestones"][6]["root_cause"] == "supplier_lead_time_slip"
