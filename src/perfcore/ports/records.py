"""Small records owned by the application layer and stored through the ports.

They are not domain aggregates: a plan *version* (the text that was applied, its hash and number),
a quarantined input record, a source bookmark, and the bookkeeping row saying which plan version
scored which period. Storage adapters persist them as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from attrs import field, frozen

from perfcore.domain.values import SubjectRef

__all__ = ["PeriodScoring", "PlanVersion", "QuarantinedRecord", "SourceBookmark"]


def _mapping(value: Mapping[str, object]) -> Mapping[str, object]:
    return dict(value)


@frozen
class PlanVersion:
    """A plan as applied: ``number`` counts from 1; ``content_hash`` is the SHA-256 (hex) of the
    plan text; ``source`` is the YAML text itself (so any version can be reloaded and explained);
    ``name`` is the file name used in error messages."""

    number: int
    content_hash: str
    source: str
    name: str
    applied_at: dt.datetime


@frozen
class PeriodScoring:
    """Which plan version scored ``subject`` in the period with key ``period_key`` and when."""

    subject: SubjectRef
    period_key: str
    plan_version: int
    computed_at: dt.datetime


@frozen
class QuarantinedRecord:
    """An input record that was not accepted: the raw payload as received, where it came from and
    why it was rejected. ``read = accepted + quarantined`` for every ingest."""

    key: str
    source: str
    reason: str
    payload: Mapping[str, object] = field(converter=_mapping)
    received_at: dt.datetime
    field_path: str = ""


@frozen
class SourceBookmark:
    """The incremental-sync state of one ``(source, stream, partition)``: an opaque JSON-able
    mapping (e.g. ``{"cursor": "2025-03-01T00:00:00+00:00"}``) written in the same unit of work as
    the evidence it covers."""

    source: str
    stream: str
    partition: str
    state: Mapping[str, object] = field(converter=_mapping)
    updated_at: dt.datetime
