"""The SQLAlchemy unit of work: one connection and transaction per ``with`` block.

>>> uow = SqlAlchemyUnitOfWork("sqlite:///perfcore.db")     # doctest: +SKIP
>>> with uow:                                                # doctest: +SKIP
...     uow.alerts.add("a1", alert)
...     uow.commit()

Leaving the block without ``commit()`` rolls back. At commit, buffered evidence is written, the
released domain events are appended to ``audit_events`` (in the same transaction), then the
transaction commits. The period keys stored with evidence use
:meth:`SqlAlchemyUnitOfWork.period_tz`.
"""

from __future__ import annotations

import datetime as dt
import json
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from perfcore.domain.errors import Conflict, InvalidValue, PerfcoreError
from perfcore.ports.uow import AbstractUnitOfWork
from perfcore_adapters.sqlalchemy import tables as t
from perfcore_adapters.sqlalchemy.dialect import is_sqlite, upsert
from perfcore_adapters.sqlalchemy.documents import (
    SqlBookmarkRepository,
    SqlKeyedRepository,
    SqlLedgerRepository,
    SqlReviewRepository,
    SqlScorecardRepository,
)
from perfcore_adapters.sqlalchemy.engine import create_engine_for
from perfcore_adapters.sqlalchemy.outbox import SqlOutbox
from perfcore_adapters.sqlalchemy.repositories import SqlEvidenceRepository, SqlPlanRepository

__all__ = ["DEFAULT_AUDIT_SKIP", "SqlAlchemyUnitOfWork", "make_unit_of_work"]

DEFAULT_AUDIT_SKIP = frozenset({"EvidenceRecorded"})
"""Event types not copied to ``audit_events``: one ``EvidenceRecorded`` per evidence row would
double every ingest, and the evidence table already records each row with its provenance."""


def _zone_name(tz: dt.tzinfo) -> str:
    key = getattr(tz, "key", None)
    if isinstance(key, str):
        return key
    if tz.utcoffset(None) == dt.timedelta(0):
        return "UTC"
    raise InvalidValue(
        f"time zone {tz!r} has no IANA name", field="tz", valid="a zoneinfo.ZoneInfo or UTC"
    )


def _zone(name: str) -> dt.tzinfo:
    return dt.UTC if name == "UTC" else ZoneInfo(name)


