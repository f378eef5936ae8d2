"""Why records were rejected: ``perfcore quarantine`` and the reasons ``sync`` prints.

Rejected input records are kept in quarantine with their raw payload, the field path and the
reason. Reasons that differ only in the quoted value (``'1,000' is not a number`` and
``'n/a' is not a number``) are grouped; each group shows its count and one example record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Annotated

import typer
from attrs import frozen
from rich.console import Console
from rich.markup import escape

from perfcore.ports.records import QuarantinedRecord
from perfcore.services.ingest import SOURCE_LINE
from perfcore_adapters.cli._common import (
    DEFAULT_DB,
    DbOpt,
    PlanOpt,
    console,
    guarded,
    open_runtime,
)

__all__ = ["ReasonGroup", "group_reasons", "print_reasons", "quarantine"]

_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


@frozen
class ReasonGroup:
    """One kind of rejection: ``source``, ``field`` path, the first record's ``reason`` text,
    how many records (``count``) and where the first one came from (``example``)."""

    source: str
    field: str
    reason: str
    count: int
    example: str


def _example(record: QuarantinedRecord, width: int = 70) -> str:
    """``file.csv:12: col=value, …`` (the row's location when the reader gave it), the values
    cut at ``width`` characters."""
    payload = record.payload
    text = ", ".join(
        f"{k}={v}".replace("\r", "").replace("\n", "⏎")  # one line, even for multi-line cells
        for k, v in payload.items()
        if v not in ("", None) and k != SOURCE_LINE
    )
    text = text if len(text) <= width else text[: width - 1] + "…"
    where = payload.get(SOURCE_LINE)
    return f"{where}: {text}" if where else text


def group_reasons(records: Sequence[QuarantinedRecord]) -> list[ReasonGroup]:
    """Group rejected records by (source, field path, reason with quoted values blanked), most
    frequent first (ties: in order of appearance)."""
    groups: dict[tuple[str, str, str], list[QuarantinedRecord]] = {}
    for record in records:
        key = (record.source, record.field_path, _QUOTED.sub("'…'", record.reason))
        groups.setdefault(key, []).append(record)
    ordered = sorted(groups.items(), key=lambda item: -len(item[1]))
    return [
        ReasonGroup(src, path, items[0].reason, len(items), _example(items[0]))
        for (src, path, _), items in ordered
    ]


def print_reasons(out: Console, groups: Sequence[ReasonGroup], limit: int, title: str) -> None:
    """Print up to ``limit`` groups, each as ``count × source: field: reason`` and an
    ``e.g. <record>`` line under it."""
    if not groups:
        return
    out.print(f"[bold]{escape(title)}[/]")
    width = len(f"{groups[0].count:,}")
    for g in groups[:limit]:
        reason = g.reason
        if g.field and not reason.startswith(g.field):
            reason = f"{g.field}: {reason}"
        out.print(
            f"  [red]{g.count:>{width},}[/] × {escape(g.source)}: {escape(reason)}", soft_wrap=True
        )
        out.print(f"  {'':>{width}}   [dim]e.g. {escape(g.example)}[/]", soft_wrap=True)
    if len(groups) > limit:
        rest = sum(g.count for g in groups[limit:])
        out.print(f"  [dim]… {len(groups) - limit} more kinds of reason ({rest:,} rows)[/]")


def quarantine(
    source: Annotated[
        str | None, typer.Option("--source", "-s", help="Only this plan source.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Kinds of reason shown.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="All groups as a JSON array.")] = False,
    db: DbOpt = DEFAULT_DB,
    plan: PlanOpt = None,
) -> None:
    """List why records were rejected: reasons grouped, with counts and one example each."""

    def run() -> None:
        runtime = open_runtime(db, plan, require_plan=False, must_exist=True)
        with runtime.bus.uow as uow:
            records = list(uow.evidence.quarantined(source=source))
        groups = group_reasons(records)
        if as_json:
            rows = [
                {
                    "source": g.source,
                    "field": g.field,
                    "reason": g.reason,
                    "count": g.count,
                    "example": g.example,
                }
                for g in groups
            ]
            console.print_json(json.dumps(rows))
            return
        if not records:
            where = f" from source {source!r}" if source else ""
            console.print(f"no rejected records{where}")
            return
        print_reasons(console, groups, limit, f"quarantine: {len(records):,} rejected records")

    guarded(run)
