"""The Widgets source: replace the file reading with calls to your system.

It reads a JSON-lines export (one object per line with ``id``, ``operator``, ``good``,
``updated_at``) and syncs incrementally on ``updated_at``, using perfcore's
:class:`~perfcore.plugins.incremental.WatermarkTracker` for the bookmark and tie handling.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from attrs import frozen
from perfcore.domain.errors import NotFound
from perfcore.plugins.incremental import WatermarkTracker
from perfcore.ports.sources import (
    CheckResult,
    FieldSpec,
    RawRecord,
    RecordBatch,
    Rejection,
    SourceState,
    StreamSpec,
)

__all__ = ["WidgetsConfig", "WidgetsSource"]

STREAM = "output"


@frozen
class WidgetsConfig:
    """Configuration read from the plan (unknown keys are errors naming their path).

    Attributes:
        path: the JSON-lines export.
        batch_size: records per batch.
    """

    path: str
    batch_size: int = 500


class WidgetsSource:
    """An ``EvidenceSource`` over a Widgets export."""

    def __init__(self, config: WidgetsConfig) -> None:
        self.config = config

    def check(self) -> CheckResult:
        """Can we open the export?"""
        path = Path(self.config.path)
        if not path.is_file():
            return CheckResult.failure(f"{path} does not exist")
        return CheckResult.success(str(path))

    def discover(self) -> list[StreamSpec]:
        """One stream, cursored on ``updated_at``."""
        fields = (
            FieldSpec("operator", "text"),
            FieldSpec("good", "number"),
            FieldSpec("updated_at", "datetime"),
        )
        return [StreamSpec(STREAM, fields, "updated_at", ("id",))]

    def read(self, stream: str, state: SourceState | None) -> Iterator[RecordBatch]:
        """Records changed since the bookmark; the final batch carries the new bookmark."""
        if stream != STREAM:
            raise NotFound(f"unknown stream {stream!r}", field="stream", valid=STREAM)
        return self._read(state or SourceState())

    def _read(self, state: SourceState) -> Iterator[RecordBatch]:
        tracker = WatermarkTracker(state.bookmark(STREAM))
        records: list[RawRecord] = []
        rejections: list[Rejection] = []
        path = Path(self.config.path)
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                location = f"{path.name}:{number}"
                try:
                    item = json.loads(line)
                    when = datetime.fromisoformat(item["updated_at"])
                    if when.tzinfo is None:
                        raise ValueError("updated_at needs a UTC offset")
                    data = {
                        "operator": str(item["operator"]),
                        "good": Decimal(str(item["good"])),
                        "updated_at": when,
                    }
                    record = RawRecord(data, str(item["id"]), when, "", location)
                except (ValueError, KeyError, ArithmeticError) as exc:
                    rejections.append(Rejection(location, "", f"{type(exc).__name__}: {exc}"))
                    continue
                if tracker.admit(when, record.external_id):
                    records.append(record)
                if len(records) >= self.config.batch_size:
                    yield RecordBatch(STREAM, records, state, rejections)
                    records, rejections = [], []
        final = state.with_bookmark(STREAM, tracker.bookmark())
        yield RecordBatch(STREAM, records, final, rejections)

    def close(self) -> None:
        """Nothing to release."""
