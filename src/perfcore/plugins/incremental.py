"""Watermark bookkeeping shared by incremental sources (REST, SQL, OPC UA, in-memory).

A :class:`WatermarkTracker` starts from a stream partition's :class:`Bookmark`, tells the source
where to start reading (``start`` = watermark minus lookback, inclusive), filters out records that
were already delivered at exactly the watermark (tie handling) and computes the next bookmark
(the highest cursor seen and every id seen at it).

Cursor values are aware ``datetime`` (normalised to UTC text), ``Decimal``/``int`` numbers or
text; the kind decides how the bookmark text is read back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation

from perfcore.domain.errors import InvalidValue
from perfcore.ports.sources import Bookmark, FieldType

__all__ = ["Cursor", "WatermarkTracker", "decode_cursor", "encode_cursor"]

Cursor = datetime | Decimal | str


def encode_cursor(value: Cursor | int) -> str:
    """Bookmark text for a cursor value (UTC ISO-8601 for datetimes).

    Raises:
        InvalidValue: a naive datetime.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise InvalidValue("cursor datetime must be timezone-aware", field="cursor")
        return value.astimezone(UTC).isoformat()
    if isinstance(value, int | Decimal):
        return str(value)
    return value


def decode_cursor(text: str, kind: FieldType) -> Cursor:
    """Inverse of :func:`encode_cursor` for a cursor field of type ``kind``.

    Raises:
        InvalidValue: the text does not parse as ``kind``.
    """
    try:
        if kind in (FieldType.DATETIME, FieldType.DATE):
            parsed = datetime.fromisoformat(text)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if kind is FieldType.NUMBER:
            return Decimal(text)
    except (ValueError, InvalidOperation):
        raise InvalidValue(
            f"bookmark {text!r} is not a {kind.value}", field="bookmark.value", valid=kind.value
        ) from None
    return text


def _minus(value: Decimal, delta: Decimal) -> Decimal:
    return value - delta


def _normal(value: Cursor | int) -> Cursor:
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value


class WatermarkTracker:
    """Incremental-read bookkeeping for one stream partition.

    Args:
        bookmark: the committed bookmark.
        kind: the cursor field's type (datetime, date, number or text).
        lookback: how far before the watermark to re-read (``timedelta`` for datetimes, a
            ``Decimal`` for numbers); records re-read in that window are delivered again
            (consumers upsert by external id).
    """

    def __init__(
        self,
        bookmark: Bookmark,
        kind: FieldType = FieldType.DATETIME,
        lookback: timedelta | Decimal | None = None,
    ) -> None:
        self._old = bookmark
        self._kind = kind
        self._watermark = None if bookmark.value is None else decode_cursor(bookmark.value, kind)
        self._start: Cursor | None = self._watermark
        if self._watermark is not None and lookback:
            wm = self._watermark
            if isinstance(wm, datetime) and isinstance(lookback, timedelta):
                self._start = wm - lookback
            elif isinstance(wm, Decimal) and isinstance(lookback, Decimal):
                self._start = _minus(wm, lookback)
            else:
                raise InvalidValue(
                    "lookback does not fit the cursor type",
                    field="lookback",
                    valid="timedelta for datetime cursors, Decimal for numeric cursors",
                )
        self._max: Cursor | None = None
        self._ids: set[str] = set()

    @property
    def watermark(self) -> Cursor | None:
        """The committed watermark (``None`` before the first sync)."""
        return self._watermark

    @property
    def start(self) -> Cursor | None:
        """Inclusive lower bound to query from (watermark minus lookback), or ``None``."""
        return self._start

    def admit(self, cursor: Cursor | int, external_id: str) -> bool:
        """Whether to deliver a record with this cursor and id; records it when admitted.

        Records before ``start`` (a server that ignored the filter) and records at exactly the
        watermark whose id was already delivered are refused.
        """
        value = _normal(cursor)
        if self._start is not None and value < self._start:  # type: ignore[operator]
            return False
        if value == self._watermark and external_id in self._old.ids_at_value:
            return False
        if self._max is None or value > self._max:  # type: ignore[operator]
            self._max, self._ids = value, {external_id}
        elif value == self._max:
            self._ids.add(external_id)
        return True

    def bookmark(self) -> Bookmark:
        """The bookmark after every admitted record (never moves backwards)."""
        if self._max is None:
            return self._old
        if self._watermark is not None and self._max < self._watermark:  # type: ignore[operator]
            return self._old
        if self._max == self._watermark:
            return Bookmark(self._old.value, self._old.ids_at_value | self._ids)
        return Bookmark(encode_cursor(self._max), frozenset(self._ids))
