"""Document repositories: keyed aggregates (with optimistic locking), scorecards, the ledger and
source bookmarks. Aggregates are stored as tagged JSON (:mod:`~perfcore_adapters.sqlalchemy.codec`)
next to the columns that are queried."""

from __future__ import annotations

import builtins
import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from perfcore.domain.errors import Conflict, NotFound
from perfcore.domain.values import SubjectRef, ensure_aware
from perfcore.ports.records import SourceBookmark
from perfcore_adapters.sqlalchemy import mappers as m
from perfcore_adapters.sqlalchemy import tables as t
from perfcore_adapters.sqlalchemy.codec import decode, encode
from perfcore_adapters.sqlalchemy.dialect import insert_for, upsert
from perfcore_adapters.sqlalchemy.repositories import subject_filter

if TYPE_CHECKING:
    from perfcore_adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork

__all__ = [
    "SqlBookmarkRepository",
    "SqlKeyedRepository",
    "SqlLedgerRepository",
    "SqlReviewRepository",
    "SqlScorecardRepository",
]


_SC = t.scorecards
_SCORECARD_DOC = sa.select(_SC.c.doc).where(
    _SC.c.period_key == sa.bindparam("period_key"),
    _SC.c.subject_kind == sa.bindparam("kind"),
    _SC.c.subject_id == sa.bindparam("ident"),
)


class SqlKeyedRepository:
    """Aggregates of one ``kind`` under string keys, with optimistic concurrency.

    Every ``get``/``list`` remembers the ``row_version`` it read; ``add`` of a key read in this
    unit of work updates only if the stored version is still that one, otherwise it raises
    :class:`~perfcore.domain.errors.Conflict` (another unit of work changed it first). ``add`` of a
    key not read replaces the stored item (the port's semantics) or inserts it."""

    def __init__(self, uow: SqlAlchemyUnitOfWork, kind: str) -> None:
        self._uow = uow
        self.kind = kind
        self._seen: dict[str, int] = {}

    def reset(self) -> None:
        """Forget the versions read (a new unit of work starts)."""
        self._seen.clear()

    def _where(self, key: str) -> sa.ColumnElement[bool]:
        a = t.aggregates
        return sa.and_(a.c.kind == self.kind, a.c.key == key)

    def add(self, key: str, item: object, *, subject: SubjectRef | None = None) -> None:
        """Store or replace ``item`` under ``key``.

        Raises:
            Conflict: the item was changed by another unit of work since this one read it
                (field ``key``).
        """
        a = t.aggregates
        conn = self._uow.connection
        values: dict[str, Any] = {"doc": encode(item), "updated_at": m.naive_utc(self._uow.now())}
        if subject is not None:
            values.update(subject_kind=subject.kind.value, subject_id=subject.id)
        seen = self._seen.get(key)
        if seen is None:
            found = conn.execute(sa.select(a.c.row_version).where(self._where(key))).first()
            if found is None:
                self._uow.guarded_insert(
                    a.insert().values(kind=self.kind, key=key, row_version=1, **values),
                    Conflict(f"{self.kind} {key!r} was created concurrently", field="key"),
                )
                self._seen[key] = 1
                return
            seen = int(found.row_version)
        done = conn.execute(
            a.update()
            .where(self._where(key), a.c.row_version == seen)
            .values(row_version=seen + 1, **values)
        ).rowcount
        if done != 1:
            self._seen.pop(key, None)
            raise Conflict(
                f"{self.kind} {key!r} was changed by someone else; reload and try again",
                field="key",
                valid=f"the current version of {key!r}",
            )
        self._seen[key] = seen + 1

    def get(self, key: str) -> Any:
        """The item or ``None``."""
        a = t.aggregates
        row = self._uow.connection.execute(
            sa.select(a.c.row_version, a.c.doc).where(self._where(key))
        ).first()
        if row is None:
            return None
        self._seen[key] = int(row.row_version)
        return decode(row.doc)

    def list(self, *, subject: SubjectRef | None = None) -> builtins.list[Any]:
        """Items (of one subject) ordered by key."""
        a = t.aggregates
        stmt = sa.select(a.c.key, a.c.row_version, a.c.doc).where(a.c.kind == self.kind)
        if subject is not None:
            stmt = stmt.where(subject_filter(a, subject))
        out = []
        for row in self._uow.connection.execute(stmt.order_by(a.c.key)):
            self._seen[row.key] = int(row.row_version)
            out.append(decode(row.doc))
        return out


