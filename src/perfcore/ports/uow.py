"""The unit of work port: one transaction over every repository and the outbox.

Usage in a handler::

    with uow:
        uow.evidence.add(...)
        uow.outbox.add(message)
        uow.emit(EvidenceRecorded(...))
        uow.commit()

Leaving the ``with`` block without ``commit()`` (normally or by an exception) rolls back: nothing
is stored, no message is queued and the emitted events are discarded. Events emitted (or found on
tracked aggregates) are handed to the message bus only after a successful commit, through
:meth:`AbstractUnitOfWork.collect_new_events`.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self

from perfcore.ports.outbox import Outbox
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

__all__ = ["AbstractUnitOfWork"]


class AbstractUnitOfWork(abc.ABC):
    """Base class for units of work (the in-memory fake, the SQLAlchemy adapter).

    Subclasses set the repository attributes in ``__enter__`` (or ``__init__``) and implement
    ``_commit`` and ``rollback``. The base class owns the event bookkeeping:

    - ``emit(event)`` queues a domain event for after the commit;
    - ``track(aggregate)`` registers an aggregate whose ``events`` list (if it has one) is drained
      at commit;
    - ``collect_new_events()`` yields committed events once each.
    """

    plans: PlanRepository
    evidence: EvidenceRepository[Any]
    scorecards: ScorecardRepository[Any]
    reviews: ReviewRepository[Any]
    calibrations: CalibrationRepository[Any]
    ledger: LedgerRepository[Any]
    milestones: MilestoneRepository[Any]
    alerts: AlertRepository[Any]
    diagnoses: KeyedRepository[Any]
    periods: KeyedRepository[Any]
    bookmarks: BookmarkRepository
    outbox: Outbox

    def __init__(self) -> None:
        self._pending: list[object] = []
        self._committed: list[object] = []
        self._tracked: list[object] = []
        self._active = False

    @property
    def active(self) -> bool:
        """True inside a ``with uow:`` block (code that may run inside one reads directly
        instead of opening a nested block, which would roll the outer one back)."""
        return self.__dict__.get("_active", False) is True

    def __enter__(self) -> Self:
        self._pending = []
        self._tracked = []
        self._active = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.rollback()
        finally:
            self._pending = []
            self._tracked = []
            self._active = False

    def emit(self, event: object) -> None:
        """Queue a domain event; it is released only if this unit of work commits."""
        self._pending.append(event)

    def track(self, aggregate: object) -> None:
        """Remember an aggregate; a list in its ``events`` attribute is drained at commit."""
        self._tracked.append(aggregate)

    def commit(self) -> None:
        """Make every change of this unit of work durable and release its events."""
        self._commit()
        for aggregate in self._tracked:
            events = getattr(aggregate, "events", None)
            if isinstance(events, list):
                self._committed.extend(events)
                events.clear()
        self._committed.extend(self._pending)
        self._pending = []

    def collect_new_events(self) -> Iterator[object]:
        """Yield (and forget) the events released by commits so far, in order."""
        while self._committed:
            yield self._committed.pop(0)

    @abc.abstractmethod
    def _commit(self) -> None:
        """Persist the changes (adapter specific)."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Discard uncommitted changes; safe to call after a commit (then a no-op)."""
