"""SQL source: read-only queries against an MES/ERP reporting database (SQLAlchemy Core).

Each stream is a ``SELECT`` (typically over a reporting view). It is read in keyset order on
``(watermark_column, id_column)``::

    SELECT * FROM (<query>) AS perfcore_q
    WHERE wm > :wm OR (wm = :wm AND id > :id)
    ORDER BY wm, id LIMIT :n

so every page starts exactly after the last row of the previous one — no ``OFFSET`` scans, no
rows skipped or repeated when many share a watermark value (ties are broken by the id). The
bookmark holds the last ``(watermark, id)`` pair; it advances with every page because keyset
order is sorted. Connections are read-only where the dialect allows it (PostgreSQL
``SET TRANSACTION READ ONLY``, SQLite ``PRAGMA query_only``), queries must start with
``SELECT``/``WITH``, and every transaction is rolled back.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import attrs
import sqlalchemy as sa
from attrs import frozen

from perfcore.domain.errors import InvalidValue, NotFound
from perfcore.domain.values import zone
from perfcore.ports.sources import (
    Bookmark,
    CheckResult,
    FieldSpec,
    FieldType,
    RawRecord,
    RecordBatch,
    Rejection,
    SourceState,
    StreamSpec,
)
from perfcore_adapters.sources._coerce import CoercionError, CoercionOptions, coerce
from perfcore_adapters.sources._mapping import ColumnMap

__all__ = ["ColumnMap", "SqlConfig", "SqlSource", "SqlStream"]

_READ_ONLY = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)


@frozen
class SqlStream:
    """One query read as a stream.

    Attributes:
        name: stream name.
        query: a ``SELECT``/``WITH`` statement (no trailing ``;``).
        id_column: unique row id column (tie-breaker of the keyset).
        watermark_column: the column changes are ordered by (``updated_at``, a sequence).
        occurred_at_column: the instant of the fact (date-time or date).
        fields: field name -> :class:`ColumnMap` (column + type).
        batch_size: rows per page.
    """

    name: str
    query: str
    id_column: str
    watermark_column: str
    occurred_at_column: str
    fields: dict[str, ColumnMap] = attrs.field(factory=dict)
    batch_size: int = attrs.field(default=1000, validator=attrs.validators.ge(1))


@frozen
class SqlConfig:
    """Configuration of a ``sql`` source.

    Attributes:
        url: SQLAlchemy URL (``postgresql+psycopg://reader@host/mes``); use a read-only role.
        streams: the queries.
        timezone: zone for naive timestamps returned by the database.
    """

    url: str
    streams: list[SqlStream]
    timezone: str = "UTC"


def _encode(value: object) -> str:
    """Bookmark text that keeps the database's own type for binding it back."""
    if isinstance(value, datetime):
        return f"dt:{value.isoformat()}"
    if isinstance(value, date):
        return f"d:{value.isoformat()}"
    if isinstance(value, bool):
        return f"n:{int(value)}"
    if isinstance(value, int):
        return f"i:{value}"
    if isinstance(value, float | Decimal):
        return f"n:{value}"
    return f"s:{value}"


def _decode(text: str) -> object:
    kind, _, raw = text.partition(":")
    if kind == "dt":
        return datetime.fromisoformat(raw)
    if kind == "d":
        return date.fromisoformat(raw)
    if kind == "i":
        return int(raw)
    if kind == "n":
        return Decimal(raw)
    if kind == "s":
        return raw
    raise InvalidValue(
        f"bookmark {text!r} was not written by the sql source",
        field="bookmark.value",
        valid="dt:/d:/i:/n:/s: prefixed text",
    )


class SqlSource:
    """An :class:`~perfcore.ports.sources.EvidenceSource` over read-only SQL queries.

    Args:
        config: the :class:`SqlConfig`.
        engine: an existing engine (tests, shared pools); by default one is created lazily
            from ``config.url`` and disposed by :meth:`close`.

    Raises:
        InvalidValue: a query is not a ``SELECT``/``WITH``, or stream names repeat.
    """

    def __init__(self, config: SqlConfig, *, engine: sa.Engine | None = None) -> None:
        names = [s.name for s in config.streams]
        if len(set(names)) != len(names):
            raise InvalidValue("stream names must be unique", field="streams", valid=str(names))
        for i, stream in enumerate(config.streams):
            if not _READ_ONLY.match(stream.query) or ";" in stream.query.strip().rstrip(";"):
                raise InvalidValue(
                    "query must be a single SELECT or WITH statement",
                    field=f"streams[{i}].query",
                    valid="SELECT ... / WITH ... SELECT ...",
                )
        self.config = config
        self._engine = engine
        self._owns_engine = engine is None
        self._options = CoercionOptions(tz=zone(config.timezone))

    # ------------------------------------------------------------------ port

    def check(self) -> CheckResult:
        """Run every query with ``LIMIT 0``-style filtering; never raises."""
        try:
            with self._connect() as conn:
                for stream in self.config.streams:
                    sub = f"SELECT * FROM ({stream.query.rstrip(';')}) AS perfcore_q WHERE 1 = 0"
                    result = conn.execute(sa.text(sub))
                    missing = self._missing_columns(stream, list(result.keys()))
                    if missing:
                        return CheckResult.failure(
                            f"{stream.name}: columns not in the query result: {missing}"
                        )
        except sa.exc.SQLAlchemyError as exc:
            return CheckResult.failure(f"{type(exc).__name__}: {exc}".splitlines()[0])
        return CheckResult.success(f"{len(self.config.streams)} queries")

    def discover(self) -> list[StreamSpec]:
        """The configured streams; ``occurred_at`` is not a cursor (the watermark is)."""
        out = []
        for stream in self.config.streams:
            fields = [FieldSpec(name, col.type) for name, col in stream.fields.items()]
            out.append(StreamSpec(stream.name, fields, None, (stream.id_column,)))
        return out

    def read(self, stream: str, state: SourceState | None) -> Iterator[RecordBatch]:
        """Keyset pages after the bookmark; each batch carries the bookmark of its last row.

        Raises:
            NotFound: unknown stream.
            sqlalchemy.exc.SQLAlchemyError: (while iterating) database errors.
        """
        spec = self._stream(stream)
        return self._read(spec, state or SourceState())

    def close(self) -> None:
        """Dispose the engine if this source created it."""
        if self._engine is not None and self._owns_engine:
            self._engine.dispose()
            self._engine = None

    # ------------------------------------------------------------------ internals

    def _stream(self, name: str) -> SqlStream:
        for stream in self.config.streams:
            if stream.name == name:
                return stream
        raise NotFound(
            f"unknown stream {name!r}",
            field="stream",
            valid=", ".join(s.name for s in self.config.streams),
        )

    def _connect(self) -> sa.Connection:
        if self._engine is None:
            self._engine = sa.create_engine(self.config.url)
        conn = self._engine.connect()
        dialect = conn.dialect.name
        if dialect == "sqlite":
            conn.exec_driver_sql("PRAGMA query_only = ON")
        elif dialect == "postgresql":
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        return conn

    @staticmethod
    def _missing_columns(stream: SqlStream, columns: list[str]) -> list[str]:
        wanted = [stream.id_column, stream.watermark_column, stream.occurred_at_column]
        wanted += [c.column for c in stream.fields.values()]
        return [c for c in dict.fromkeys(wanted) if c not in columns]

    def _page_sql(self, stream: SqlStream, conn: sa.Connection, after: bool) -> sa.TextClause:
        quote = conn.dialect.identifier_preparer.quote
        wm, key = quote(stream.watermark_column), quote(stream.id_column)
        where = f"WHERE q.{wm} > :wm OR (q.{wm} = :wm AND q.{key} > :id)" if after else ""
        return sa.text(
            f"SELECT * FROM ({stream.query.rstrip(';')}) AS q {where} "
            f"ORDER BY q.{wm}, q.{key} LIMIT :n"
        )

    def _read(self, stream: SqlStream, state: SourceState) -> Iterator[RecordBatch]:
        mark = state.bookmark(stream.name)
        position: tuple[Any, Any] | None = None
        if mark.value is not None and mark.ids_at_value:
            position = (_decode(mark.value), _decode(min(mark.ids_at_value)))
        with self._connect() as conn:
            while True:
                params: dict[str, Any] = {"n": stream.batch_size}
                if position is not None:
                    params["wm"], params["id"] = position
                rows = conn.execute(self._page_sql(stream, conn, position is not None), params)
                page = [dict(row._mapping) for row in rows]
                if not page:
                    break
                records, rejections = self._map(stream, page)
                last = page[-1]
                position = (last[stream.watermark_column], last[stream.id_column])
                bookmark = Bookmark(_encode(position[0]), {_encode(position[1])})
                state = state.with_bookmark(stream.name, bookmark)
                yield RecordBatch(stream.name, records, state, rejections)
                if len(page) < stream.batch_size:
                    break
            conn.rollback()
        if position is None:
            yield RecordBatch(stream.name, (), state)

    def _map(
        self, stream: SqlStream, page: list[dict[str, Any]]
    ) -> tuple[list[RawRecord], list[Rejection]]:
        records: list[RawRecord] = []
        rejections: list[Rejection] = []
        for row in page:
            row_id = str(row[stream.id_column])
            location = f"{stream.name}:{row_id}"
            try:
                occurred = coerce(row[stream.occurred_at_column], FieldType.DATETIME, self._options)
                data = {
                    name: coerce(row[col.column], col.type, self._options)
                    for name, col in stream.fields.items()
                }
            except CoercionError as exc:
                rejections.append(Rejection(location, "", str(exc)))
                continue
            if not isinstance(occurred, datetime):
                rejections.append(Rejection(location, stream.occurred_at_column, "no timestamp"))
                continue
            records.append(RawRecord(data, row_id, occurred, "", location))
        return records, rejections
