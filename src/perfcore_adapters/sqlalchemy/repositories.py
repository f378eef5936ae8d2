"""SQLAlchemy Core repositories for evidence (with the quarantine) and the plan versions.

Each repository is bound to its :class:`~perfcore_adapters.sqlalchemy.uow.SqlAlchemyUnitOfWork`
and runs statements on the connection of the open unit of work. Accepted evidence is buffered
and written in batches (``executemany``) when the buffer fills, before any evidence query and at
commit; idempotency is kept by a lookup per new key plus ``ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

import builtins
import datetime as dt
import json
from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from perfcore.domain.errors import Conflict
from perfcore.domain.values import SubjectKind, SubjectRef, ensure_aware
from perfcore.ports.records import PeriodScoring, PlanVersion, QuarantinedRecord
from perfcore.services.records import AcceptedEvidence
from perfcore_adapters.sqlalchemy import mappers as m
from perfcore_adapters.sqlalchemy import tables as t
from perfcore_adapters.sqlalchemy.dialect import insert_for, is_sqlite, upsert
from perfcore_adapters.sqlalchemy.jsonio import dumps

if TYPE_CHECKING:
    from perfcore_adapters.sqlalchemy.uow import SqlAlchemyUnitOfWork

__all__ = ["SqlEvidenceRepository", "SqlPlanRepository"]

_EV_COLUMNS = (
    "idempotency_key",
    "evidence_type",
    "subject_kind",
    "subject_id",
    "occurred_at",
    "period_day",
    "period_month",
    "recorded_at",
    "source",
    "external_id",
    "version",
    "supersedes",
    "fields",
    "field_types",
    "doc",
    *(f"n{i}" for i in range(8)),
)
_SQLITE_INSERT = (
    f"INSERT INTO evidence ({', '.join(_EV_COLUMNS)}, is_current) "
    f"VALUES ({', '.join('?' for _ in _EV_COLUMNS)}, 1) "
    "ON CONFLICT (idempotency_key) DO NOTHING"
)


def _sqlite_tuple(row: dict[str, Any]) -> tuple[object, ...]:
    doc = row["doc"]
    return (
        row["idempotency_key"],
        row["evidence_type"],
        row["subject_kind"],
        row["subject_id"],
        row["occurred_at"].isoformat(" ", "microseconds"),
        row["period_day"],
        row["period_month"],
        row["recorded_at"].isoformat(" ", "microseconds"),
        row["source"],
        row["external_id"],
        row["version"],
        row["supersedes"],
        m.fields_json(row["fields"]),
        row["field_types"],
        None if doc is None else dumps(doc),
        *(_sqlite_number(row[f"n{i}"]) for i in range(8)),
    )


def _sqlite_number(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else value


_COL = {name: i for i, name in enumerate(_EV_COLUMNS)}
_json_str = json.JSONEncoder(ensure_ascii=False).encode
_KIND_TEXT = {k: k.value for k in SubjectKind}
_PLAIN = frozenset({Decimal, str, bool, type(None)})


def _col(row: dict[str, Any] | tuple[object, ...], name: str) -> Any:
    """Column ``name`` of a buffered row (a dict, or on SQLite a final tuple)."""
    return row[_COL[name]] if isinstance(row, tuple) else row[name]


def subject_filter(table: sa.Table, subject: SubjectRef) -> sa.ColumnElement[bool]:
    """``subject_kind = … AND subject_id = …`` for ``table``."""
    return sa.and_(table.c.subject_kind == subject.kind.value, table.c.subject_id == subject.id)


_LATEST_PLAN = sa.select(t.plan_versions).order_by(t.plan_versions.c.number.desc()).limit(1)


class SqlEvidenceRepository:
    """Accepted evidence and the quarantine (port: ``EvidenceRepository``)."""

    flush_at = 5000
    """Buffered rows that trigger a write."""

    def __init__(self, uow: SqlAlchemyUnitOfWork) -> None:
        self._uow = uow
        self._pending: dict[str, tuple[object, dict[str, Any] | tuple[object, ...]]] = {}
        self._absent: set[str] = set()
        self._recorded: tuple[object, str] = (None, "")
        self._dialect: tuple[object, bool] | None = None
        self._names: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._slots: dict[str, dict[str, tuple[int, str]]] = {}
        self.written_keys: list[tuple[str, str, str, str]] = []

    def reset(self) -> None:
        """Forget buffered rows (the unit of work rolled back or closed)."""
        self._pending.clear()
        self._absent.clear()
        self.written_keys = []

    def forget_slots(self) -> None:
        """Drop the cached slot layout (after a rollback, which may have undone an assignment).
        Committed assignments are never changed, so the cache otherwise survives commits."""
        self._slots.clear()

    def _load_slots(self, evidence_type: str) -> dict[str, tuple[int, str]]:
        fs = t.field_slots
        rows = self._uow.connection.execute(
            sa.select(fs.c.field, fs.c.slot, fs.c.kind).where(fs.c.evidence_type == evidence_type)
        )
        found = {r.field: (int(r.slot), str(r.kind)) for r in rows}
        self._slots[evidence_type] = found
        return found

    def slots(self, evidence_type: str, values: Mapping[str, object]) -> dict[str, tuple[int, str]]:
        """Field → (slot, kind) for ``evidence_type``, assigning free slots to typed fields seen
        for the first time (in this transaction; a concurrent assignment wins and is re-read)."""
        known = self._slots.get(evidence_type)
        if known is None:
            known = self._load_slots(evidence_type)
        for name, value in values.items():
            if name in known or value is None:
                continue
            kind = m.slot_kind(value)
            used = {slot for slot, _ in known.values()}
            free = [i for i in range(t.NUMERIC_SLOTS) if i not in used]
            if kind is None or not free:
                continue
            conn = self._uow.connection
            stmt = insert_for(conn, t.field_slots).values(
                evidence_type=evidence_type, field=name, slot=free[0], kind=kind
            )
            conn.execute(stmt.on_conflict_do_nothing())
            known = self._load_slots(evidence_type)
            self._uow.forget_slot_layout()
        return known

    def _exists(self, key: str) -> bool:
        conn = self._uow.connection
        if is_sqlite(conn):
            raw = conn.connection.driver_connection
            assert raw is not None
            cur = raw.execute("SELECT 1 FROM evidence WHERE idempotency_key = ?", (key,))
            found = cur.fetchone() is not None
            cur.close()
            return found
        stmt = sa.select(t.evidence.c.seq).where(t.evidence.c.idempotency_key == key)
        return conn.execute(stmt).first() is not None

    def add(
        self,
        key: str,
        evidence: object,
        *,
        subject: SubjectRef,
        evidence_type: str,
        at: dt.datetime,
    ) -> None:
        """Buffer accepted evidence under its idempotency key.

        Raises:
            Conflict: the key is already stored or buffered (field ``idempotency_key``).
        """
        if key in self._pending or (key not in self._absent and self._exists(key)):
            raise Conflict(f"evidence {key!r} already recorded", field="idempotency_key")
        self._absent.discard(key)
        at = ensure_aware(at, field="at")
        values = getattr(evidence, "values", None)
        slots = self.slots(evidence_type, values) if isinstance(values, dict | Mapping) else None
        tz = self._uow.period_tz()
        row: dict[str, Any] | tuple[object, ...] | None = None
        if type(evidence) is AcceptedEvidence and self._sqlite():
            row = self._sqlite_row(key, evidence, subject, evidence_type, at, tz, slots)
        if row is None:
            row = m.evidence_row(key, evidence, subject, evidence_type, at, tz, slots)
        self._pending[key] = (evidence, row)
        if len(self._pending) >= self.flush_at:
            self.flush()

    def _sqlite(self) -> bool:
        conn = self._uow.connection
        cached = self._dialect
        if cached is None or cached[0] is not conn:
            cached = self._dialect = (conn, is_sqlite(conn))
        return cached[1]

    def _sqlite_row(
        self,
        key: str,
        item: AcceptedEvidence,
        subject: SubjectRef,
        evidence_type: str,
        at: dt.datetime,
        tz: dt.tzinfo,
        slots: Mapping[str, tuple[int, str]] | None,
    ) -> tuple[object, ...] | None:
        """The final SQLite tuple of an original record whose values are numbers, text,
        booleans or nulls (what bulk ingest stores), built directly — the same values as
        ``_sqlite_tuple(m.evidence_row(...))``; ``None`` for anything else."""
        values = item.values
        if getattr(item, "version", 1) != 1 or getattr(item, "supersedes", None):
            return None
        for value in values.values():
            if type(value) not in _PLAIN:
                return None
        numbers: list[object] = [None] * 8
        for name, (slot, kind) in (slots or {}).items():
            value = values.get(name)
            if value is None:
                continue
            if kind == "number" and type(value) is Decimal:
                numbers[slot] = str(value)
            elif kind == "boolean" and type(value) is bool:
                numbers[slot] = int(value)
            else:
                numbers[slot] = _sqlite_number(m.slot_value(value, kind))
        recorded_at = item.recorded_at
        cached, recorded = self._recorded
        if cached is not recorded_at:
            recorded = m.naive_utc(recorded_at).isoformat(" ", "microseconds")
            self._recorded = (recorded_at, recorded)
        day = at.astimezone(tz).date().isoformat()
        return (
            key,
            evidence_type,
            _KIND_TEXT[subject.kind],
            subject.id,
            m.naive_utc(at).isoformat(" ", "microseconds"),
            day,
            day[:7],
            recorded,
            item.source,
            item.external_id,
            1,
            None,
            self._fields_json(values),
            None,
            None,
            *numbers,
        )

    def _fields_json(self, values: Mapping[str, object]) -> str:
        """``m.fields_json(values)`` with the encoded names cached per field layout."""
        layout = tuple(values)
        names = self._names.get(layout)
        if names is None:
            names = self._names[layout] = tuple(f"{_json_str(n)}:" for n in layout)
        parts = []
        for name, value in zip(names, values.values(), strict=True):
            if value is None:
                parts.append(name + "null")
            elif value is True:
                parts.append(name + "true")
            elif value is False:
                parts.append(name + "false")
            elif type(value) is Decimal and value.is_finite():
                parts.append(name + str(value))
            elif type(value) is str:
                parts.append(name + _json_str(value))
            else:
                return m.fields_json(values)
        return "{" + ",".join(parts) + "}"

    def stored_keys(self, keys: Collection[str]) -> builtins.set[str]:
        """The keys among ``keys`` already stored or buffered, with one query per 500 keys
        (bulk ingest); the others are remembered as absent in this unit of work, so neither
        :meth:`get_by_idempotency_key` nor :meth:`add` looks them up again."""
        found = {k for k in keys if k in self._pending}
        rest = [k for k in dict.fromkeys(keys) if k not in found and k not in self._absent]
        conn = self._uow.connection
        e = t.evidence
        for i in range(0, len(rest), 500):
            part = rest[i : i + 500]
            if is_sqlite(conn):
                raw = conn.connection.driver_connection
                assert raw is not None
                marks = ",".join("?" * len(part))
                sql = f"SELECT idempotency_key FROM evidence WHERE idempotency_key IN ({marks})"
                rows: Any = raw.execute(sql, part).fetchall()
            else:
                rows = conn.execute(
                    sa.select(e.c.idempotency_key).where(e.c.idempotency_key.in_(part))
                )
            found.update(r[0] for r in rows)
        self._absent.update(k for k in rest if k not in found)
        return found

    def flush(self) -> None:
        """Write buffered rows; a key another writer stored meanwhile raises ``Conflict``."""
        if not self._pending:
            return
        rows = [row for _item, row in self._pending.values()]
        self._pending.clear()
        conn = self._uow.connection
        if is_sqlite(conn):
            raw = conn.connection.driver_connection
            assert raw is not None
            cur = raw.cursor()  # the driver opens the transaction before the first INSERT
            cur.executemany(
                _SQLITE_INSERT, [r if isinstance(r, tuple) else _sqlite_tuple(r) for r in rows]
            )
            written = cur.rowcount
            cur.close()
        else:
            stmt = insert_for(conn, t.evidence).on_conflict_do_nothing(
                index_elements=["idempotency_key"]
            )
            written = conn.execute(stmt, rows).rowcount  # type: ignore[arg-type]  # dicts here
        if 0 <= written < len(rows):
            raise Conflict(
                f"{len(rows) - written} evidence key(s) were stored by another writer",
                field="idempotency_key",
            )
        replaced = [_col(r, "supersedes") for r in rows if _col(r, "supersedes")]
        if replaced:
            conn.execute(
                t.evidence.update()
                .where(t.evidence.c.idempotency_key.in_(replaced))
                .values(is_current=False)
            )
        self.written_keys.extend(
            (
                _col(r, "subject_kind"),
                _col(r, "subject_id"),
                _col(r, "period_day"),
                _col(r, "evidence_type"),
            )
            for r in rows
        )

    def get_by_idempotency_key(self, key: str) -> object | None:
        """The evidence with this key (buffered or stored), or ``None``."""
        pending = self._pending.get(key)
        if pending is not None:
            return pending[0]
        if key in self._absent or not self._exists(key):
            self._absent.add(key)
            return None
        row = self._uow.connection.execute(
            sa.select(t.evidence).where(t.evidence.c.idempotency_key == key)
        ).first()
        return None if row is None else m.evidence_from(row)

    def list(
        self,
        *,
        subject: SubjectRef | None = None,
        evidence_type: str | None = None,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
    ) -> builtins.list[object]:
        """Current evidence (superseded versions left out) matching every filter
        (``start <= occurred_at < end``), by time then key."""
        self.flush()
        e = t.evidence
        stmt = sa.select(e)
        if subject is not None:
            stmt = stmt.where(subject_filter(e, subject))
        if evidence_type is not None:
            stmt = stmt.where(e.c.evidence_type == evidence_type)
        if start is not None:
            stmt = stmt.where(e.c.occurred_at >= m.naive_utc(ensure_aware(start, field="start")))
        if end is not None:
            stmt = stmt.where(e.c.occurred_at < m.naive_utc(ensure_aware(end, field="end")))
        stmt = stmt.where(e.c.is_current.is_(True))
        stmt = stmt.order_by(e.c.occurred_at, e.c.idempotency_key)
        return [m.evidence_from(r) for r in self._uow.connection.execute(stmt)]

    def versions(self, source: str, external_id: str) -> builtins.list[object]:
        """Every stored version of ``(source, external_id)``, oldest first (superseded ones
        included: they are kept for audit)."""
        self.flush()
        e = t.evidence
        stmt = (
            sa.select(e)
            .where(e.c.source == source, e.c.external_id == external_id)
            .order_by(e.c.version, e.c.seq)
        )
        return [m.evidence_from(r) for r in self._uow.connection.execute(stmt)]

    def subjects(self) -> builtins.list[SubjectRef]:
        """Subjects with evidence, ordered by ``str(subject)``."""
        self.flush()
        e = t.evidence
        rows = self._uow.connection.execute(sa.select(e.c.subject_kind, e.c.subject_id).distinct())
        return sorted((m.subject_from(k, i) for k, i in rows), key=str)

    def quarantine(self, record: QuarantinedRecord) -> None:
        """Keep a rejected record (the first one per key)."""
        stmt = insert_for(self._uow.connection, t.quarantine).on_conflict_do_nothing(
            index_elements=["key"]
        )
        self._uow.connection.execute(stmt, m.quarantine_row(record))

    def quarantined(self, *, source: str | None = None) -> builtins.list[QuarantinedRecord]:
        """Rejected records ordered by (received_at, key)."""
        q = t.quarantine
        stmt = sa.select(q).order_by(q.c.received_at, q.c.key)
        if source is not None:
            stmt = stmt.where(q.c.source == source)
        return [m.quarantine_from(r) for r in self._uow.connection.execute(stmt)]


class SqlPlanRepository:
    """Plan versions and period-scoring records (port: ``PlanRepository``)."""

    def __init__(self, uow: SqlAlchemyUnitOfWork) -> None:
        self._uow = uow

    def add(self, version: PlanVersion) -> None:
        """Store a new version; an existing number raises ``Conflict`` (field ``number``) —
        also when a concurrent writer inserted it first."""
        if self.get(version.number) is not None:
            raise Conflict(f"plan version {version.number} exists", field="number")
        self._uow.guarded_insert(
            t.plan_versions.insert().values(**m.plan_row(version)),
            Conflict(f"plan version {version.number} was applied concurrently", field="number"),
        )

    def get(self, number: int) -> PlanVersion | None:
        """The version or ``None``."""
        row = self._uow.connection.execute(
            sa.select(t.plan_versions).where(t.plan_versions.c.number == number)
        ).first()
        return None if row is None else m.plan_from(row)

    def latest(self) -> PlanVersion | None:
        """The highest version or ``None``."""
        row = self._uow.connection.execute(_LATEST_PLAN).first()
        return None if row is None else m.plan_from(row)

    def list(self) -> builtins.list[PlanVersion]:
        """Every version, ascending."""
        p = t.plan_versions
        return [
            m.plan_from(r) for r in self._uow.connection.execute(sa.select(p).order_by(p.c.number))
        ]

    def record_scoring(self, scoring: PeriodScoring) -> None:
        """Replace the record for (period, subject)."""
        self.record_scorings([scoring])

    def record_scorings(self, scorings: builtins.list[PeriodScoring]) -> None:
        """Replace many records at once (push-down scoring)."""
        if not scorings:
            return
        ps = t.period_scorings
        conn = self._uow.connection
        stmt = upsert(
            conn, ps, ("period_key", "subject_kind", "subject_id"), ("plan_version", "computed_at")
        )
        conn.execute(
            stmt,
            [
                {
                    "period_key": s.period_key,
                    "subject_kind": s.subject.kind.value,
                    "subject_id": s.subject.id,
                    "plan_version": s.plan_version,
                    "computed_at": m.naive_utc(s.computed_at),
                }
                for s in scorings
            ],
        )

    def scorings(self, *, period_key: str | None = None) -> builtins.list[PeriodScoring]:
        """Records ordered by (period, subject)."""
        ps = t.period_scorings
        stmt = sa.select(ps).order_by(ps.c.period_key, ps.c.subject_kind, ps.c.subject_id)
        if period_key is not None:
            stmt = stmt.where(ps.c.period_key == period_key)
        return [m.scoring_from(r) for r in self._uow.connection.execute(stmt)]
