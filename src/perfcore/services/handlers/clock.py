"""TickClock: let time pass — review reminders and escalations, overdue milestones, outbox
delivery and retries of parked event handlers. Idempotent: every action has a stable key
(``review:<id>:escalation:<level>``, ``milestone:<id>:overdue``) and the outbox keeps one message
per key, so ticking twice sends nothing twice.
"""

from __future__ import annotations

import datetime as dt

import attrs
from attrs import frozen

from perfcore.domain.errors import NotFound
from perfcore.domain.events import MilestoneOverdue, ReviewEscalated, ReviewReminderDue
from perfcore.domain.review import Review
from perfcore.domain.review_sla import Escalation, Reminder, due_actions
from perfcore.domain.values import SubjectRef
from perfcore.plan import Plan
from perfcore.ports.uow import AbstractUnitOfWork
from perfcore.services.commands import CompleteMilestone, DeliverOutbox, TickClock
from perfcore.services.context import Context
from perfcore.services.notify import deliver_outbox, enqueue
from perfcore.services.records import MilestoneState

__all__ = ["TickResult", "complete_milestone", "deliver", "tick_clock"]


@frozen
class TickResult:
    """What one tick did."""

    reminders: int
    escalations: int
    overdue_milestones: int
    delivered: int
    retried_events: int


def _fmt(at: dt.datetime, plan: Plan) -> str:
    return at.astimezone(plan.tz).strftime("%Y-%m-%d %H:%M %Z")


def _reviews(uow: AbstractUnitOfWork, plan: Plan, now: dt.datetime) -> tuple[int, int]:
    reminders = escalations = 0
    for key in uow.reviews.open_keys():
        review: Review | None = uow.reviews.get(key)
        if review is None:
            continue
        for action in due_actions(review, now, plan.org):
            if isinstance(action, Reminder):
                params = {
                    "subject": str(review.subject),
                    "due_at": _fmt(action.deadline, plan),
                    "review": review.id,
                }
                if enqueue(
                    uow,
                    key=action.key,
                    template="review_reminder",
                    recipient=action.recipient_id,
                    params=params,
                    at=now,
                    locale=plan.locale,
                ):
                    reminders += 1
                    nth = reminders
                    uow.emit(
                        ReviewReminderDue(review.id, action.recipient_id, nth, action.deadline)
                    )
            elif isinstance(action, Escalation):
                params = {
                    "subject": str(review.subject),
                    "due_at": _fmt(action.deadline, plan),
                    "assignee": review.assignee_id or "",
                    "level": str(action.level),
                    "review": review.id,
                }
                if enqueue(
                    uow,
                    key=action.key,
                    template="review_escalated",
                    recipient=action.recipient_id,
                    params=params,
                    at=now,
                    locale=plan.locale,
                ):
                    escalations += 1
                    uow.emit(
                        ReviewEscalated(
                            review.id,
                            review.subject,
                            action.recipient_id,
                            action.level,
                            action.deadline,
                            now,
                        )
                    )
    return reminders, escalations


def _milestone_state(uow: AbstractUnitOfWork, plan: Plan, mid: str) -> MilestoneState:
    state: MilestoneState | None = uow.milestones.get(mid)
    if state is not None:
        return state
    spec = plan.spec.milestones[mid]
    due = dt.datetime.combine(spec.due + dt.timedelta(days=1), dt.time(), plan.tz)
    return MilestoneState(mid, SubjectRef.person(spec.owner), due)


def _milestones(uow: AbstractUnitOfWork, plan: Plan, now: dt.datetime) -> int:
    count = 0
    for mid, spec in plan.spec.milestones.items():
        state = _milestone_state(uow, plan, mid)
        if state.completed_at is not None or state.overdue_notified or now < state.due_at:
            continue
        recipients = [spec.owner, *spec.escalate_to]
        for who in recipients:
            enqueue(
                uow,
                key=f"milestone:{mid}:overdue:{who}",
                template="milestone_overdue",
                recipient=who,
                params={
                    "milestone": spec.title or mid,
                    "owner": spec.owner,
                    "due_at": _fmt(state.due_at, plan),
                },
                at=now,
                locale=plan.locale,
            )
        uow.milestones.add(mid, attrs.evolve(state, overdue_notified=True), subject=state.owner)
        uow.emit(MilestoneOverdue(mid, state.owner, state.due_at, tuple(spec.escalate_to)))
        count += 1
    return count


def tick_clock(cmd: TickClock, ctx: Context) -> TickResult:
    """Run the time-driven work due at ``ctx.clock.now()``."""
    plan: Plan = ctx.plan()
    now = ctx.clock.now()
    with ctx.uow as uow:
        reminders, escalations = _reviews(uow, plan, now)
        overdue = _milestones(uow, plan, now)
        uow.commit()
    delivered = deliver_outbox(ctx)
    retried = ctx.retry_events() if ctx.retry_events is not None else 0
    return TickResult(reminders, escalations, overdue, delivered, retried)


def deliver(cmd: DeliverOutbox, ctx: Context) -> int:
    """Deliver due outbox messages now; returns how many were delivered."""
    return deliver_outbox(ctx, limit=cmd.limit)


def complete_milestone(cmd: CompleteMilestone, ctx: Context) -> bool:
    """Mark a milestone complete; returns whether it was on time. A repeat keeps the first
    completion time."""
    plan: Plan = ctx.plan()
    if cmd.milestone_id not in plan.spec.milestones:
        raise NotFound(
            f"unknown milestone {cmd.milestone_id!r}",
            field="milestone_id",
            valid=", ".join(plan.spec.milestones),
        )
    with ctx.uow as uow:
        state = _milestone_state(uow, plan, cmd.milestone_id)
        if state.completed_at is None:
            at = cmd.completed_at or ctx.clock.now()
            state = attrs.evolve(state, completed_at=at, deliverables=tuple(cmd.deliverables))
            uow.milestones.add(cmd.milestone_id, state, subject=state.owner)
            uow.commit()
        return not state.late()