class SqlReviewRepository(SqlKeyedRepository):
    """Reviews plus their open flag (port: ``ReviewRepository``)."""

    def open_keys(self) -> builtins.list[str]:
        """Keys of reviews marked open, ordered."""
        a = t.aggregates
        stmt = sa.select(a.c.key).where(a.c.kind == self.kind, a.c.is_open.is_(True))
        return [r.key for r in self._uow.connection.execute(stmt.order_by(a.c.key))]

    def set_open(self, key: str, is_open: bool) -> None:
        """Mark a stored review open or closed; an unknown key raises ``NotFound``."""
        a = t.aggregates
        done = self._uow.connection.execute(
            a.update().where(self._where(key)).values(is_open=is_open)
        ).rowcount
        if done != 1:
            raise NotFound(f"no review {key!r}", field="review_id")


class SqlScorecardRepository:
    """The latest scorecard per (subject, period key) (port: ``ScorecardRepository``)."""

    def __init__(self, uow: SqlAlchemyUnitOfWork) -> None:
        self._uow = uow

    def put(self, subject: SubjectRef, period_key: str, scorecard: object) -> None:
        """Store or replace."""
        self.put_many([(subject, period_key, scorecard)])

    def put_many(self, items: builtins.list[tuple[SubjectRef, str, object]]) -> None:
        """Store or replace many scorecards in one statement."""
        if not items:
            return
        s = t.scorecards
        conn = self._uow.connection
        now = m.naive_utc(self._uow.now())
        rows = []
        for subject, period_key, card in items:
            total = getattr(card, "total", None)
            version = getattr(card, "plan_version", None)
            rows.append(
                {
                    "period_key": period_key,
                    "subject_kind": subject.kind.value,
                    "subject_id": subject.id,
                    "plan_version": version if isinstance(version, int) else None,
                    "total": total if isinstance(total, Decimal) else None,
                    "doc": encode(card),
                    "updated_at": now,
                }
            )
        stmt = upsert(
            conn,
            s,
            ("period_key", "subject_kind", "subject_id"),
            ("plan_version", "total", "doc", "updated_at"),
        )
        conn.execute(stmt, rows)

    def get(self, subject: SubjectRef, period_key: str) -> Any:
        """The scorecard or ``None``."""
        row = self._uow.connection.execute(
            _SCORECARD_DOC,
            {"period_key": period_key, "kind": subject.kind.value, "ident": subject.id},
        ).first()
        return None if row is None else decode(row.doc)

    def remove(self, subject: SubjectRef, period_key: str) -> bool:
        """Delete the scorecard; ``True`` when one was stored."""
        s = t.scorecards
        result = self._uow.connection.execute(
            sa.delete(s).where(s.c.period_key == period_key, subject_filter(s, subject))
        )
        return bool(result.rowcount)

    def scored_subjects(self, period_key: str) -> builtins.set[SubjectRef]:
        """The subjects with a stored scorecard for ``period_key`` (keys only, one query)."""
        s = t.scorecards
        rows = self._uow.connection.execute(
            sa.select(s.c.subject_kind, s.c.subject_id).where(s.c.period_key == period_key)
        )
        return {m.subject_from(kind, ident) for kind, ident in rows}

    def list(
        self, *, period_key: str | None = None, subject: SubjectRef | None = None
    ) -> builtins.list[tuple[SubjectRef, str, Any]]:
        """``(subject, period_key, scorecard)`` ordered by period then subject."""
        s = t.scorecards
        stmt = sa.select(s.c.subject_kind, s.c.subject_id, s.c.period_key, s.c.doc)
        if period_key is not None:
            stmt = stmt.where(s.c.period_key == period_key)
        if subject is not None:
            stmt = stmt.where(subject_filter(s, subject))
        stmt = stmt.order_by(s.c.period_key, s.c.subject_kind, s.c.subject_id)
        return [
            (m.subject_from(r.subject_kind, r.subject_id), r.period_key, decode(r.doc))
            for r in self._uow.connection.execute(stmt)
        ]


