"""Column mapping shared by the CSV and Excel sources: header row -> records or rejections."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

import attrs
from attrs import frozen

from perfcore.domain.errors import InvalidValue
from perfcore.domain.values import zone
from perfcore.ports.sources import FieldSpec, FieldType, RawRecord, Rejection, StreamSpec
from perfcore_adapters.sources._coerce import CoercionError, CoercionOptions, coerce

__all__ = ["ColumnMap", "RawColumns", "RawRowMapper", "RowMapper", "TabularMapping"]


@frozen
class ColumnMap:
    """Where a field comes from and its type.

    Attributes:
        column: the header text in the file (exact match after trimming; BOM removed).
        type: the field's :class:`FieldType`.
        required: a blank cell rejects the row.
    """

    column: str
    type: FieldType = FieldType.TEXT
    required: bool = False


@frozen
class TabularMapping:
    """The mapping part of a CSV/Excel config.

    Attributes:
        columns: field name -> :class:`ColumnMap`.
        occurred_at: the field (type date or datetime) that gives the record's instant.
        id_fields: fields whose values make the external id; default ``<file>:<line>``.
        partition: a field whose value is the record's partition (plant, line ...).
        timezone: IANA zone for naive date-times and dates.
        decimal_comma: numbers are written ``1.234,5``.
    """

    columns: dict[str, ColumnMap]
    occurred_at: str
    id_fields: list[str] = attrs.field(factory=list)
    partition: str | None = None
    timezone: str = "UTC"
    decimal_comma: bool = False

    def stream_spec(self, name: str) -> StreamSpec:
        """The stream these columns describe (full refresh: no cursor field)."""
        fields = tuple(FieldSpec(n, c.type) for n, c in self.columns.items())
        return StreamSpec(name, fields, None, tuple(self.id_fields))

    def validate(self) -> None:
        """Check the mapping refers to declared fields.

        Raises:
            InvalidValue: unknown ``occurred_at``/``id_fields``/``partition`` field, or an
                ``occurred_at`` field that is not a date/datetime.
        """
        names = ", ".join(self.columns)
        spec = self.columns.get(self.occurred_at)
        if spec is None:
            raise InvalidValue(
                "occurred_at is not a mapped field", field="occurred_at", valid=names
            )
        if spec.type not in (FieldType.DATE, FieldType.DATETIME):
            raise InvalidValue(
                "occurred_at must be a date or datetime field",
                field="occurred_at",
                valid="type date | datetime",
            )
        for i, name in enumerate(self.id_fields):
            if name not in self.columns:
                raise InvalidValue("unknown id field", field=f"id_fields[{i}]", valid=names)
        if self.partition is not None and self.partition not in self.columns:
            raise InvalidValue("unknown partition field", field="partition", valid=names)


class RowMapper:
    """Maps raw rows to records using a header row.

    Raises:
        InvalidValue: (constructor) a mapped column is missing from the header; the field path
            is ``columns.<field>.column`` and ``valid`` lists the headers found.
    """

    def __init__(self, mapping: TabularMapping, header: Sequence[object], source: str) -> None:
        mapping.validate()
        self.mapping = mapping
        self.source = source
        self.options = CoercionOptions(mapping.decimal_comma, zone(mapping.timezone))
        cleaned = [str(h or "").strip().lstrip("\ufeff") for h in header]
        self.index: dict[str, int] = {}
        for name, col in mapping.columns.items():
            try:
                self.index[name] = cleaned.index(col.column.strip())
            except ValueError:
                raise InvalidValue(
                    f"column {col.column!r} not found in {source}",
                    field=f"columns.{name}.column",
                    valid=", ".join(h for h in cleaned if h),
                ) from None

    def map(self, row: Sequence[object], location: str) -> tuple[RawRecord | None, list[Rejection]]:
        """One row -> a record, or ``None`` plus every reason it was rejected."""
        data: dict[str, object] = {}
        rejections: list[Rejection] = []
        for name, col in self.mapping.columns.items():
            i = self.index[name]
            raw = row[i] if i < len(row) else None
            try:
                value = coerce(raw, col.type, self.options)
            except CoercionError as exc:
                rejections.append(Rejection(location, col.column, str(exc), str(raw)[:200]))
                continue
            if value is None and col.required:
                rejections.append(Rejection(location, col.column, "required value is blank"))
            data[name] = value
        if rejections:
            return None, rejections
        when = data.get(self.mapping.occurred_at)
        occurred = self._instant(when)
        if occurred is None:
            column = self.mapping.columns[self.mapping.occurred_at].column
            return None, [Rejection(location, column, "a date or date-time is required")]
        if self.mapping.id_fields:
            parts = [str(data.get(f, "")) for f in self.mapping.id_fields]
            external_id = "|".join(parts)
        else:
            external_id = location
        partition = str(data.get(self.mapping.partition) or "") if self.mapping.partition else ""
        return RawRecord(data, external_id, occurred, partition, location), []

    def _instant(self, value: object) -> datetime | None:
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime.combine(value, time(), tzinfo=self.options.tz or UTC)
        return None


@frozen
class RawColumns:
    """Raw mode: every column is delivered as text keyed by its header; the plan maps it later.

    Attributes:
        occurred_at: the column holding the record's date or date-time.
        format: a ``strptime`` format for it (default: ISO 8601 date or date-time).
        id_columns: columns whose values make the external id; default ``<file>:<line>``.
        timezone: IANA zone for naive date-times and dates.
    """

    occurred_at: str
    format: str = ""
    id_columns: list[str] = attrs.field(factory=list)
    timezone: str = "UTC"


class RawRowMapper:
    """Maps raw rows to text records keyed by header (see :class:`RawColumns`).

    Raises:
        InvalidValue: (constructor) ``occurred_at`` or an id column is not in the header
            (``field`` is ``raw.occurred_at`` / ``raw.id_columns[i]``, ``valid`` lists headers).
    """

    def __init__(self, raw: RawColumns, header: Sequence[object], source: str) -> None:
        self.raw = raw
        self.tz = zone(raw.timezone)
        self.headers = [str(h or "").strip().lstrip("\ufeff") for h in header]
        found = ", ".join(h for h in self.headers if h)
        wanted = [("raw.occurred_at", raw.occurred_at)]
        wanted += [(f"raw.id_columns[{i}]", c) for i, c in enumerate(raw.id_columns)]
        for where, column in wanted:
            if column not in self.headers:
                raise InvalidValue(
                    f"column {column!r} not found in {source}", field=where, valid=found
                )
        self.when = self.headers.index(raw.occurred_at)
        self.ids = [self.headers.index(c) for c in raw.id_columns]

    def stream_spec(self, name: str) -> StreamSpec:
        """Every named column as a text field (full refresh)."""
        fields = tuple(FieldSpec(h, FieldType.TEXT) for h in dict.fromkeys(self.headers) if h)
        return StreamSpec(name, fields, None, tuple(self.raw.id_columns))

    @staticmethod
    def _text(value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = value.isoformat() if isinstance(value, date | datetime) else str(value)
        return text.strip() or None

    def map(self, row: Sequence[object], location: str) -> tuple[RawRecord | None, list[Rejection]]:
        """One row -> a text record, or ``None`` and why."""
        cells = [row[i] if i < len(row) else None for i in range(len(self.headers))]
        data = {h: self._text(v) for h, v in zip(self.headers, cells, strict=True) if h}
        raw_when = cells[self.when]
        occurred = self._instant(raw_when)
        if occurred is None:
            hint = self.raw.format or "ISO 8601"
            reason = f"expected a date or date-time ({hint}), got {raw_when!r}"
            return None, [Rejection(location, self.raw.occurred_at, reason, str(raw_when)[:200])]
        if self.ids:
            external_id = "|".join(str(self._text(cells[i]) or "") for i in self.ids)
        else:
            external_id = location
        return RawRecord(data, external_id, occurred, "", location), []

    def _instant(self, value: object) -> datetime | None:
        if isinstance(value, datetime):
            parsed = value
        elif isinstance(value, date):
            parsed = datetime.combine(value, time())
        else:
            text = self._text(value)
            if text is None:
                return None
            try:
                if self.raw.format:
                    parsed = datetime.strptime(text, self.raw.format)
                else:
                    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                return None
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=self.tz)
