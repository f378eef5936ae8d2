"""Calibration sessions: open over finalized review scores, adjust, lock, publish.

``RunCalibration`` creates the session (DRAFT → OPEN → IN_SESSION) with the plan's rating scale,
distribution guideline, bucket mapping and lock policy, and adds every subject whose latest
finalized review in the period has a final score — rounded half-up to the nearest legal value of
the calibration scale (a calibration rating is a scale value, a review score is a measurement).
Repeating any command is a no-op.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from perfcore.domain.calibration.scale import BucketMapping, RatingScale
from perfcore.domain.calibration.session import CalibrationSession, SessionState
from perfcore.domain.errors import NotFound
from perfcore.domain.events import (
    CalibrationAdjusted,
    CalibrationLocked,
    CalibrationPublished,
)
from perfcore.domain.review import Review
from perfcore.domain.values import Period, SubjectRef
from perfcore.plan import Plan
from perfcore.ports.uow import AbstractUnitOfWork
from perfcore.services.commands import (
    AdjustRating,
    LockCalibration,
    PublishCalibration,
    RunCalibration,
)
from perfcore.services.context import Context
from perfcore.services.notify import enqueue

__all__ = [
    "adjust_rating",
    "lock_calibration",
    "publish_calibration",
    "run_calibration",
    "snap_to_scale",
]


def snap_to_scale(value: Decimal, scale: RatingScale) -> Decimal:
    """The legal scale value nearest to ``value`` (halves round up), held inside the scale."""
    steps = ((value - scale.minimum) / scale.step).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    snapped = scale.minimum + steps * scale.step
    return min(max(snapped, scale.minimum), scale.maximum)


def _in_period(review: Review, period: Period, tz: dt.tzinfo) -> bool:
    if review.cycle_id is not None:
        return review.cycle_id == period.key
    if review.trigger is None:
        return False
    return period.contains(review.trigger.occurred_at, tz)


def _load(uow: AbstractUnitOfWork, session_id: str) -> CalibrationSession:
    session: CalibrationSession | None = uow.calibrations.get(session_id)
    if session is None:
        raise NotFound(f"no calibration session {session_id!r}", field="session_id")
    return session


def run_calibration(cmd: RunCalibration, ctx: Context) -> list[SubjectRef]:
    """Open the session (once); returns its subjects."""
    plan: Plan = ctx.plan()
    spec = plan.spec.calibration
    period = Period.parse(cmd.period_key, field="period_key")
    now = ctx.clock.now()
    facilitator = cmd.facilitator or "hr"
    with ctx.uow as uow:
        existing: CalibrationSession | None = uow.calibrations.get(cmd.session_id)
        if existing is not None:
            return list(existing.subjects)
        scale = RatingScale(spec.scale_min, spec.scale_max)
        mapping = BucketMapping.of(spec.buckets) if plan.guideline is not None else None
        session = CalibrationSession(
            id=cmd.session_id,
            cycle_id=period.key,
            facilitator=facilitator,
            scale=scale,
            guideline=plan.guideline,
            mapping=mapping,
            lock_policy=spec.enforce,
        )
        wanted = set(cmd.subjects)
        latest: dict[SubjectRef, Review] = {}
        for review in uow.reviews.list():
            if review.final is None or review.final.value is None:
                continue
            if wanted and review.subject not in wanted:
                continue
            if not _in_period(review, period, plan.tz):
                continue
            seen = latest.get(review.subject)
            if seen is None or (review.finalized_at or now) >= (seen.finalized_at or now):
                latest[review.subject] = review
        for subject in sorted(latest, key=str):
            review = latest[subject]
            assert review.final is not None
            assert review.final.value is not None
            session.add_subject(
                subject, snap_to_scale(review.final.value, scale), rater=review.assignee_id
            )
        session.open(facilitator, now)
        session.start(facilitator, now)
        uow.calibrations.add(cmd.session_id, session)
        uow.commit()
        return list(session.subjects)


def adjust_rating(cmd: AdjustRating, ctx: Context) -> Decimal:
    """Move a subject's calibrated rating (reason required); returns the calibrated rating.
    Adjusting to the rating already in force records nothing."""
    now = ctx.clock.now()
    with ctx.uow as uow:
        session = _load(uow, cmd.session_id)
        current = session.calibrated(cmd.subject)
        if current == cmd.to_rating:
            return current
        session.adjust(
            cmd.subject,
            cmd.to_rating,
            actor=cmd.actor,
            reason=cmd.reason,
            at=now,
            comment=cmd.comment,
        )
        uow.calibrations.add(cmd.session_id, session)
        uow.emit(
            CalibrationAdjusted(
                cmd.session_id, cmd.subject, current, cmd.to_rating, cmd.actor, cmd.reason
            )
        )
        uow.commit()
        return session.calibrated(cmd.subject)


def lock_calibration(cmd: LockCalibration, ctx: Context) -> tuple[str, ...]:
    """Lock (guidelines re-checked; ``PolicyDenied`` when blocking); returns the warnings."""
    now = ctx.clock.now()
    with ctx.uow as uow:
        session = _load(uow, cmd.session_id)
        if session.state in (SessionState.LOCKED, SessionState.PUBLISHED):
            return session.lock_warnings
        session.lock(session.facilitator, now)
        uow.calibrations.add(cmd.session_id, session)
        uow.emit(CalibrationLocked(cmd.session_id, session.lock_warnings))
        uow.commit()
        return session.lock_warnings


def publish_calibration(cmd: PublishCalibration, ctx: Context) -> dict[SubjectRef, Decimal]:
    """Publish; returns the final calibrated ratings."""
    plan: Plan = ctx.plan()
    now = ctx.clock.now()
    with ctx.uow as uow:
        session = _load(uow, cmd.session_id)
        if session.state is not SessionState.PUBLISHED:
            session.publish(session.facilitator, now)
            uow.calibrations.add(cmd.session_id, session)
            uow.emit(CalibrationPublished(cmd.session_id))
            enqueue(
                uow,
                key=f"calibration:{cmd.session_id}:published",
                template="calibration_published",
                recipient=session.facilitator,
                params={"session": cmd.session_id},
                at=now,
                locale=plan.locale,
            )
            uow.commit()
        return session.calibrated_ratings()
