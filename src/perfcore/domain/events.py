"""Domain events: facts that happened, named in the past tense.

Events are small frozen records of plain values (strings, ``SubjectRef``, ``Decimal``, aware
datetimes) so they can be serialised into the outbox when a handler fails and retried later.
They are produced by the service layer (``uow.emit``) or by aggregates, and handled by the message
bus (``perfcore.services.messagebus``); many handlers may react to one event.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from attrs import frozen

from perfcore.domain.values import SubjectRef

__all__ = [
    "AlertRaised",
    "CalibrationAdjusted",
    "CalibrationLocked",
    "CalibrationPublished",
    "ChallengeDiagnosed",
    "Event",
    "EvidenceRecorded",
    "EvidenceRejected",
    "FeedbackSubmitted",
    "IncentiveAwarded",
    "MilestoneOverdue",
    "PlanApplied",
    "PointsRedeemed",
    "ReviewEscalated",
    "ReviewFinalized",
    "ReviewOpened",
    "ReviewReminderDue",
    "ReviewSubmitted",
    "ScorecardComputed",
    "ScorecardsStale",
    "SourceSynced",
]


@frozen
class Event:
    """Base class of all domain events."""


@frozen
class PlanApplied(Event):
    """A plan version became current (``number`` counts from 1)."""

    number: int
    content_hash: str
    applied_at: dt.datetime


@frozen
class EvidenceRecorded(Event):
    """Accepted evidence of ``evidence_type`` for ``subject`` occurred in the periods
    ``period_keys`` (the periods whose scorecards must be refreshed)."""

    key: str
    subject: SubjectRef
    evidence_type: str
    occurred_at: dt.datetime
    period_keys: tuple[str, ...]


@frozen
class ScorecardsStale(Event):
    """New or corrected evidence touched these ``(subject, period key)`` pairs; their scorecards
    must be refreshed (emitted once per ingest, not once per record). ``days`` lists the
    ``(subject, ISO date)`` pairs touched, in the plan's time zone, for finer-grained alerts."""

    pairs: tuple[tuple[SubjectRef, str], ...]
    days: tuple[tuple[SubjectRef, str], ...] = ()


@frozen
class EvidenceRejected(Event):
    """An input record was quarantined with ``reason`` (``field`` names the bad field)."""

    key: str
    source: str
    reason: str
    field: str = ""


@frozen
class SourceSynced(Event):
    """A sync of ``source``/``stream`` read ``read`` records: ``accepted`` + ``rejected``."""

    source: str
    stream: str
    read: int
    accepted: int
    rejected: int


@frozen
class ScorecardComputed(Event):
    """The scorecard of ``subject`` for ``period_key`` was (re)computed with ``plan_version``;
    ``total`` is the weighted total score or ``None`` when no indicator had a value.
    ``incremental`` is true when new evidence caused it (the touched days are known then)."""

    subject: SubjectRef
    period_key: str
    plan_version: int
    total: Decimal | None
    incremental: bool = False


@frozen
class AlertRaised(Event):
    """Alert rule ``rule`` fired for ``subject`` in ``period_key``; ``value`` is the observed
    indicator value and ``reason`` a readable explanation."""

    key: str
    rule: str
    subject: SubjectRef
    period_key: str
    indicator: str
    value: Decimal | None
    reason: str
    raised_at: dt.datetime


@frozen
class ReviewOpened(Event):
    """Review ``review_id`` of ``subject`` opened for ``reviewer``; due by ``due_at``."""

    review_id: str
    subject: SubjectRef
    reviewer: str
    trigger: str
    due_at: dt.datetime


@frozen
class ReviewReminderDue(Event):
    """A reminder for an open review fell due (``nth`` reminder, from 1)."""

    review_id: str
    reviewer: str
    nth: int
    due_at: dt.datetime


@frozen
class ReviewEscalated(Event):
    """The SLA of review ``review_id`` was breached; escalated to ``escalated_to`` (level 1 = the
    reviewer's manager)."""

    review_id: str
    subject: SubjectRef
    escalated_to: str
    level: int
    due_at: dt.datetime
    escalated_at: dt.datetime


@frozen
class FeedbackSubmitted(Event):
    """``reviewer`` gave feedback (``rating`` on the plan's scale) in review ``review_id``."""

    review_id: str
    reviewer: str
    rating: Decimal | None
    submitted_at: dt.datetime


@frozen
class ReviewSubmitted(Event):
    """The reviewer submitted review ``review_id``; ``response_hours`` since it opened."""

    review_id: str
    subject: SubjectRef
    submitted_at: dt.datetime
    within_sla: bool


@frozen
class ReviewFinalized(Event):
    """Review ``review_id`` was finalized with ``final_score`` (immutable from here)."""

    review_id: str
    subject: SubjectRef
    final_score: Decimal | None


@frozen
class CalibrationAdjusted(Event):
    """In session ``session_id`` the rating of ``subject`` moved ``from_rating`` → ``to_rating``."""

    session_id: str
    subject: SubjectRef
    from_rating: Decimal
    to_rating: Decimal
    actor: str
    reason: str


@frozen
class CalibrationLocked(Event):
    """Session ``session_id`` was locked (guideline warnings in ``warnings``)."""

    session_id: str
    warnings: tuple[str, ...] = ()


@frozen
class CalibrationPublished(Event):
    """Session ``session_id`` published its final ratings."""

    session_id: str


@frozen
class IncentiveAwarded(Event):
    """Rule ``rule`` awarded ``amount`` ``unit`` (points, money, leave_days...) to ``subject`` for
    ``period_key``; ``entry_key`` is the ledger idempotency key."""

    entry_key: str
    rule: str
    subject: SubjectRef
    period_key: str
    amount: Decimal
    unit: str


@frozen
class PointsRedeemed(Event):
    """``subject`` redeemed ``amount`` ``unit`` for ``item``."""

    entry_key: str
    subject: SubjectRef
    amount: Decimal
    unit: str
    item: str


@frozen
class MilestoneOverdue(Event):
    """Milestone ``milestone_id`` owned by ``owner`` passed ``due_at`` without completion."""

    milestone_id: str
    owner: SubjectRef
    due_at: dt.datetime
    escalated_to: tuple[str, ...]


@frozen
class ChallengeDiagnosed(Event):
    """Challenge diagnosis of ``subject`` gave ``level`` (too_easy/healthy/too_hard)."""

    subject: SubjectRef
    level: str
    recommendation: str
