"""Reviews: open (by command or from an alert) with an SLA, feedback, submit, finalize.

A review id is deterministic (``rv:<subject>:<trigger>`` unless given), so opening the same
review twice keeps one. The assignee is the given reviewer or the first person up the subject's
reporting line (``plan.manager_of``). The indicator component is taken from the subject's
scorecard total when there is one (0-100 % mapped onto the review scale).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs

from perfcore.domain.errors import NotFound
from perfcore.domain.events import (
    AlertRaised,
    FeedbackSubmitted,
    ReviewFinalized,
    ReviewOpened,
    ReviewSubmitted,
)
from perfcore.domain.review import Review, ReviewState
from perfcore.domain.review_sla import ReviewTrigger, SlaPolicy, TriggerKind
from perfcore.plan import Plan
from perfcore.ports.uow import AbstractUnitOfWork
from perfcore.services.commands import (
    FinalizeReview,
    OpenReview,
    ReopenReview,
    SubmitFeedback,
    SubmitReview,
    SubmitSelfAssessment,
)
from perfcore.services.context import Context
from perfcore.services.notify import enqueue
from perfcore.services.records import AlertRecord, ScorecardRecord

__all__ = [
    "finalize_review",
    "load_review",
    "open_review",
    "open_review_on_alert",
    "reopen_review",
    "submit_feedback",
    "submit_review",
    "submit_self_assessment",
]


def _trigger(text: str, at: dt.datetime) -> ReviewTrigger:
    kind, sep, ref = text.partition(":")
    if sep and kind in {k.value for k in TriggerKind}:
        return ReviewTrigger(TriggerKind(kind), ref, at)
    return ReviewTrigger(TriggerKind.ALERT, text, at)


def load_review(uow: AbstractUnitOfWork, review_id: str) -> Review:
    """The stored review or ``NotFound``."""
    review: Review | None = uow.reviews.get(review_id)
    if review is None:
        raise NotFound(f"no review {review_id!r}", field="review_id")
    return review


def _fmt_time(at: dt.datetime, plan: Plan) -> str:
    return at.astimezone(plan.tz).strftime("%Y-%m-%d %H:%M %Z")


def _open(
    uow: AbstractUnitOfWork,
    ctx: Context,
    plan: Plan,
    cmd: OpenReview,
    period_key: str | None = None,
) -> str:
    review_id = cmd.review_id or f"rv:{cmd.subject}:{cmd.trigger}"
    if uow.reviews.get(review_id) is not None:
        return review_id
    now = ctx.clock.now()
    triggered = cmd.triggered_at or now
    sla = attrs.evolve(plan.sla, respond_within=dt.timedelta(hours=cmd.sla_hours))
    if any(r >= sla.respond_within for r in sla.reminders_before):
        sla = SlaPolicy(
            respond_within=sla.respond_within,
            reminders_before=(),
            escalation_interval=sla.escalation_interval,
            max_levels=sla.max_levels,
        )
    assignee = cmd.reviewer or plan.manager_of(cmd.subject)
    review = Review.ad_hoc(
        review_id,
        cmd.subject,
        _trigger(cmd.trigger, triggered),
        plan.review_config,
        created_at=now,
        assignee_id=assignee,
        sla=sla,
    )
    if period_key is not None:
        card: ScorecardRecord | None = uow.scorecards.get(cmd.subject, period_key)
        if card is not None and card.total is not None:
            score = plan.review_config.scale.from_percent(card.total * 100)
            review = review.set_indicator_score(score, by="system", at=now)
    uow.reviews.add(review_id, review, subject=cmd.subject)
    uow.reviews.set_open(review_id, True)
    due = review.sla_deadline or triggered
    uow.emit(ReviewOpened(review_id, cmd.subject, assignee or "", cmd.trigger, due))
    if assignee:
        enqueue(
            uow,
            key=f"review:{review_id}:opened",
            template="review_opened",
            recipient=assignee,
            params={
                "subject": str(cmd.subject),
                "trigger": cmd.trigger,
                "due_at": _fmt_time(due, plan),
                "review": review_id,
            },
            at=now,
            locale=plan.locale,
        )
    return review_id


def open_review(cmd: OpenReview, ctx: Context) -> str:
    """Open (or find) the review; returns its id."""
    plan: Plan = ctx.plan()
    with ctx.uow as uow:
        review_id = _open(uow, ctx, plan, cmd)
        uow.commit()
    return review_id


def open_review_on_alert(event: AlertRaised, ctx: Context) -> None:
    """Event handler: an alert rule with ``open_review`` opens a review, SLA from the alert."""
    plan: Plan = ctx.plan()
    rule = plan.spec.alerts.get(event.rule)
    if rule is None or not rule.open_review:
        return
    hours = rule.sla_hours or plan.spec.reviews.sla_hours
    cmd = OpenReview(
        event.subject,
        f"alert:{event.rule}:{event.period_key}",
        sla_hours=hours,
        triggered_at=event.raised_at,
    )
    with ctx.uow as uow:
        review_id = _open(uow, ctx, plan, cmd, period_key=event.period_key)
        alert: AlertRecord | None = uow.alerts.get(event.key)
        if alert is not None and not alert.review_id:
            uow.alerts.add(
                event.key, attrs.evolve(alert, review_id=review_id), subject=alert.subject
            )
        uow.commit()


def submit_feedback(cmd: SubmitFeedback, ctx: Context) -> None:
    """Peer feedback (one vote per reviewer; the latest replaces earlier ones)."""
    now = ctx.clock.now()
    with ctx.uow as uow:
        review = load_review(uow, cmd.review_id)
        ratings = {} if cmd.rating is None else {"overall": cmd.rating}
        review = review.add_feedback(cmd.reviewer, ratings, at=now, text=cmd.comment)
        uow.reviews.add(cmd.review_id, review, subject=review.subject)
        uow.emit(FeedbackSubmitted(cmd.review_id, cmd.reviewer, cmd.rating, now))
        uow.commit()


def submit_review(cmd: SubmitReview, ctx: Context) -> None:
    """The assignee's assessment; submitting stops the SLA clock (a repeat while submitted or
    finalized is a no-op; after a reopen it amends)."""
    now = ctx.clock.now()
    with ctx.uow as uow:
        review = load_review(uow, cmd.review_id)
        if review.state in (ReviewState.SUBMITTED, ReviewState.FINALIZED):
            return
        by = review.assignee_id or "manager"
        review = review.rate_manager({"overall": cmd.rating}, by=by, at=now)
        review = review.submit(by=by, at=now)
        uow.reviews.add(cmd.review_id, review, subject=review.subject)
        within = not review.sla_breached(now)
        uow.emit(ReviewSubmitted(cmd.review_id, review.subject, now, within))
        uow.commit()


def submit_self_assessment(cmd: SubmitSelfAssessment, ctx: Context) -> None:
    """The reviewed person's self assessment (editable until the review is submitted)."""
    now = ctx.clock.now()
    with ctx.uow as uow:
        review = load_review(uow, cmd.review_id)
        review = review.rate_self({"overall": cmd.rating}, by=review.subject.id, at=now)
        uow.reviews.add(cmd.review_id, review, subject=review.subject)
        uow.commit()


def reopen_review(cmd: ReopenReview, ctx: Context) -> None:
    """Reopen for an amendment (recorded with its reason); a review already open is left as
    it is."""
    now = ctx.clock.now()
    with ctx.uow as uow:
        review = load_review(uow, cmd.review_id)
        if review.state is ReviewState.OPEN:
            return
        review = review.reopen(by=cmd.by, at=now, reason=cmd.reason)
        uow.reviews.add(cmd.review_id, review, subject=review.subject)
        uow.reviews.set_open(cmd.review_id, True)
        uow.commit()


def finalize_review(cmd: FinalizeReview, ctx: Context) -> Decimal | None:
    """Freeze the final score (immutable from here); returns it. A repeat returns the same."""
    now = ctx.clock.now()
    with ctx.uow as uow:
        review = load_review(uow, cmd.review_id)
        if review.final is not None:
            return review.final.value
        by = review.assignee_id or "manager"
        review = review.finalize(by=by, at=now)
        uow.reviews.add(cmd.review_id, review, subject=review.subject)
        uow.reviews.set_open(cmd.review_id, False)
        value = review.final.value if review.final is not None else None
        uow.emit(ReviewFinalized(cmd.review_id, review.subject, value))
        uow.commit()
        return value