_SETTING = sa.select(t.settings.c.value).where(t.settings.c.name == sa.bindparam("name"))


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    """Unit of work over SQLite or PostgreSQL.

    Args:
        target: a database URL or an :class:`~sqlalchemy.engine.Engine` (the schema must exist:
            :func:`perfcore_adapters.sqlalchemy.migrate.upgrade`).
        tz: time zone of the stored period keys (``period_day``/``period_month``); default: the
            zone already recorded in the store, else the latest applied plan's, else UTC.
        audit_skip: event class names not written to ``audit_events``.

    Raises (while in use):
        Conflict: optimistic-lock and duplicate-key failures (see the repositories).
        InvalidValue: ``tz`` differs from the zone the store's period keys were written in.
    """

    def __init__(
        self,
        target: str | sa.URL | Engine,
        *,
        tz: dt.tzinfo | None = None,
        audit_skip: frozenset[str] = DEFAULT_AUDIT_SKIP,
    ) -> None:
        super().__init__()
        self.engine = target if isinstance(target, Engine) else create_engine_for(target)
        self._tz = tz
        self._tz_resolved: dt.tzinfo | None = None
        self._wrote_cached = False  # this transaction assigned a slot or recorded the zone
        self._layout: dict[str, dict[str, tuple[int, str]]] | None = None
        self._plan_tz: dict[str, dt.tzinfo] = {}
        self.audit_skip = audit_skip
        self._conn: sa.Connection | None = None
        self.evidence: SqlEvidenceRepository
        self.scorecards: SqlScorecardRepository
        self.plans: SqlPlanRepository
        self.plans = SqlPlanRepository(self)
        self.evidence = SqlEvidenceRepository(self)
        self.scorecards = SqlScorecardRepository(self)
        self.reviews = SqlReviewRepository(self, "review")
        self.calibrations = SqlKeyedRepository(self, "calibration")
        self.milestones = SqlKeyedRepository(self, "milestone")
        self.alerts = SqlKeyedRepository(self, "alert")
        self.diagnoses = SqlKeyedRepository(self, "diagnosis")
        self.periods = SqlKeyedRepository(self, "period")
        self.ledger = SqlLedgerRepository(self)
        self.bookmarks = SqlBookmarkRepository(self)
        self.outbox = SqlOutbox(self)
        self._keyed = (
            self.reviews,
            self.calibrations,
            self.milestones,
            self.alerts,
            self.diagnoses,
            self.periods,
        )

    # ------------------------------------------------------------------ life cycle
    def __enter__(self) -> SqlAlchemyUnitOfWork:
        super().__enter__()
        self._reset()
        self._conn = self.engine.connect()
        self._conn.begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            super().__exit__(exc_type, exc, tb)
        finally:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _reset(self) -> None:
        self.evidence.reset()
        for repo in self._keyed:
            repo.reset()

    @property
    def connection(self) -> sa.Connection:
        """The open connection (inside ``with``); a new transaction begins after each commit."""
        conn = self._conn
        if conn is None:
            raise PerfcoreError("the unit of work is used outside its `with` block")
        if not conn.in_transaction():
            conn.begin()
        return conn

    def now(self) -> dt.datetime:
        """Wall-clock UTC time for ``updated_at`` bookkeeping columns."""
        return dt.datetime.now(dt.UTC)

    def _commit(self) -> None:
        conn = self.connection
        self.evidence.flush()
        self._write_audit(conn)
        conn.commit()
        self._wrote_cached = False
        self.evidence.written_keys = []

    def rollback(self) -> None:
        """Discard uncommitted changes (a no-op after a commit)."""
        conn = self._conn
        if conn is not None and conn.in_transaction():
            conn.rollback()
            if self._wrote_cached:  # what the rolled-back work recorded is gone; a read-only
                self._tz_resolved = None  # transaction leaves the (written-once) caches valid
                self.evidence.forget_slots()
                self._layout = None
        self._wrote_cached = False
        self._reset()

    # ------------------------------------------------------------------ helpers
    def guarded_insert(self, stmt: Any, conflict: Conflict) -> None:
        """Run an INSERT; a unique violation (a concurrent writer) raises ``conflict``. On
        PostgreSQL the insert runs in a savepoint so the transaction survives the failure."""
        conn = self.connection
        try:
            if is_sqlite(conn):
                conn.execute(stmt)
            else:
                with conn.begin_nested():
                    conn.execute(stmt)
        except sa.exc.IntegrityError:
            raise conflict from None

    def _setting(self, name: str) -> str | None:
        row = self.connection.execute(_SETTING, {"name": name}).first()
        return None if row is None else str(row.value)

    def set_setting(self, name: str, value: str, *, replace: bool = True) -> None:
        """Store a store-wide setting (see :data:`perfcore_adapters.sqlalchemy.tables.settings`)."""
        conn = self.connection
        stmt = upsert(conn, t.settings, ("name",), ("value",) if replace else ())
        conn.execute(stmt, {"name": name, "value": value})

    def setting(self, name: str) -> str | None:
        """A store-wide setting, or ``None``."""
        return self._setting(name)

    def slot_layout(self) -> dict[str, dict[str, tuple[int, str]]]:
        """The typed slot layout (evidence type → field → (slot, kind)), cached until a slot is
        assigned or a transaction rolls back (assignments are never changed once committed)."""
        if self._layout is None:
            from perfcore_adapters.sqlalchemy.pushdown import read_slots

            self._layout = read_slots(self.connection)
        return self._layout

    def forget_slot_layout(self) -> None:
        """Drop the cached layout (a slot was assigned, or a rollback undid one)."""
        self._layout = None
        self._wrote_cached = True

    def _latest_plan_tz(self) -> dt.tzinfo | None:
        latest = self.plans.latest()
        if latest is None:
            return None
        found = self._plan_tz.get(latest.content_hash)
        if found is None:
            from perfcore.plan import loads

            found = self._plan_tz[latest.content_hash] = loads(latest.source, latest.name).tz
        return found

    def period_tz(self) -> dt.tzinfo:
        """The zone in which evidence period keys are computed and stored.

        The first evidence written records it in ``settings.period_tz``; afterwards that zone is
        used (and, being written once, remembered by this object after a commit). Raises
        ``InvalidValue`` when the ``tz`` given to this unit of work differs."""
        if self._tz_resolved is not None:
            return self._tz_resolved
        stored = self._setting("period_tz")
        if stored is not None:
            zone = _zone(stored)
            if self._tz is not None and _zone_name(self._tz) != stored:
                raise InvalidValue(
                    f"this store keeps period keys in {stored}, not {_zone_name(self._tz)}",
                    field="tz",
                    valid=stored,
                )
        else:
            zone = self._tz or self._latest_plan_tz() or dt.UTC
            self._wrote_cached = True
            self.set_setting("period_tz", _zone_name(zone), replace=False)
            zone = _zone(self._setting("period_tz") or _zone_name(zone))  # a racing writer wins
        self._tz_resolved = zone
        return zone

    def _write_audit(self, conn: sa.Connection) -> None:
        from perfcore.domain.events import Event
        from perfcore.services.serialization import event_to_json

        released: list[object] = list(self._pending)
        for aggregate in self._tracked:
            events = getattr(aggregate, "events", None)
            if isinstance(events, list):
                released.extend(events)
        rows = []
        now = self.now().replace(tzinfo=None)
        for ev in released:
            name = type(ev).__name__
            if name in self.audit_skip:
                continue
            data = event_to_json(ev) if isinstance(ev, Event) else json.dumps(repr(ev))
            rows.append({"event_type": name, "data": data, "committed_at": now})
        if rows:
            conn.execute(t.audit_events.insert(), rows)


def make_unit_of_work(
    url: str, *, tz: dt.tzinfo | None = None, migrate: bool = True
) -> SqlAlchemyUnitOfWork:
    """A unit of work for ``url`` (used by :func:`perfcore.bootstrap.bootstrap` for a database
    ``storage``); with ``migrate`` the schema is created/upgraded to the latest revision first."""
    engine = create_engine_for(url)
    if migrate:
        from perfcore_adapters.sqlalchemy.migrate import upgrade

        upgrade(engine)
    return SqlAlchemyUnitOfWork(engine, tz=tz)
