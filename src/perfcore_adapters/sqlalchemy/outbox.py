"""The transactional outbox on SQLAlchemy Core (port: :class:`perfcore.ports.outbox.Outbox`)."""

from __future__ import annotations

import builtins
import datetime as dt
from typing import TYPE_CHECKING

import sqlalchemy as sa

from perfcore.domain.errors import NotFound
from perfcore.ports.outbox import OutboxMessage, OutboxStatus
from perfcore_adapters.sqlalchemy import mappers as m
from perfcore_adapters.sqlalchemy import tables as t
from perfcore_adapters.sqlalchemy.dialect import insert_for

if TYPE_CHECKING:
    from perfcore_adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork

__all__ = ["SqlOutbox"]


class SqlOutbox:
    """Outbox rows written in the unit of work's transaction; ``seq`` keeps arrival order."""

    def __init__(self, uow: SqlAlchemyUnitOfWork) -> None:
        self._uow = uow

    def add(self, message: OutboxMessage) -> bool:
        """Add; ``False`` when the dedupe key exists (nothing stored)."""
        conn = self._uow.connection
        stmt = (
            insert_for(conn, t.outbox)
            .values(**m.outbox_row(message))
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(t.outbox.c.seq)
        )
        return conn.execute(stmt).first() is not None

    def get(self, dedupe_key: str) -> OutboxMessage | None:
        """The message or ``None``."""
        o = t.outbox
        row = self._uow.connection.execute(sa.select(o).where(o.c.dedupe_key == dedupe_key)).first()
        return None if row is None else m.outbox_from(row)

    def pending(self, now: dt.datetime, *, limit: int = 100) -> builtins.list[OutboxMessage]:
        """Pending messages and failed ones due at ``now``, oldest first."""
        o = t.outbox
        due = sa.or_(
            o.c.status == OutboxStatus.PENDING.value,
            sa.and_(
                o.c.status == OutboxStatus.FAILED.value,
                o.c.next_attempt_at <= m.naive_utc(now),
            ),
        )
        stmt = sa.select(o).where(due).order_by(o.c.seq).limit(limit)
        return [m.outbox_from(r) for r in self._uow.connection.execute(stmt)]

    def _update(self, dedupe_key: str, **values: object) -> None:
        o = t.outbox
        done = self._uow.connection.execute(
            o.update().where(o.c.dedupe_key == dedupe_key).values(**values)
        ).rowcount
        if done != 1:
            raise NotFound(f"no outbox message {dedupe_key!r}", field="dedupe_key")

    def mark_delivered(self, dedupe_key: str, at: dt.datetime) -> None:
        """Record a successful delivery; unknown key → ``NotFound``."""
        self._update(dedupe_key, status=OutboxStatus.DELIVERED.value, delivered_at=m.naive_utc(at))

    def mark_failed(self, dedupe_key: str, error: str, retry_at: dt.datetime | None) -> None:
        """Record a failed attempt (``dead`` without ``retry_at``); unknown key → ``NotFound``."""
        status = OutboxStatus.FAILED if retry_at is not None else OutboxStatus.DEAD
        self._update(
            dedupe_key,
            status=status.value,
            attempts=t.outbox.c.attempts + 1,
            last_error=error,
            next_attempt_at=None if retry_at is None else m.naive_utc(retry_at),
        )

    def all(self) -> builtins.list[OutboxMessage]:
        """Every message, oldest first."""
        o = t.outbox
        return [
            m.outbox_from(r) for r in self._uow.connection.execute(sa.select(o).order_by(o.c.seq))
        ]