class SqlLedgerRepository:
    """The append-only ledger (port: ``LedgerRepository``); rows are never updated."""

    def __init__(self, uow: SqlAlchemyUnitOfWork) -> None:
        self._uow = uow

    def append(self, key: str, entry: object, *, subject: SubjectRef, at: dt.datetime) -> None:
        """Append under ``key``; an existing key raises ``Conflict`` (field ``key``)."""
        if self._row(key) is not None:
            raise Conflict(f"ledger entry {key!r} exists", field="key")
        self._uow.guarded_insert(
            t.ledger.insert().values(
                key=key,
                subject_kind=subject.kind.value,
                subject_id=subject.id,
                at=m.naive_utc(ensure_aware(at, field="at")),
                doc=encode(entry),
            ),
            Conflict(f"ledger entry {key!r} was appended concurrently", field="key"),
        )

    def _row(self, key: str) -> Any:
        return self._uow.connection.execute(
            sa.select(t.ledger.c.doc).where(t.ledger.c.key == key)
        ).first()

    def get(self, key: str) -> Any:
        """The entry or ``None``."""
        row = self._row(key)
        return None if row is None else decode(row.doc)

    def entries(self, *, subject: SubjectRef | None = None) -> builtins.list[Any]:
        """Entries (of one subject) in append order."""
        lg = t.ledger
        stmt = sa.select(lg.c.doc).order_by(lg.c.seq)
        if subject is not None:
            stmt = stmt.where(subject_filter(lg, subject))
        return [decode(r.doc) for r in self._uow.connection.execute(stmt)]


class SqlBookmarkRepository:
    """Source bookmarks per (source, stream, partition) (port: ``BookmarkRepository``)."""

    def __init__(self, uow: SqlAlchemyUnitOfWork) -> None:
        self._uow = uow

    def get(self, source: str, stream: str, partition: str = "") -> SourceBookmark | None:
        """The bookmark or ``None``."""
        b = t.bookmarks
        row = self._uow.connection.execute(
            sa.select(b).where(
                b.c.source == source, b.c.stream == stream, b.c.partition == partition
            )
        ).first()
        return None if row is None else m.bookmark_from(row)

    def put(self, bookmark: SourceBookmark) -> None:
        """Store or replace."""
        b = t.bookmarks
        conn = self._uow.connection
        stmt = insert_for(conn, b).values(
            source=bookmark.source,
            stream=bookmark.stream,
            partition=bookmark.partition,
            state=encode(dict(bookmark.state)),
            updated_at=m.naive_utc(bookmark.updated_at),
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["source", "stream", "partition"],
            set_={"state": stmt.excluded.state, "updated_at": stmt.excluded.updated_at},
        )
        conn.execute(stmt)

    def list(self, *, source: str | None = None) -> builtins.list[SourceBookmark]:
        """Ordered by (source, stream, partition)."""
        b = t.bookmarks
        stmt = sa.select(b).order_by(b.c.source, b.c.stream, b.c.partition)
        if source is not None:
            stmt = stmt.where(b.c.source == source)
        return [m.bookmark_from(r) for r in self._uow.connection.execute(stmt)]
