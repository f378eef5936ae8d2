"""TickClock: let time pass — review reminders and escalations, overdue milestones, outbox
delivery and retries of parked event handlers. Idempotent: every action has a stable key
(``review:<id>:escalation:<level>``, ``milestone:<id>:overdue``) and the outbox keeps one message
per key, so ticking twice sends nothing twice.
"""

from __future__ import annotations

import datetime as dt

from attrs import frozen

from perfcore.domain.events import ReviewEscalated, ReviewReminderDue
from perfcore.domain.review import Review
from perfcore.domain.review_sla import Escalation, Reminder, due_actions
from perfcore.plan import Plan
from perfcore.ports.uow import AbstractUnitOfWork
from perfcore.services.commands import DeliverOutbox, TickClock
from perfcore.services.context import Context
from perfcore.services.handlers.milestones import escalate_overdue
from perfcore.services.notify import deliver_outbox, enqueue

__all__ = ["TickResult", "deliver", "tick_clock"]


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


def tick_clock(cmd: TickClock, ctx: Context) -> TickResult:
    """Run the time-driven work due at ``ctx.clock.now()``."""
    plan: Plan = ctx.plan()
    now = ctx.clock.now()
    with ctx.uow as uow:
        reminders, escalations = _reviews(uow, plan, now)
        overdue = escalate_overdue(uow, plan, now)
        uow.commit()
    delivered = deliver_outbox(ctx)
    retried = ctx.retry_events() if ctx.retry_events is not None else 0
    return TickResult(reminders, escalations, overdue, delivered, retried)


def deliver(cmd: DeliverOutbox, ctx: Context) -> int:
    """Deliver due outbox messages now; returns how many were delivered."""
    return deliver_outbox(ctx, limit=cmd.limit)
