"""In-memory implementations of every port, for tests and for the embedded "memory" storage.

They follow the same contracts as the real adapters (:mod:`perfcore.testing.contract` runs against
both), so a test that passes here tells the truth about the service layer:

- :class:`InMemoryUnitOfWork` — changes become visible to the next unit of work only on
  ``commit()``; leaving the block without committing discards them (changes are made on a copy).
  ``commits`` counts successful commits.
- :class:`FakeClock` — ``now()`` returns a fixed aware instant; ``advance(hours=49)`` moves it.
- :class:`RecordingNotifier` — keeps every message it was asked to send; can be told to fail.
- :class:`StaticIdentityResolver` — a dict of ``(system, external_id) → SubjectRef``.

Mutable aggregates are copied on ``get`` and ``add`` so that changing an object without calling
``add`` again does not leak into storage (as with a real database).
"""

from __future__ import annotations

import builtins
import copy
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

import attrs

from perfcore.domain.errors import Conflict, InvalidValue, NotFound
from perfcore.domain.values import SubjectRef, ensure_aware
from perfcore.ports.notifications import DeliveryResult, Message
from perfcore.ports.outbox import OutboxMessage, OutboxStatus
from perfcore.ports.records import PeriodScoring, PlanVersion, QuarantinedRecord, SourceBookmark
from perfcore.ports.uow import AbstractUnitOfWork

__all__ = [
    "FakeClock",
    "InMemoryBookmarkRepository",
    "InMemoryEvidenceRepository",
    "InMemoryKeyedRepository",
    "InMemoryLedgerRepository",
    "InMemoryOutbox",
    "InMemoryPlanRepository",
    "InMemoryReviewRepository",
    "InMemoryScorecardRepository",
    "InMemoryStore",
    "InMemoryUnitOfWork",
    "RecordingNotifier",
    "StaticIdentityResolver",
]

T = TypeVar("T")


class _CopyOnWrite:
    """Repositories share their tables with the committed state until their first write in a
    unit of work; then they copy them (so a rollback leaves the committed state untouched and
    entering a unit of work costs nothing for tables it does not change)."""

    _shared: bool = False
    #: Append-only tables: shared even after the first write; new keys are written in place and
    #: recorded, and removed again on rollback (so a write costs O(1), not a table copy).
    _append_only: tuple[str, ...] = ()

    def _own(self) -> None:
        if self._shared:
            for name, value in list(vars(self).items()):
                if isinstance(value, dict | set) and name not in self._append_only:
                    setattr(self, name, copy.copy(value))
            self._undo: list[tuple[str, str]] = []
            self._shared = False

    def _appended(self, table: str, key: str) -> None:
        undo = self.__dict__.get("_undo")
        if undo is not None:
            undo.append((table, key))

    def _rollback(self) -> None:
        """Remove the keys this unit of work appended to shared append-only tables."""
        for table, key in reversed(self.__dict__.pop("_undo", [])):
            getattr(self, table).pop(key, None)

    def _settle(self) -> None:
        """Forget the undo log (the appended keys are committed)."""
        self.__dict__.pop("_undo", None)


def _is_frozen(item: object) -> bool:
    params = getattr(type(item), "__attrs_attrs__", None)
    if params is None:
        return False
    setattr_ = getattr(type(item), "__setattr__", None)
    return getattr(setattr_, "__name__", "") == "_frozen_setattrs"


def _snapshot(item: T) -> T:
    return item if _is_frozen(item) else copy.deepcopy(item)


class InMemoryKeyedRepository(_CopyOnWrite, Generic[T]):
    """Items under string keys, optionally filed under a subject (the generic shape)."""

    def __init__(self) -> None:
        self._items: dict[str, T] = {}
        self._subjects: dict[str, SubjectRef | None] = {}

    def add(self, key: str, item: T, *, subject: SubjectRef | None = None) -> None:
        """Store or replace."""
        self._own()
        self._items[key] = _snapshot(item)
        if subject is not None or key not in self._subjects:
            self._subjects[key] = subject

    def get(self, key: str) -> T | None:
        """The item or ``None``."""
        item = self._items.get(key)
        return None if item is None else _snapshot(item)

    def list(self, *, subject: SubjectRef | None = None) -> builtins.list[T]:
        """Items ordered by key."""
        return [
            _snapshot(self._items[k])
            for k in sorted(self._items)
            if subject is None or self._subjects.get(k) == subject
        ]


