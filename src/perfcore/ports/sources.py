"""The ``EvidenceSource`` port: where raw evidence comes from.

A source follows the four verbs of the Airbyte protocol (``spec``, ``check``, ``discover``,
``read``; https://docs.airbyte.com/connector-development/config-based/understanding-the-yaml-file/incremental-syncs
describes the incremental ``read``), minus ``spec``
(the config class registered with the plugin registry plays that role):

* ``check()`` -> :class:`CheckResult` — can we reach the system with this configuration?
* ``discover()`` -> list of :class:`StreamSpec` — which streams exist, their fields and cursor.
* ``read(stream, state)`` -> iterator of :class:`RecordBatch` — raw records plus the state that
  becomes valid once the batch has been committed (Singer-style checkpoints).

The port knows nothing about how a :class:`RawRecord` becomes a piece of evidence: the application
layer maps records to evidence, stores them idempotently by ``external_id`` and persists the state
in the same transaction. That gives at-least-once delivery with idempotent upserts.

State is a mapping ``stream -> partition -> Bookmark``. A bookmark holds the watermark (the highest
cursor value committed) and the external ids seen *at exactly* that value, so a source can query
inclusively (``cursor >= watermark``) and skip only those ids: records that share the watermark
timestamp are neither lost nor delivered twice (tie handling). A lookback window is the source's
configuration; the source re-reads ``[watermark - lookback, ...)`` for late-arriving changes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

import attrs
from attrs import field, frozen

from perfcore.domain.errors import InvalidValue

__all__ = [
    "Bookmark",
    "CheckResult",
    "EvidenceSource",
    "FieldSpec",
    "FieldType",
    "RawRecord",
    "RecordBatch",
    "Rejection",
    "SourceState",
    "StreamSpec",
]


class FieldType(enum.StrEnum):
    """The value types a stream field may declare."""

    NUMBER = "number"
    TEXT = "text"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    DURATION = "duration"


@frozen
class CheckResult:
    """Outcome of :meth:`EvidenceSource.check`.

    Attributes:
        ok: ``True`` when the source is reachable and the configuration is accepted.
        detail: a human-readable reason (always set when ``ok`` is ``False``).
    """

    ok: bool
    detail: str = ""

    @classmethod
    def success(cls, detail: str = "") -> CheckResult:
        """A passing check."""
        return cls(True, detail)

    @classmethod
    def failure(cls, detail: str) -> CheckResult:
        """A failing check with its reason."""
        return cls(False, detail)


def _field_specs(values: Iterable[FieldSpec]) -> tuple[FieldSpec, ...]:
    return tuple(values)


def _names(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _field_type(value: object) -> FieldType:
    if isinstance(value, FieldType):
        return value
    try:
        return FieldType(str(value))
    except ValueError:
        raise InvalidValue(
            f"unknown field type {value!r}",
            field="type",
            valid=", ".join(t.value for t in FieldType),
        ) from None


@frozen
class FieldSpec:
    """One field of a stream: its name and value type (``FieldType`` or its text value)."""

    name: str
    type: FieldType = field(converter=_field_type)


@frozen
class StreamSpec:
    """A stream a source can read.

    Attributes:
        name: stream name, unique within the source.
        fields: the fields every record's ``data`` may hold.
        cursor_field: the field that orders changes (the watermark), or ``None`` for
            full-refresh streams.
        primary_key: field names that make ``external_id`` (documentation only).
    """

    name: str
    fields: tuple[FieldSpec, ...] = field(converter=_field_specs)
    cursor_field: str | None = None
    primary_key: tuple[str, ...] = field(default=(), converter=_names)

    def field_type(self, name: str) -> FieldType:
        """Type of field ``name``.

        Raises:
            InvalidValue: the stream has no such field.
        """
        for spec in self.fields:
            if spec.name == name:
                return spec.type
        raise InvalidValue(
            f"stream {self.name!r} has no field {name!r}",
            field=name,
            valid=", ".join(f.name for f in self.fields),
        )


def _aware(_inst: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue(
            "datetime must be timezone-aware", field=attribute.name, valid="aware datetime"
        )


@frozen
class RawRecord:
    """One record as the source system reported it.

    Attributes:
        data: field name -> value (``Decimal`` numbers, ``str``, ``bool``, ``date``, aware
            ``datetime``, ``timedelta``, or ``None``).
        external_id: the source system's stable identity for the record (idempotency key).
        occurred_at: when the fact happened (timezone-aware).
        partition: partition key (plant, store, machine ...) or ``""``.
        location: where it came from (``file.csv:12``, a URL, a node id) for provenance.
    """

    data: Mapping[str, object]
    external_id: str
    occurred_at: datetime = field(validator=_aware)
    partition: str = ""
    location: str = ""


@frozen
class Rejection:
    """A row the source could not turn into a record, and why.

    Attributes:
        location: ``file.csv:17``, ``sheet!A17``, a URL ... where the row lives.
        column: the offending column / field, or ``""`` when the whole row is wrong.
        reason: what was wrong and what would be valid.
        raw: the raw value text (truncated by the source if long).
    """

    location: str
    column: str
    reason: str
    raw: str = ""


def _id_set(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


@frozen
class Bookmark:
    """Watermark for one stream partition.

    Attributes:
        value: the highest committed cursor value, serialised as text (ISO-8601 for datetimes),
            or ``None`` before the first sync.
        ids_at_value: external ids already delivered whose cursor equals ``value`` (tie handling).
    """

    value: str | None = None
    ids_at_value: frozenset[str] = field(default=frozenset(), converter=_id_set)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form ``{"value": ..., "ids_at_value": [...]}`` (ids sorted)."""
        return {"value": self.value, "ids_at_value": sorted(self.ids_at_value)}


