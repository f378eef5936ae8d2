"""In-memory storage with a subject index on evidence, for replays of real-size history.

:class:`perfcore.testing.fakes.InMemoryEvidenceRepository` scans every record on each
``list(subject=...)``; replays ask that tens of thousands of times (daily alert rules re-read a
subject's month). This subclass keeps, per subject, the tuple of its keys — tuples, so that the
unit of work's shallow copy-on-enter stays correct — and answers subject queries from it. Same
contract, same results.
"""

from __future__ import annotations

import builtins
import datetime as dt
from typing import Any

from perfcore.domain.values import SubjectRef
from perfcore.testing.fakes import InMemoryEvidenceRepository, InMemoryStore, InMemoryUnitOfWork

__all__ = ["IndexedEvidenceRepository", "indexed_unit_of_work"]


class IndexedEvidenceRepository(InMemoryEvidenceRepository[Any]):
    """Evidence repository answering ``list(subject=...)`` from a per-subject index."""

    def __init__(self) -> None:
        super().__init__()
        self._by_subject: dict[SubjectRef, tuple[str, ...]] = {}

    def add(
        self, key: str, evidence: Any, *, subject: SubjectRef, evidence_type: str, at: dt.datetime
    ) -> None:
        """Store accepted evidence (``Conflict`` for an existing key) and index it."""
        super().add(key, evidence, subject=subject, evidence_type=evidence_type, at=at)
        self._by_subject[subject] = (*self._by_subject.get(subject, ()), key)

    def list(
        self,
        *,
        subject: SubjectRef | None = None,
        evidence_type: str | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> builtins.list[Any]:
        """Filtered, ordered by (time, key) — as the base class."""
        if subject is None:
            return super().list(evidence_type=evidence_type, start=start, end=end)
        rows = []
        for key in self._by_subject.get(subject, ()):
            ev, _subj, etype, at = self._items[key]
            if evidence_type is not None and etype != evidence_type:
                continue
            if (start is not None and at < start) or (end is not None and at >= end):
                continue
            rows.append((at, key, ev))
        rows.sort(key=lambda r: (r[0], r[1]))
        return [r[2] for r in rows]


def indexed_unit_of_work() -> InMemoryUnitOfWork:
    """An in-memory unit of work whose evidence repository is indexed by subject."""
    store = InMemoryStore()
    store.repositories["evidence"] = IndexedEvidenceRepository()
    return InMemoryUnitOfWork(store)