class InMemoryReviewRepository(InMemoryKeyedRepository[T]):
    """Reviews, plus the set of open review keys."""

    def __init__(self) -> None:
        super().__init__()
        self._open: set[str] = set()

    def open_keys(self) -> builtins.list[str]:
        """Keys marked open, ordered."""
        return sorted(self._open)

    def set_open(self, key: str, is_open: bool) -> None:
        """Mark a stored review open or closed."""
        if key not in self._items:
            raise NotFound(f"no review {key!r}", field="review_id")
        self._own()
        if is_open:
            self._open.add(key)
        else:
            self._open.discard(key)


class InMemoryPlanRepository(_CopyOnWrite):
    """Plan versions and period-scoring records."""

    def __init__(self) -> None:
        self._versions: dict[int, PlanVersion] = {}
        self._scorings: dict[tuple[str, str], PeriodScoring] = {}

    def add(self, version: PlanVersion) -> None:
        """Store a new version; a duplicate number raises ``Conflict``."""
        if version.number in self._versions:
            raise Conflict(f"plan version {version.number} exists", field="number")
        self._own()
        self._versions[version.number] = version

    def get(self, number: int) -> PlanVersion | None:
        """The version or ``None``."""
        return self._versions.get(number)

    def latest(self) -> PlanVersion | None:
        """The highest version or ``None``."""
        return self._versions[max(self._versions)] if self._versions else None

    def list(self) -> builtins.list[PlanVersion]:
        """All versions ascending."""
        return [self._versions[n] for n in sorted(self._versions)]

    def record_scoring(self, scoring: PeriodScoring) -> None:
        """Replace the record for (period, subject)."""
        self._own()
        self._scorings[(scoring.period_key, str(scoring.subject))] = scoring

    def scorings(self, *, period_key: str | None = None) -> builtins.list[PeriodScoring]:
        """Records ordered by (period, subject)."""
        return [
            self._scorings[k]
            for k in sorted(self._scorings)
            if period_key is None or k[0] == period_key
        ]