@frozen
class SourceState:
    """All bookmarks of one source: ``stream -> partition -> Bookmark``.

    Immutable; :meth:`with_bookmark` returns a new state. ``to_dict``/``from_dict`` give a JSON
    form for storage.
    """

    bookmarks: Mapping[str, Mapping[str, Bookmark]] = field(factory=dict)

    def bookmark(self, stream: str, partition: str = "") -> Bookmark:
        """The bookmark for ``stream``/``partition`` (an empty one when never synced)."""
        return self.bookmarks.get(stream, {}).get(partition, Bookmark())

    def with_bookmark(self, stream: str, bookmark: Bookmark, partition: str = "") -> SourceState:
        """A copy with one bookmark replaced."""
        streams = {name: dict(parts) for name, parts in self.bookmarks.items()}
        streams.setdefault(stream, {})[partition] = bookmark
        return SourceState(streams)

    def to_dict(self) -> dict[str, dict[str, dict[str, object]]]:
        """JSON-ready nested dict."""
        return {
            stream: {part: mark.to_dict() for part, mark in parts.items()}
            for stream, parts in self.bookmarks.items()
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, Mapping[str, object]]]) -> SourceState:
        """Inverse of :meth:`to_dict`.

        Raises:
            InvalidValue: a bookmark has the wrong shape (field path names it).
        """
        streams: dict[str, dict[str, Bookmark]] = {}
        for stream, parts in data.items():
            for part, raw in parts.items():
                path = f"{stream}.{part or '_'}"
                value = raw.get("value")
                ids = raw.get("ids_at_value", [])
                if value is not None and not isinstance(value, str):
                    raise InvalidValue(
                        "bookmark value must be text", field=f"{path}.value", valid="str | null"
                    )
                if not isinstance(ids, list | tuple) or not all(isinstance(i, str) for i in ids):
                    raise InvalidValue(
                        "ids_at_value must be a list of text",
                        field=f"{path}.ids_at_value",
                        valid="list[str]",
                    )
                streams.setdefault(stream, {})[part] = Bookmark(value, frozenset(ids))
        return cls(streams)


def _records(values: Iterable[RawRecord]) -> tuple[RawRecord, ...]:
    return tuple(values)


def _rejections(values: Iterable[Rejection]) -> tuple[Rejection, ...]:
    return tuple(values)


@frozen
class RecordBatch:
    """A batch of records read from one stream.

    Attributes:
        stream: the stream name.
        records: the records (may be empty, e.g. a final checkpoint).
        state: the source state that is valid once this batch has been committed.
        rejections: rows that could not become records.
    """

    stream: str
    records: tuple[RawRecord, ...] = field(converter=_records)
    state: SourceState
    rejections: tuple[Rejection, ...] = field(default=(), converter=_rejections)


@runtime_checkable
class EvidenceSource(Protocol):
    """A configured connection to one external system.

    Implementations are created by a factory registered with
    :class:`perfcore.plugins.registry.SourceRegistry` from their attrs config object.
    ``read`` is lazy: nothing is fetched until the iterator is advanced, and a large source never
    has to hold all of its records in memory.
    """

    def check(self) -> CheckResult:
        """Probe connectivity and configuration; never raises for an unreachable system."""
        ...

    def discover(self) -> Sequence[StreamSpec]:
        """The streams this source offers."""
        ...

    def read(self, stream: str, state: SourceState | None) -> Iterator[RecordBatch]:
        """Read ``stream`` from ``state`` (``None`` = from the beginning).

        Raises:
            NotFound: ``stream`` is not one of :meth:`discover`'s streams.
            Exception: transport/system errors propagate; the caller keeps its old state.
        """
        ...

    def close(self) -> None:
        """Release connections (idempotent)."""
        ...
