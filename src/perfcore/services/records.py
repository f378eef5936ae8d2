"""Records the service layer stores through the repositories.

``AcceptedEvidence`` is the stored form of one accepted
:class:`~perfcore.domain.evidence.EvidenceRecord` (flat, so storage adapters can keep the typed
field values in columns and push aggregation down to SQL); ``ScorecardRecord`` wraps a
domain :class:`~perfcore.domain.scorecard.Scorecard` with every indicator value and the plan
version that computed it; ``AlertRecord`` is a raised alert; ``ClosedPeriod`` a closed scoring
period. Milestones are stored as the domain :class:`~perfcore.domain.milestone.Milestone`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from attrs import field, frozen

from perfcore.domain.evidence import EvidenceRecord
from perfcore.domain.scorecard import Scorecard
from perfcore.domain.values import SubjectRef

__all__ = [
    "AcceptedEvidence",
    "AlertRecord",
    "ClosedPeriod",
    "ScorecardRecord",
]


def _values(value: Mapping[str, object]) -> Mapping[str, object]:
    return dict(value)


def _numbers(value: Mapping[str, Decimal | None]) -> Mapping[str, Decimal | None]:
    return dict(value)


@frozen
class AcceptedEvidence:
    """One accepted evidence record with provenance.

    ``key`` is the idempotency key (``source:external_id:v<version>`` unless given);
    ``values`` holds the typed field values (Decimal, str, bool, date, datetime, timedelta).
    ``version`` is 1 for an original and n+1 for the correction of version n, whose key is
    ``supersedes`` (perfcore's rule: the old version stays stored for audit, the new one is
    current). Both default so that ``AcceptedEvidence(key, type, subject, occurred, recorded,
    source, external_id, values)`` still builds an original."""

    key: str
    evidence_type: str
    subject: SubjectRef
    occurred_at: dt.datetime
    recorded_at: dt.datetime
    source: str
    external_id: str
    values: Mapping[str, object] = field(converter=_values)
    version: int = 1
    supersedes: str | None = None

    @property
    def identity(self) -> tuple[str, str]:
        """``(source, external_id)``: the same logical record across its versions."""
        return (self.source, self.external_id)

    @classmethod
    def from_record(cls, record: EvidenceRecord) -> AcceptedEvidence:
        """The stored form of a validated domain evidence record."""
        prov = record.provenance
        return cls(
            record.key,
            record.evidence_type,
            record.subject,
            prov.occurred_at,
            prov.recorded_at,
            prov.source,
            prov.external_id,
            dict(record.fields),
            record.version,
            record.supersedes,
        )

    def row(self) -> dict[str, object]:
        """The row shape :func:`perfcore.domain.measure.compute_values` reads."""
        return {**self.values, "occurred_at": self.occurred_at, "id": self.key}


@frozen
class ScorecardRecord:
    """A computed scorecard: the domain scorecard (``None`` when the plan has no objectives),
    every indicator value, the evidence count, the plan version and when it was computed."""

    subject: SubjectRef
    period_key: str
    plan_version: int
    computed_at: dt.datetime
    values: Mapping[str, Decimal | None] = field(converter=_numbers)
    scorecard: Scorecard | None = None
    evidence_count: int = 0

    @property
    def total(self) -> Decimal | None:
        """The weighted total score (``None`` without objectives or values)."""
        return None if self.scorecard is None else self.scorecard.total


@frozen
class AlertRecord:
    """A raised alert (the key makes raising idempotent)."""

    key: str
    rule: str
    subject: SubjectRef
    period_key: str
    indicator: str
    value: Decimal | None
    reason: str
    raised_at: dt.datetime
    review_id: str = ""


@frozen
class ClosedPeriod:
    """A closed scoring period (stored in ``uow.periods`` under its key).

    ``held`` lists the subjects (``str(SubjectRef)``) whose evidence in the period changed after
    it was closed: their stored scorecards are out of date until an explicit
    ``ComputeScorecards`` for the period, which empties the list."""

    period_key: str
    closed_at: dt.datetime
    by: str = ""
    reason: str = ""
    held: tuple[str, ...] = ()
