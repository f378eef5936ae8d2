"""Commands: requests to change something, in the imperative. Each has exactly one handler and its
errors propagate to the caller (see :mod:`perfcore.services.messagebus`).

Values are plain and serialisable: strings, ``SubjectRef``, ``Decimal``, aware datetimes and
mappings of field name → raw value. Times default to "now from the clock" when ``None``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal

from attrs import field, frozen

from perfcore.domain.deliverable import DeliverableMetadata
from perfcore.domain.values import SubjectRef

__all__ = [
    "AdjustRating",
    "ApplyPlan",
    "ClosePeriod",
    "Command",
    "CompleteMilestone",
    "ComputeScorecards",
    "CorrectEvidence",
    "DeliverOutbox",
    "DiagnoseChallenge",
    "EvaluateAlerts",
    "EvaluateIncentives",
    "FinalizeReview",
    "IngestBatch",
    "LockCalibration",
    "OpenReview",
    "PublishCalibration",
    "RecordEvidence",
    "Redeem",
    "ReopenReview",
    "RunCalibration",
    "SubmitFeedback",
    "SubmitReview",
    "SubmitSelfAssessment",
    "SyncSource",
    "TickClock",
]


def _tuple(value: Sequence[object]) -> tuple[object, ...]:
    return tuple(value)


def _rows(value: Sequence[Mapping[str, object]]) -> tuple[Mapping[str, object], ...]:
    return tuple(dict(v) for v in value)


def _values(value: Mapping[str, object]) -> Mapping[str, object]:
    return dict(value)


@frozen
class Command:
    """Base class of all commands."""


@frozen
class ApplyPlan(Command):
    """Apply a plan given as YAML ``text`` (``name`` is used in error messages). Applying the same
    text again is a no-op; a changed text becomes version n+1. Raises ``PlanError``."""

    text: str
    name: str = "plan.yaml"


@frozen
class RecordEvidence(Command):
    """Record one evidence record of ``evidence_type``.

    The subject is ``subject`` or, when ``None``, resolved from ``(system, external_subject)``
    through the ``IdentityResolver``. ``idempotency_key`` defaults to
    ``source:external_id:v<version>``. Bad records are quarantined, not raised.

    A **correction** is version ``n + 1`` of the same ``(source, external_id)`` and names the key
    of version n in ``supersedes`` (default: the default key of version n). It becomes current;
    the old version is kept for audit. A correction that does not follow the current version
    (stale, skipped, or without an original) is a conflict, quarantined with the reason."""

    evidence_type: str
    values: Mapping[str, object] = field(converter=_values)
    occurred_at: dt.datetime
    source: str = "manual"
    external_id: str = ""
    subject: SubjectRef | None = None
    system: str = ""
    external_subject: str = ""
    idempotency_key: str = ""
    version: int = 1
    supersedes: str = ""


@frozen
class CorrectEvidence(Command):
    """Correct the stored evidence record whose idempotency key is ``key`` (it must be the
    current version): version n+1 with ``values`` (merged over the old values), and optionally a
    new ``occurred_at`` or ``subject``. Returns a
    :class:`~perfcore.services.handlers.evidence.CorrectionResult` naming the periods re-scored
    and the closed periods held for an explicit recompute."""

    key: str
    values: Mapping[str, object] = field(factory=dict, converter=_values)
    occurred_at: dt.datetime | None = None
    subject: SubjectRef | None = None


@frozen
class ClosePeriod(Command):
    """Close ``period_key``: late or corrected evidence in it is stored but no longer re-scores
    it; only an explicit ``ComputeScorecards`` does (and lists it as recomputed). ``reopen``
    opens it again. Idempotent."""

    period_key: str
    by: str = ""
    reason: str = ""
    reopen: bool = False


@frozen
class IngestBatch(Command):
    """Ingest raw ``rows`` from ``source`` through the plan's field mapping for that source
    (subject, time and field columns). read = accepted + rejected, reported in ``SourceSynced``."""

    source: str
    rows: tuple[Mapping[str, object], ...] = field(converter=_rows)
    stream: str = ""


@frozen
class SyncSource(Command):
    """Pull new records from the ``EvidenceSource`` registered as ``source`` (the plan names its
    kind and config), from its bookmark, and ingest them; bookmark and data commit together."""

    source: str


@frozen
class ComputeScorecards(Command):
    """(Re)compute scorecards for the given subjects × periods; empty means every subject with
    evidence in those periods; no ``period_keys`` means the current period of the plan."""

    period_keys: tuple[str, ...] = field(default=(), converter=tuple)
    subjects: tuple[SubjectRef, ...] = field(default=(), converter=tuple)


@frozen
class EvaluateAlerts(Command):
    """Evaluate the plan's alert rules for ``subject`` in ``period_key``."""

    subject: SubjectRef
    period_key: str