class InMemoryEvidenceRepository(_CopyOnWrite, Generic[T]):
    """Accepted evidence (treated as immutable, not copied) and the quarantine."""

    _append_only = ("_items",)

    def __init__(self) -> None:
        self._items: dict[str, tuple[T, SubjectRef, str, dt.datetime]] = {}
        self._keys_of: dict[SubjectRef, tuple[str, ...]] = {}
        self._quarantine: dict[str, QuarantinedRecord] = {}
        self._superseded: set[str] = set()

    def add(
        self, key: str, evidence: T, *, subject: SubjectRef, evidence_type: str, at: dt.datetime
    ) -> None:
        """Store accepted evidence; an existing key raises ``Conflict``. An item whose
        ``supersedes`` attribute names a stored key makes that version non-current."""
        if key in self._items:
            raise Conflict(f"evidence {key!r} already recorded", field="idempotency_key")
        self._own()
        self._items[key] = (evidence, subject, evidence_type, ensure_aware(at, field="at"))
        self._appended("_items", key)
        self._keys_of[subject] = (*self._keys_of.get(subject, ()), key)
        replaced = getattr(evidence, "supersedes", None)
        if isinstance(replaced, str) and replaced:
            self._superseded.add(replaced)

    def get_by_idempotency_key(self, key: str) -> T | None:
        """The evidence or ``None``."""
        row = self._items.get(key)
        return None if row is None else row[0]

    def list(
        self,
        *,
        subject: SubjectRef | None = None,
        evidence_type: str | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> builtins.list[T]:
        """Current versions, filtered, ordered by (time, key); a subject query reads only that
        subject's keys."""
        keys = self._keys_of.get(subject, ()) if subject is not None else self._items
        items = self._items
        superseded = self._superseded
        rows = [
            (at, key, ev)
            for key in keys
            for ev, subj, etype, at in (items[key],)
            if (subject is None or subj == subject)
            and key not in superseded
            and (evidence_type is None or etype == evidence_type)
            and (start is None or at >= start)
            and (end is None or at < end)
        ]
        rows.sort(key=lambda r: (r[0], r[1]))
        return [r[2] for r in rows]

    def versions(self, source: str, external_id: str) -> builtins.list[T]:
        """Every version of ``(source, external_id)``, oldest first."""
        found = [
            row[0]
            for row in self._items.values()
            if (getattr(row[0], "source", None), getattr(row[0], "external_id", None))
            == (source, external_id)
        ]
        return sorted(found, key=lambda ev: int(getattr(ev, "version", 1) or 1))

    def subjects(self) -> builtins.list[SubjectRef]:
        """Subjects with evidence."""
        return sorted({row[1] for row in self._items.values()}, key=str)

    def quarantine(self, record: QuarantinedRecord) -> None:
        """Keep the first record per key."""
        self._own()
        self._quarantine.setdefault(record.key, record)

    def quarantined(self, *, source: str | None = None) -> builtins.list[QuarantinedRecord]:
        """Ordered by (received_at, key)."""
        rows = [r for r in self._quarantine.values() if source is None or r.source == source]
        return sorted(rows, key=lambda r: (r.received_at, r.key))


class InMemoryScorecardRepository(_CopyOnWrite, Generic[T]):
    """Latest scorecard per (subject, period key)."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], tuple[SubjectRef, T]] = {}

    def put(self, subject: SubjectRef, period_key: str, scorecard: T) -> None:
        """Store or replace."""
        self._own()
        self._items[(period_key, str(subject))] = (subject, _snapshot(scorecard))

    def get(self, subject: SubjectRef, period_key: str) -> T | None:
        """The scorecard or ``None``."""
        row = self._items.get((period_key, str(subject)))
        return None if row is None else _snapshot(row[1])

    def remove(self, subject: SubjectRef, period_key: str) -> bool:
        """Delete; ``True`` when one was stored."""
        if (period_key, str(subject)) not in self._items:
            return False
        self._own()
        del self._items[(period_key, str(subject))]
        return True

    def list(
        self, *, period_key: str | None = None, subject: SubjectRef | None = None
    ) -> builtins.list[tuple[SubjectRef, str, T]]:
        """Triples ordered by (period, subject)."""
        return [
            (subj, k[0], _snapshot(card))
            for k, (subj, card) in sorted(self._items.items())
            if (period_key is None or k[0] == period_key) and (subject is None or subj == subject)
        ]


class InMemoryLedgerRepository(_CopyOnWrite, Generic[T]):
    """Append-only ledger entries."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[T, SubjectRef, dt.datetime]] = {}

    def append(self, key: str, entry: T, *, subject: SubjectRef, at: dt.datetime) -> None:
        """Append; an existing key raises ``Conflict``."""
        if key in self._entries:
            raise Conflict(f"ledger entry {key!r} exists", field="key")
        self._own()
        self._entries[key] = (_snapshot(entry), subject, ensure_aware(at, field="at"))

    def get(self, key: str) -> T | None:
        """The entry or ``None``."""
        row = self._entries.get(key)
        return None if row is None else row[0]

    def entries(self, *, subject: SubjectRef | None = None) -> builtins.list[T]:
        """Entries in append order."""
        return [e for e, s, _ in self._entries.values() if subject is None or s == subject]


class InMemoryBookmarkRepository(_CopyOnWrite):
    """Bookmarks per (source, stream, partition)."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str, str], SourceBookmark] = {}

    def get(self, source: str, stream: str, partition: str = "") -> SourceBookmark | None:
        """The bookmark or ``None``."""
        return self._items.get((source, stream, partition))

    def put(self, bookmark: SourceBookmark) -> None:
        """Store or replace."""
        self._own()
        self._items[(bookmark.source, bookmark.stream, bookmark.partition)] = bookmark

    def list(self, *, source: str | None = None) -> builtins.list[SourceBookmark]:
        """Ordered by key."""
        return [self._items[k] for k in sorted(self._items) if source is None or k[0] == source]


class InMemoryOutbox(_CopyOnWrite):
    """The outbox as a dict keyed by dedupe key (insertion order = creation order)."""

    def __init__(self) -> None:
        self._items: dict[str, OutboxMessage] = {}

    def add(self, message: OutboxMessage) -> bool:
        """Add unless the key exists."""
        if message.dedupe_key in self._items:
            return False
        self._own()
        self._items[message.dedupe_key] = message
        return True

    def get(self, dedupe_key: str) -> OutboxMessage | None:
        """The message or ``None``."""
        return self._items.get(dedupe_key)

    def pending(self, now: dt.datetime, *, limit: int = 100) -> builtins.list[OutboxMessage]:
        """Due messages, oldest first."""
        due = [
            m
            for m in self._items.values()
            if m.status is OutboxStatus.PENDING
            or (
                m.status is OutboxStatus.FAILED
                and (m.next_attempt_at is None or m.next_attempt_at <= now)
            )
        ]
        return due[:limit]

    def _require(self, key: str) -> OutboxMessage:
        message = self._items.get(key)
        if message is None:
            raise NotFound(f"no outbox message {key!r}", field="dedupe_key")
        return message

    def mark_delivered(self, dedupe_key: str, at: dt.datetime) -> None:
        """Status delivered."""
        message = self._require(dedupe_key)
        self._own()
        self._items[dedupe_key] = attrs.evolve(
            message, status=OutboxStatus.DELIVERED, delivered_at=at, attempts=message.attempts + 1
        )

    def mark_failed(self, dedupe_key: str, error: str, retry_at: dt.datetime | None) -> None:
        """Status failed (or dead without ``retry_at``)."""
        message = self._require(dedupe_key)
        self._own()
        self._items[dedupe_key] = attrs.evolve(
            message,
            status=OutboxStatus.FAILED if retry_at is not None else OutboxStatus.DEAD,
            attempts=message.attempts + 1,
            last_error=error,
            next_attempt_at=retry_at,
        )

    def all(self) -> builtins.list[OutboxMessage]:
        """Every message, oldest first."""
        return list(self._items.values())


class InMemoryStore:
    """The committed state shared by successive :class:`InMemoryUnitOfWork` blocks."""

    def __init__(self) -> None:
        self.repositories: dict[str, Any] = _fresh_repositories()


def _fresh_repositories() -> dict[str, Any]:
    return {
        "plans": InMemoryPlanRepository(),
        "evidence": InMemoryEvidenceRepository[Any](),
        "scorecards": InMemoryScorecardRepository[Any](),
        "reviews": InMemoryReviewRepository[Any](),
        "calibrations": InMemoryKeyedRepository[Any](),
        "ledger": InMemoryLedgerRepository[Any](),
        "milestones": InMemoryKeyedRepository[Any](),
        "alerts": InMemoryKeyedRepository[Any](),
        "diagnoses": InMemoryKeyedRepository[Any](),
        "periods": InMemoryKeyedRepository[Any](),
        "bookmarks": InMemoryBookmarkRepository(),
        "outbox": InMemoryOutbox(),
    }


def _clone_repository(repo: object) -> object:
    clone = copy.copy(repo)
    if isinstance(clone, _CopyOnWrite):
        clone._shared = True  # tables are copied on the first write
    else:  # a repository that does not know copy-on-write: copy its tables now
        for name, value in vars(repo).items():
            if isinstance(value, dict | set):
                setattr(clone, name, copy.copy(value))
    return clone


class InMemoryUnitOfWork(AbstractUnitOfWork):
    """A unit of work over an :class:`InMemoryStore` (a new one unless given).

    On ``__enter__`` every repository is cloned (its tables are copied on its first write in the
    block: copy-on-write); ``commit()`` swaps the clones into the store; ``rollback()`` drops
    them.
    """

    def __init__(self, store: InMemoryStore | None = None) -> None:
        super().__init__()
        self.store = store if store is not None else InMemoryStore()
        self.commits = 0
        self._working: dict[str, Any] | None = None
        self._bind(self.store.repositories)

    def _bind(self, repos: Mapping[str, Any]) -> None:
        for name, repo in repos.items():
            setattr(self, name, repo)

    def __enter__(self) -> InMemoryUnitOfWork:
        super().__enter__()
        self._working = {k: _clone_repository(v) for k, v in self.store.repositories.items()}
        self._bind(self._working)
        return self

    def _commit(self) -> None:
        if self._working is None:
            raise InvalidValue("commit() outside a 'with uow:' block", field="uow")
        for repo in self._working.values():
            if isinstance(repo, _CopyOnWrite):
                repo._settle()
        self.store.repositories = self._working
        self._working = {k: _clone_repository(v) for k, v in self.store.repositories.items()}
        self._bind(self._working)
        self.commits += 1

    def rollback(self) -> None:
        """Drop uncommitted changes and point the repositories at the committed state."""
        for repo in (self._working or {}).values():
            if isinstance(repo, _CopyOnWrite):
                repo._rollback()
        self._working = None
        self._bind(self.store.repositories)


class FakeClock:
    """A clock that stands still until told to move.

    ``FakeClock(dt.datetime(2025, 3, 3, 8, tzinfo=dt.UTC))``; ``advance(hours=49)``;
    ``set(instant)``. Naive datetimes raise ``InvalidValue``.
    """

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = ensure_aware(
            start if start is not None else dt.datetime(2025, 1, 1, tzinfo=dt.UTC), field="start"
        )

    def now(self) -> dt.datetime:
        """The current fake instant."""
        return self._now

    def advance(self, delta: dt.timedelta | None = None, **kwargs: float) -> dt.datetime:
        """Move forward by ``delta`` or ``timedelta(**kwargs)``; returns the new instant."""
        step = delta if delta is not None else dt.timedelta(**kwargs)
        if step < dt.timedelta(0):
            raise InvalidValue("a clock cannot go backwards", field="delta", valid=">= 0")
        self._now = self._now + step
        return self._now

    def set(self, instant: dt.datetime) -> None:
        """Jump to ``instant`` (aware)."""
        self._now = ensure_aware(instant, field="instant")


class RecordingNotifier:
    """A notifier that records every message. ``fail_with`` makes the next sends fail."""

    def __init__(self) -> None:
        self.sent: list[Message] = []
        self.attempts: list[Message] = []
        self.fail_with: DeliveryResult | None = None

    def send(self, message: Message) -> DeliveryResult:
        """Record and answer delivered (or ``fail_with`` when set)."""
        self.attempts.append(message)
        if self.fail_with is not None:
            return self.fail_with
        self.sent.append(message)
        return DeliveryResult.delivered("recorded")

    def bodies(self) -> list[str]:
        """The bodies of the delivered messages, in order."""
        return [m.body for m in self.sent]


class StaticIdentityResolver:
    """Identity map from a dict: ``{("mes", "B-17"): SubjectRef.person("E1")}``."""

    def __init__(
        self,
        mapping: Mapping[tuple[str, str], SubjectRef] | None = None,
        *,
        fallthrough: bool = False,
    ) -> None:
        self._map = dict(mapping or {})
        self._fallthrough = fallthrough

    def add(self, system: str, external_id: str, subject: SubjectRef) -> None:
        """Map one more id."""
        self._map[(system, external_id)] = subject

    def resolve(self, system: str, external_id: str) -> SubjectRef | None:
        """The mapped subject; with ``fallthrough`` an unmapped id becomes ``person:<id>``."""
        found = self._map.get((system, external_id))
        if found is None and self._fallthrough and external_id:
            return SubjectRef.person(external_id)
        return found

    def known(self) -> Iterable[tuple[str, str]]:
        """The mapped ``(system, external_id)`` pairs."""
        return list(self._map)
