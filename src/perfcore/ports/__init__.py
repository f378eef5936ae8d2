"""Ports: the typed interfaces between the perfcore core and the outside world.

Storage (:class:`AbstractUnitOfWork` and the repositories), time (:class:`Clock`), identities
(:class:`IdentityResolver`) and the notification outbox (:class:`Outbox`). Evidence sources and
notifiers live in :mod:`perfcore.ports.sources` and :mod:`perfcore.ports.notifications`.
In-memory implementations for tests: :mod:`perfcore.testing.fakes`.
"""

from perfcore.ports.clock import Clock, SystemClock
from perfcore.ports.identity import IdentityResolver
from perfcore.ports.notifications import DeliveryResult, DeliveryStatus, Message, Notifier
from perfcore.ports.outbox import Outbox, OutboxMessage, OutboxStatus
from perfcore.ports.records import PeriodScoring, PlanVersion, QuarantinedRecord, SourceBookmark
from perfcore.ports.repositories import (
    AlertRepository,
    BookmarkRepository,
    CalibrationRepository,
    EvidenceRepository,
    KeyedRepository,
    LedgerRepository,
    MilestoneRepository,
    PlanRepository,
    ReviewRepository,
    ScorecardRepository,
)
from perfcore.ports.sources import EvidenceSource, RawRecord, RecordBatch, SourceState
from perfcore.ports.uow import AbstractUnitOfWork

__all__ = [
    "AbstractUnitOfWork",
    "AlertRepository",
    "BookmarkRepository",
    "CalibrationRepository",
    "Clock",
    "DeliveryResult",
    "DeliveryStatus",
    "EvidenceRepository",
    "EvidenceSource",
    "IdentityResolver",
    "KeyedRepository",
    "LedgerRepository",
    "Message",
    "MilestoneRepository",
    "Notifier",
    "Outbox",
    "OutboxMessage",
    "OutboxStatus",
    "PeriodScoring",
    "PlanRepository",
    "PlanVersion",
    "QuarantinedRecord",
    "RawRecord",
    "RecordBatch",
    "ReviewRepository",
    "ScorecardRepository",
    "SourceBookmark",
    "SourceState",
    "SystemClock",
]