@frozen
class OpenReview(Command):
    """Open an ad-hoc review of ``subject`` by ``reviewer`` (default: the subject's manager), due
    ``sla_hours`` after ``triggered_at``. One live review per (subject, trigger)."""

    subject: SubjectRef
    trigger: str
    sla_hours: int = 48
    reviewer: str = ""
    triggered_at: dt.datetime | None = None
    review_id: str = ""


@frozen
class TickClock(Command):
    """Let time pass: send due reminders, escalate breached SLAs, flag overdue milestones, and
    deliver the outbox. Safe to run any number of times."""


@frozen
class SubmitFeedback(Command):
    """Feedback by ``reviewer`` on review ``review_id`` (one vote per reviewer, latest wins)."""

    review_id: str
    reviewer: str
    rating: Decimal | None = None
    comment: str = ""


@frozen
class SubmitReview(Command):
    """The reviewer's assessment of review ``review_id`` (manager component)."""

    review_id: str
    rating: Decimal
    comment: str = ""


@frozen
class SubmitSelfAssessment(Command):
    """The reviewed person's own rating in review ``review_id`` (self component)."""

    review_id: str
    rating: Decimal
    comment: str = ""


@frozen
class ReopenReview(Command):
    """Reopen a submitted or finalized review to amend it; ``reason`` is required and recorded;
    the review is open (and in the inbox) again."""

    review_id: str
    by: str
    reason: str


@frozen
class FinalizeReview(Command):
    """Finalize review ``review_id``; the final score becomes immutable."""

    review_id: str


@frozen
class RunCalibration(Command):
    """Open calibration session ``session_id`` over the finalized ratings of ``period_key``
    (all subjects, or those given) with the plan's guidelines; computes suggestions."""

    session_id: str
    period_key: str
    subjects: tuple[SubjectRef, ...] = field(default=(), converter=tuple)
    facilitator: str = ""


@frozen
class AdjustRating(Command):
    """Move ``subject``'s rating in session ``session_id`` to ``to_rating``; ``reason`` required."""

    session_id: str
    subject: SubjectRef
    to_rating: Decimal
    actor: str
    reason: str
    comment: str = ""


@frozen
class LockCalibration(Command):
    """Lock session ``session_id`` (guidelines re-checked)."""

    session_id: str


@frozen
class PublishCalibration(Command):
    """Publish the locked session ``session_id``."""

    session_id: str


@frozen
class EvaluateIncentives(Command):
    """Evaluate the plan's incentive rules for ``period_key`` into the ledger (idempotent)."""

    period_key: str
    subjects: tuple[SubjectRef, ...] = field(default=(), converter=tuple)


@frozen
class Redeem(Command):
    """Redeem ``amount`` of ``unit`` from ``subject``'s balance for ``item``; ``request_id``
    makes it idempotent. Raises ``PolicyDenied`` when the balance is too small."""

    subject: SubjectRef
    amount: Decimal
    item: str
    request_id: str
    unit: str = "points"


@frozen
class DiagnoseChallenge(Command):
    """Classify the attainment of ``indicator`` over ``period_keys`` for each subject as too easy,
    healthy or too hard (defaults > 130 % / < 70 %)."""

    indicator: str
    period_keys: tuple[str, ...] = field(converter=tuple)
    subjects: tuple[SubjectRef, ...] = field(default=(), converter=tuple)


def _files(value: Mapping[str, DeliverableMetadata]) -> Mapping[str, DeliverableMetadata]:
    return dict(value)


@frozen
class CompleteMilestone(Command):
    """Mark milestone ``milestone_id`` complete at ``completed_at`` (default now).

    ``files`` are the delivered files (deliverable name → metadata, checked against the plan's
    deliverable rules); ``deliverables`` names files delivered without metadata. A completion
    after the due date (plan-local days) needs ``root_cause`` (a
    :class:`~perfcore.domain.milestone.RootCause` value) and may carry a ``note``."""

    milestone_id: str
    completed_at: dt.datetime | None = None
    deliverables: tuple[str, ...] = field(default=(), converter=_tuple)
    root_cause: str = ""
    note: str = ""
    files: Mapping[str, DeliverableMetadata] = field(factory=dict, converter=_files)


@frozen
class DeliverOutbox(Command):
    """Hand due outbox messages to the notifiers (at most ``limit``)."""

    limit: int = 100
