"""Repository ports, one per aggregate, reached through the unit of work.

Every repository is a small typed :class:`typing.Protocol`. Keys are passed explicitly
(``add(key, item)``) so that adapters never need to guess an aggregate's identity attribute, and
query methods take domain values (``SubjectRef``, period keys, aware datetimes).

Semantics shared by all adapters (pinned by :mod:`perfcore.testing.contract`):

- ``add`` on an existing key replaces the stored item (an adapter with optimistic locking raises
  :class:`perfcore.domain.errors.Conflict` when the stored version moved underneath).
- ``get`` returns ``None`` for an unknown key; it never raises.
- ``list`` methods return items ordered by key (or by time where stated), as new lists.
- Nothing is visible to *another* unit of work until ``commit()``.

Aggregate types are parameters (``Generic``) where the domain modules define them; the in-memory
fakes and the SQLAlchemy adapter store whatever domain object they are given.
"""

from __future__ import annotations

import builtins
import datetime as dt
from typing import Protocol, TypeVar, runtime_checkable

from perfcore.domain.values import SubjectRef
from perfcore.ports.records import PeriodScoring, PlanVersion, QuarantinedRecord, SourceBookmark

__all__ = [
    "AlertRepository",
    "BookmarkRepository",
    "CalibrationRepository",
    "EvidenceRepository",
    "KeyedRepository",
    "LedgerRepository",
    "MilestoneRepository",
    "PlanRepository",
    "ReviewRepository",
    "ScorecardRepository",
]

T = TypeVar("T")


@runtime_checkable
class KeyedRepository(Protocol[T]):
    """The common shape: items stored under a string key, with the subject they concern."""

    def add(self, key: str, item: T, *, subject: SubjectRef | None = None) -> None:
        """Store (or replace) ``item`` under ``key``."""
        ...

    def get(self, key: str) -> T | None:
        """The item stored under ``key``, or ``None``."""
        ...

    def list(self, *, subject: SubjectRef | None = None) -> builtins.list[T]:
        """All items (of one subject when given), ordered by key."""
        ...


@runtime_checkable
class PlanRepository(Protocol):
    """Applied plan versions and the record of which version scored which period."""

    def add(self, version: PlanVersion) -> None:
        """Store a new version; a second version with the same ``number`` raises ``Conflict``."""
        ...

    def get(self, number: int) -> PlanVersion | None:
        """The version with this number, or ``None``."""
        ...

    def latest(self) -> PlanVersion | None:
        """The highest-numbered version, or ``None`` before any plan was applied."""
        ...

    def list(self) -> builtins.list[PlanVersion]:
        """Every version, ascending by number."""
        ...

    def record_scoring(self, scoring: PeriodScoring) -> None:
        """Remember that ``scoring.plan_version`` scored this subject and period (replaces)."""
        ...

    def scorings(self, *, period_key: str | None = None) -> builtins.list[PeriodScoring]:
        """Scoring records, optionally for one period, ordered by (period, subject)."""
        ...


