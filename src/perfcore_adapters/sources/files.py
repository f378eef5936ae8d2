"""File sources: CSV (streamed, encoding detection) and Excel (python-calamine).

CSV reading is streamed: the file is read twice in 256 KiB chunks — once to detect the encoding
(``utf-8-sig`` first, then ``gb18030`` for Chinese Excel exports, then charset-normalizer's
guess) and compute its SHA-256, once to parse — so memory stays bounded by ``batch_size`` rows
whatever the file size.

Files are full-refresh streams: the bookmark is the file's SHA-256; an unchanged file yields an
empty batch, a changed one is re-read whole and consumers upsert by external id. Rows that do not
fit are returned as :class:`~perfcore.ports.sources.Rejection` with ``file:line`` and the column.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import itertools
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import attrs
from attrs import frozen

from perfcore.domain.errors import InvalidValue, NotFound, PerfcoreError
from perfcore.ports.sources import (
    Bookmark,
    CheckResult,
    RawRecord,
    RecordBatch,
    Rejection,
    SourceState,
    StreamSpec,
)
from perfcore_adapters.sources._mapping import (
    ColumnMap,
    RawColumns,
    RawRowMapper,
    RowMapper,
    TabularMapping,
)

__all__ = [
    "ColumnMap",
    "CsvConfig",
    "CsvSource",
    "ExcelConfig",
    "ExcelSource",
    "RawColumns",
    "TabularMapping",
    "detect_encoding",
]

_CHUNK = 1 << 18  # 256 KiB per read: bounds memory of the detection pass


def _decodes(path: Path, encoding: str) -> tuple[bool, str]:
    decoder = codecs.getincrementaldecoder(encoding)()
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False, ""
    return True, digest.hexdigest()


def detect_encoding(path: Path, encoding: str = "auto") -> tuple[str, str]:
    """``(encoding, sha256)`` of a text file, reading it in chunks.

    ``auto`` tries ``utf-8-sig``, then ``gb18030``, then charset-normalizer's best guess for the
    first 256 KiB. An explicit encoding is verified.

    Raises:
        InvalidValue: the file does not decode (``field="encoding"``).
    """
    candidates = ["utf-8-sig", "gb18030"] if encoding == "auto" else [encoding]
    for candidate in candidates:
        ok, digest = _decodes(path, candidate)
        if ok:
            return candidate, digest
    if encoding == "auto":
        from charset_normalizer import from_bytes

        with path.open("rb") as handle:
            best = from_bytes(handle.read(_CHUNK)).best()
        if best is not None:
            ok, digest = _decodes(path, best.encoding)
            if ok:
                return best.encoding, digest
    raise InvalidValue(
        f"{path.name} does not decode as {' or '.join(candidates)}",
        field="encoding",
        valid="auto, utf-8-sig, gb18030 or another Python codec name",
    )


@frozen
class CsvConfig:
    """Configuration of a ``csv`` source.

    Attributes:
        path: the file.
        mapping: typed columns, occurred_at, ids (see :class:`TabularMapping`); or
        raw: deliver every column as text keyed by its header (see :class:`RawColumns`) — the
            plan's own field mapping then applies. Give exactly one of the two.
        stream: the stream name.
        encoding: ``auto`` or a codec name.
        delimiter: one character, or ``auto`` to sniff from the first lines.
        header_line: 1-based line of the header row (title rows above it are skipped).
        batch_size: records per batch.
    """

    path: str
    mapping: TabularMapping | None = None
    raw: RawColumns | None = None
    stream: str = "rows"
    encoding: str = "auto"
    delimiter: str = ","
    header_line: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    batch_size: int = attrs.field(default=1000, validator=attrs.validators.ge(1))


def _batches(
    stream: str,
    rows: Iterable[tuple[Sequence[object], str]],
    mapper: RowMapper | RawRowMapper,
    state: SourceState,
    final: SourceState,
    size: int,
    width: int | None = None,
) -> Iterator[RecordBatch]:
    records: list[RawRecord] = []
    rejections: list[Rejection] = []
    for row, location in rows:
        if not any(str(cell).strip() for cell in row if cell is not None):
            continue
        ragged = _ragged(row, width, location) if width is not None else None
        if ragged is not None:
            rejections.append(ragged)
            continue
        record, problems = mapper.map(row, location)
        if record is not None:
            records.append(record)
        rejections.extend(problems)
        if len(records) >= size:
            yield RecordBatch(stream, records, state, rejections)
            records, rejections = [], []
    yield RecordBatch(stream, records, final, rejections)


Mapper = RowMapper | RawRowMapper


def _ragged(row: Sequence[object], width: int, location: str) -> Rejection | None:
    """A row with more non-empty values than the header has columns is rejected, never
    trimmed (trailing empty cells, as spreadsheets write them, are not values)."""
    extra = [str(c) for c in row[width:] if c is not None and str(c).strip()]
    if len(row) <= width or not extra:
        return None
    shown = ", ".join(repr(c) for c in extra[:3]) + (", ..." if len(extra) > 3 else "")
    return Rejection(
        location,
        "",
        f"the row has {len(row)} values but the header has {width} columns "
        f"(extra: {shown}); check the delimiter and quoting",
        ",".join(str(c) for c in row)[:200],
    )


def _check_modes(mapping: TabularMapping | None, raw: RawColumns | None) -> None:
    if (mapping is None) == (raw is None):
        raise InvalidValue(
            "give exactly one of mapping or raw",
            field="mapping",
            valid="mapping: {columns, occurred_at, ...} or raw: {occurred_at, ...}",
        )
    if mapping is not None:
        mapping.validate()


class _FileSource:
    _stream: str
    _path: Path
    _mapping: TabularMapping | None
    _raw: RawColumns | None

    def _mapper(self, header: Sequence[object], where: str) -> Mapper:
        if self._mapping is not None:
            return RowMapper(self._mapping, header, where)
        assert self._raw is not None
        return RawRowMapper(self._raw, header, where)

    def _header_row(self) -> tuple[Sequence[object], str]:
        raise NotImplementedError

    def discover(self) -> list[StreamSpec]:
        """One stream: the mapped fields, or (raw mode) every header as a text field.

        Raises:
            OSError, InvalidValue: raw mode reads the header and it cannot be read.
        """
        if self._mapping is not None:
            return [self._mapping.stream_spec(self._stream)]
        assert self._raw is not None
        header, where = self._header_row()
        return [RawRowMapper(self._raw, header, where).stream_spec(self._stream)]

    def _state(self, stream: str, state: SourceState | None) -> SourceState:
        if stream != self._stream:
            raise NotFound(f"unknown stream {stream!r}", field="stream", valid=self._stream)
        return state or SourceState()

    def close(self) -> None:
        """Nothing to release (files are opened per read)."""


class CsvSource(_FileSource):
    """A CSV file as one full-refresh stream. See :class:`CsvConfig`."""

    def __init__(self, config: CsvConfig) -> None:
        _check_modes(config.mapping, config.raw)
        if config.delimiter != "auto" and len(config.delimiter) != 1:
            raise InvalidValue(
                "delimiter must be one character", field="delimiter", valid="',', ';', '\\t', auto"
            )
        self.config = config
        self._stream = config.stream
        self._path = Path(config.path)
        self._mapping, self._raw = config.mapping, config.raw

    def _header_row(self) -> tuple[Sequence[object], str]:
        encoding, _ = detect_encoding(self._path, self.config.encoding)
        with self._path.open(encoding=encoding, newline="") as handle:
            return self._header(self._reader(handle)), self._path.name

    def check(self) -> CheckResult:
        """The file exists, decodes and has every mapped column in its header."""
        try:
            header, where = self._header_row()
            self._mapper(header, where)
            encoding = detect_encoding(self._path, self.config.encoding)[0]
        except (OSError, PerfcoreError) as exc:
            return CheckResult.failure(str(exc))
        return CheckResult.success(f"{self._path.name}: {encoding}")

    def _reader(self, handle: Iterable[str]) -> Iterator[list[str]]:
        delimiter = self.config.delimiter
        if delimiter == "auto":
            lines = iter(handle)
            head: list[str] = []
            for line in lines:
                head.append(line)
                if len(head) >= 20:
                    break
            try:
                delimiter = csv.Sniffer().sniff("".join(head), ",;\t|").delimiter
            except csv.Error:
                delimiter = ","
            return csv.reader(itertools.chain(head, lines), delimiter=delimiter)
        return csv.reader(handle, delimiter=delimiter)

    def _header(self, reader: Iterator[list[str]]) -> list[str]:
        header: list[str] = []
        for _ in range(self.config.header_line):
            header = next(reader, [])
        return header

    def read(self, stream: str, state: SourceState | None) -> Iterator[RecordBatch]:
        """Stream the file in batches; the last batch carries the new bookmark (its SHA-256).

        Raises:
            NotFound: unknown stream.
            InvalidValue: undecodable file or a mapped column missing from the header.
            OSError: the file cannot be read.
        """
        state = self._state(stream, state)
        return self._read(stream, state)

    def _read(self, stream: str, state: SourceState) -> Iterator[RecordBatch]:
        encoding, digest = detect_encoding(self._path, self.config.encoding)
        if state.bookmark(stream).value == f"sha256:{digest}":
            yield RecordBatch(stream, (), state)
            return
        final = state.with_bookmark(stream, Bookmark(f"sha256:{digest}"))
        name = self._path.name
        with self._path.open(encoding=encoding, newline="") as handle:
            reader = self._reader(handle)
            header = self._header(reader)
            mapper = self._mapper(header, name)

            def rows() -> Iterator[tuple[Sequence[object], str]]:
                for row in reader:
                    yield row, f"{name}:{getattr(reader, 'line_num', 0)}"

            yield from _batches(
                stream, rows(), mapper, state, final, self.config.batch_size, len(header)
            )


@frozen
class ExcelConfig:
    """Configuration of an ``excel`` source (xlsx, xlsm, xls, xlsb, ods).

    Attributes:
        path: the workbook.
        mapping: typed columns, occurred_at, ids; or
        raw: every column as text keyed by header (exactly one of the two).
        sheet: sheet name (default: the first sheet).
        stream: the stream name.
        header_row: 1-based row of the header (title rows above it are skipped).
        batch_size: records per batch.
    """

    path: str
    mapping: TabularMapping | None = None
    raw: RawColumns | None = None
    sheet: str | None = None
    stream: str = "rows"
    header_row: int = attrs.field(default=1, validator=attrs.validators.ge(1))
    batch_size: int = attrs.field(default=1000, validator=attrs.validators.ge(1))


class ExcelSource(_FileSource):
    """One sheet of a workbook as a full-refresh stream, read with python-calamine.

    Whole numbers arrive from calamine as floats and are turned back into integers by the
    number/text coercion. Locations read ``book.xlsx!Sheet1:17``.
    """

    def __init__(self, config: ExcelConfig) -> None:
        _check_modes(config.mapping, config.raw)
        self.config = config
        self._stream = config.stream
        self._path = Path(config.path)
        self._mapping, self._raw = config.mapping, config.raw

    def _header_row(self) -> tuple[Sequence[object], str]:
        sheet, rows = self._sheet()
        header: Sequence[object] = []
        for _ in range(self.config.header_row):
            header = next(rows, [])
        return header, f"{self._path.name}!{sheet}"

    def _sheet(self) -> tuple[str, Iterator[Sequence[object]]]:
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(self._path))
        names: list[str] = list(book.sheet_names)
        name = self.config.sheet or names[0]
        if name not in names:
            raise InvalidValue(f"no sheet {name!r}", field="sheet", valid=", ".join(names))
        return name, iter(book.get_sheet_by_name(name).iter_rows())

    def check(self) -> CheckResult:
        """The workbook opens and the header has every mapped column."""
        try:
            header, where = self._header_row()
            self._mapper(header, where)
        except (OSError, PerfcoreError, ValueError) as exc:
            return CheckResult.failure(str(exc))
        return CheckResult.success(where)

    def read(self, stream: str, state: SourceState | None) -> Iterator[RecordBatch]:
        """Rows after the header in batches; the last batch carries the new bookmark.

        Raises:
            NotFound: unknown stream.
            InvalidValue: missing sheet or mapped column.
        """
        state = self._state(stream, state)
        return self._read(stream, state)

    def _read(self, stream: str, state: SourceState) -> Iterator[RecordBatch]:
        digest = hashlib.sha256()
        with self._path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        mark = f"sha256:{digest.hexdigest()}"
        if state.bookmark(stream).value == mark:
            yield RecordBatch(stream, (), state)
            return
        final = state.with_bookmark(stream, Bookmark(mark))
        sheet, rows = self._sheet()
        header: Sequence[object] = []
        for _ in range(self.config.header_row):
            header = next(rows, [])
        where = f"{self._path.name}!{sheet}"
        mapper = self._mapper(header, where)
        numbered = (
            (row, f"{where}:{n}") for n, row in enumerate(rows, start=self.config.header_row + 1)
        )
        yield from _batches(stream, numbered, mapper, state, final, self.config.batch_size)
