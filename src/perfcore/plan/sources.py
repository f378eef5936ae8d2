"""Checks of a plan's source mappings that do not need the domain: ``format`` strings and the
column names the mapping refers to.

- ``occurred_at.format`` must be a valid ``strptime`` format that round-trips a date: a sample
  instant written with it and read back must give the same year, month and day (a format with
  an unknown directive such as ``%Q``, or without a full date such as ``%H:%M``, is refused).
- Every column the mapping names (``subject.field``, the ``{column}`` s of ``subject.template``,
  ``occurred_at.field``, ``id`` and the values of ``fields``) must be one of the source's
  declared ``columns`` when the plan declares them, and one of the header's columns when the
  source reads a local CSV file (``config.path``) that is readable when the plan loads.

Each problem is located at the offending value with a "did you mean".
"""

from __future__ import annotations

import csv
import datetime as dt
import string
from collections.abc import Iterator
from os import PathLike
from pathlib import Path as FsPath

from perfcore.plan.model import PlanSpec, SourceSpec
from perfcore.plan.problems import Problem, did_you_mean
from perfcore.plan.yamlnodes import Marks, Path

__all__ = ["check_format", "check_sources", "csv_header"]

_SAMPLE = dt.datetime(2024, 11, 28, 13, 45, 30, tzinfo=dt.UTC)
_ENCODINGS = ("utf-8-sig", "gb18030")
_HEADER_BYTES = 1 << 16


def check_format(fmt: str) -> str | None:
    """``None`` when ``fmt`` is a ``strptime`` format that writes and reads back a date, else
    what is wrong (a sentence without the field path)."""
    if not fmt:
        return None
    try:
        written = _SAMPLE.strftime(fmt)
        read = dt.datetime.strptime(written, fmt)
    except ValueError as exc:
        return f"{fmt!r} is not a valid strptime format ({exc})"
    if read.date() != _SAMPLE.date():
        return (
            f"{fmt!r} does not read back a full date: {_SAMPLE:%Y-%m-%d %H:%M} is written "
            f"{written!r} and read as {read:%Y-%m-%d %H:%M}; a format needs the year, month and "
            "day (e.g. %Y-%m-%d %H:%M)"
        )
    return None


def _template_columns(template: str) -> list[str]:
    try:
        return [f for _, f, _, _ in string.Formatter().parse(template) if f]
    except ValueError:
        return []


def _references(src: SourceSpec) -> Iterator[tuple[Path, str]]:
    """``(path inside the source, column)`` for every column the mapping names."""
    if src.subject.field:
        yield ("subject", "field"), src.subject.field
    for column in _template_columns(src.subject.template):
        yield ("subject", "template"), column
    yield ("occurred_at", "field"), src.occurred_at.field
    for i, column in enumerate(src.id):
        yield ("id", i), column
    for name, column in src.fields.items():
        yield ("fields", name), column
    if src.version:
        yield ("version",), src.version


def csv_header(path: FsPath, *, delimiter: str = "", header_line: int = 1) -> list[str] | None:
    """The column names of a CSV file's header line, or ``None`` when the file cannot be read
    or decoded (UTF-8 with or without BOM, or GB 18030). ``delimiter`` ``""`` sniffs one of
    ``, ; tab |``."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEADER_BYTES)
    except OSError:
        return None
    text = None
    for encoding in _ENCODINGS:
        try:
            text = head.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        return None
    lines = text.splitlines()
    if len(lines) < header_line:
        return None
    line = lines[header_line - 1]
    if not delimiter:
        try:
            delimiter = csv.Sniffer().sniff(line, ",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    row = next(csv.reader([line], delimiter=delimiter), [])
    return [cell.strip() for cell in row]


def _local_csv(src: SourceSpec, base_dir: FsPath | None) -> FsPath | None:
    raw = src.config.get("path")
    if not isinstance(raw, str) or not raw or src.kind not in ("", "csv"):
        return None
    if src.kind == "" and not raw.lower().endswith((".csv", ".tsv", ".txt")):
        return None
    given = FsPath(raw).expanduser()
    candidates = [given] if given.is_absolute() else []
    if not given.is_absolute():
        if base_dir is not None:
            candidates.append(base_dir / given)
        candidates.append(FsPath.cwd() / given)
    return next((c for c in candidates if c.is_file()), None)


def check_sources(
    spec: PlanSpec, marks: Marks, *, base_dir: str | PathLike[str] | None = None
) -> list[Problem]:
    """Every format and column problem of ``spec.sources`` (see the module docstring)."""
    out: list[Problem] = []
    base = FsPath(base_dir) if base_dir is not None else None
    for sname, src in spec.sources.items():
        where: Path = ("sources", sname)
        wrong = check_format(src.occurred_at.format)
        if wrong is not None:
            out.append(marks.problem((*where, "occurred_at", "format"), wrong))
        known: list[tuple[str, list[str]]] = []
        if src.columns:
            known.append(("the source's declared columns", list(src.columns)))
        file = _local_csv(src, base)
        if file is not None:
            delimiter = src.config.get("delimiter", "")
            line = src.config.get("header_line", 1)
            header = csv_header(
                file,
                delimiter=delimiter if isinstance(delimiter, str) else "",
                header_line=line if isinstance(line, int) and line >= 1 else 1,
            )
            if header:
                known.append((f"the header of {src.config['path']}", header))
        for what, columns in known:
            for sub, column in _references(src):
                if column not in columns:
                    out.append(
                        marks.problem(
                            (*where, *sub),
                            f"column {column!r} is not in {what}; "
                            + did_you_mean(column, [c for c in columns if c]),
                        )
                    )
    return out