@runtime_checkable
class EvidenceRepository(Protocol[T]):
    """Accepted evidence (``T`` is the domain evidence record) plus the quarantine.

    Evidence is append-only here: a correction is a new record with its own key whose
    ``supersedes`` attribute names the key of the version it corrects (``version`` n+1). The
    superseded version is kept for audit (``get_by_idempotency_key``, ``versions``) but no longer
    *served*: ``list`` returns current versions only."""

    def add(
        self, key: str, evidence: T, *, subject: SubjectRef, evidence_type: str, at: dt.datetime
    ) -> None:
        """Store accepted evidence under its idempotency ``key``; ``at`` is when it occurred."""
        ...

    def get_by_idempotency_key(self, key: str) -> T | None:
        """The evidence with this idempotency key, or ``None``."""
        ...

    def list(
        self,
        *,
        subject: SubjectRef | None = None,
        evidence_type: str | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> builtins.list[T]:
        """Current evidence (superseded versions left out) matching all given filters;
        ``start <= occurred < end``; ordered by time, then key."""
        ...

    def versions(self, source: str, external_id: str) -> builtins.list[T]:
        """Every stored version of the record ``(source, external_id)``, oldest first (the last
        one is current); empty when unknown."""
        ...

    def subjects(self) -> builtins.list[SubjectRef]:
        """Every subject with at least one accepted record, ordered by ``str(subject)``."""
        ...

    def quarantine(self, record: QuarantinedRecord) -> None:
        """Keep a rejected record aside (same ``key`` twice keeps the first)."""
        ...

    def quarantined(self, *, source: str | None = None) -> builtins.list[QuarantinedRecord]:
        """Rejected records (of one source when given), ordered by ``received_at`` then key."""
        ...


@runtime_checkable
class ScorecardRepository(Protocol[T]):
    """The latest computed scorecard per (subject, period key)."""

    def put(self, subject: SubjectRef, period_key: str, scorecard: T) -> None:
        """Store or replace the scorecard of ``subject`` for ``period_key``."""
        ...

    def get(self, subject: SubjectRef, period_key: str) -> T | None:
        """The scorecard, or ``None`` when it was never computed."""
        ...

    def remove(self, subject: SubjectRef, period_key: str) -> bool:
        """Delete the scorecard of ``subject`` for ``period_key`` (a recompute found no
        evidence left for the pair, e.g. after a correction moved its only record to another
        period); ``True`` when one was stored."""
        ...

    def list(
        self, *, period_key: str | None = None, subject: SubjectRef | None = None
    ) -> builtins.list[tuple[SubjectRef, str, T]]:
        """``(subject, period_key, scorecard)`` triples ordered by period key then subject."""
        ...


class ReviewRepository(KeyedRepository[T], Protocol[T]):
    """Reviews keyed by review id. ``open_keys`` lists the reviews not yet finalized/closed,
    which is what the clock tick scans."""

    def open_keys(self) -> builtins.list[str]:
        """Keys of reviews marked open (see ``set_open``), ordered."""
        ...

    def set_open(self, key: str, is_open: bool) -> None:
        """Mark a stored review open or closed for ``open_keys``."""
        ...


class CalibrationRepository(KeyedRepository[T], Protocol[T]):
    """Calibration sessions keyed by session id."""


class MilestoneRepository(KeyedRepository[T], Protocol[T]):
    """Milestones keyed by milestone id."""


class AlertRepository(KeyedRepository[T], Protocol[T]):
    """Raised alerts keyed by ``rule:subject:period`` — the key makes raising idempotent."""


@runtime_checkable
class LedgerRepository(Protocol[T]):
    """The append-only incentive ledger (``T`` is the domain ledger entry).

    ``append`` with a key that exists is refused with ``Conflict``; callers check ``get`` first
    (idempotent awards); corrections are new entries."""

    def append(self, key: str, entry: T, *, subject: SubjectRef, at: dt.datetime) -> None:
        """Append an entry under its idempotency ``key``."""
        ...

    def get(self, key: str) -> T | None:
        """The entry with this key, or ``None``."""
        ...

    def entries(self, *, subject: SubjectRef | None = None) -> builtins.list[T]:
        """Entries (of one subject when given) in append order."""
        ...


@runtime_checkable
class BookmarkRepository(Protocol):
    """Incremental-sync bookmarks per ``(source, stream, partition)``."""

    def get(self, source: str, stream: str, partition: str = "") -> SourceBookmark | None:
        """The bookmark, or ``None`` before the first sync."""
        ...

    def put(self, bookmark: SourceBookmark) -> None:
        """Store or replace a bookmark."""
        ...

    def list(self, *, source: str | None = None) -> builtins.list[SourceBookmark]:
        """Bookmarks ordered by (source, stream, partition)."""
        ...
