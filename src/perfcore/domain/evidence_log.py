"""In-memory evidence log: idempotent ingestion, corrections that supersede, and a quarantine.

Rules (perfcore's own):

* **Idempotent**: the same idempotency key with the same content (see
  :meth:`~perfcore.domain.evidence.EvidenceRecord.fingerprint`; ``recorded_at`` is ignored) is a
  no-op, reported as ``UNCHANGED``. The same key with *different* content is a :class:`Conflict`
  — it is never taken as a silent overwrite.
* **Corrections** are explicit: a record with ``version = n + 1`` whose ``supersedes`` names the
  key of the current version n of the same ``(source, external_id)``. The new version becomes
  current; the old one stays in the history. A correction that does not follow the current
  version (stale, skipped or unknown) is a :class:`Conflict`.
* **Quarantine**: :meth:`EvidenceLog.ingest_many` never raises for bad data; rejections and
  conflicts are kept aside with their reasons, so ``read == accepted + rejected`` always.

This is the pure logic; the storage port keeps the same rules durable.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from attrs import frozen

from perfcore.domain.errors import Conflict, DomainError
from perfcore.domain.evidence import EvidenceRecord, Reason, Rejection
from perfcore.domain.values import SubjectRef

__all__ = ["EvidenceLog", "IngestOutcome", "IngestReport"]


class IngestOutcome(enum.StrEnum):
    """What ingesting one item did."""

    NEW = "new"  #: first version of a record, stored
    UNCHANGED = "unchanged"  #: same key, same content: nothing changed
    CORRECTED = "corrected"  #: a new version superseded the current one
    REJECTED = "rejected"  #: kept in quarantine with reasons


@frozen
class IngestReport:
    """Counts of one batch: ``read == accepted + rejected``; ``accepted == new + unchanged +
    corrected``. ``rejections`` are the items quarantined by this batch, in input order."""

    read: int
    new: int
    unchanged: int
    corrected: int
    rejections: tuple[Rejection, ...]

    @property
    def accepted(self) -> int:
        """Items accepted (including no-op re-ingests)."""
        return self.new + self.unchanged + self.corrected

    @property
    def rejected(self) -> int:
        """Items quarantined."""
        return len(self.rejections)


class EvidenceLog:
    """Accepted evidence (every version) and quarantined rejections, in memory.

    ``current()`` is the view scoring uses: the latest version of each ``(source, external_id)``.
    ``history(source, external_id)`` lists all versions, oldest first.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, EvidenceRecord] = {}
        self._versions: dict[tuple[str, str], list[EvidenceRecord]] = {}
        self._rejected: list[Rejection] = []

    # -- writing -------------------------------------------------------------------------
    def ingest(self, item: EvidenceRecord | Rejection) -> IngestOutcome:
        """Ingest one validated record, or quarantine one rejection.

        Raises:
            Conflict: same key with different content (field ``provenance.idempotency_key``);
                a version already recorded under another key (``version``); a correction whose
                ``supersedes`` is not the current version's key or whose version does not follow
                it (``supersedes`` / ``version``). Nothing changes when it raises.
        """
        if isinstance(item, Rejection):
            self._quarantine(item)
            return IngestOutcome.REJECTED
        known = self._by_key.get(item.key)
        if known is not None:
            if known.fingerprint() == item.fingerprint():
                return IngestOutcome.UNCHANGED
            raise Conflict(
                f"idempotency key {item.key!r} was already used for different content",
                field="provenance.idempotency_key",
                valid="the identical record, or a correction with version "
                f"{self._latest_version(item.identity) + 1} that supersedes the current one",
            )
        versions = self._versions.get(item.identity, [])
        if any(v.version == item.version for v in versions):
            raise Conflict(
                f"version {item.version} of {item.identity[0]}/{item.identity[1]} is already "
                "recorded under another idempotency key",
                field="version",
                valid=f"version {len(versions) + 1} superseding the current one",
            )
        if item.version == 1:
            self._store(item)
            return IngestOutcome.NEW
        current = versions[-1] if versions else None
        if current is None:
            raise Conflict(
                f"correction (version {item.version}) of {item.identity[0]}/{item.identity[1]}, "
                "which has no recorded original",
                field="supersedes",
                valid="ingest version 1 first",
            )
        if item.version != current.version + 1 or item.supersedes != current.key:
            raise Conflict(
                f"correction does not follow the current version {current.version} "
                f"(key {current.key!r})",
                field="supersedes",
                valid=f"version {current.version + 1} with supersedes={current.key!r}",
            )
        self._store(item)
        return IngestOutcome.CORRECTED

    def ingest_many(self, items: Iterable[EvidenceRecord | Rejection]) -> IngestReport:
        """Ingest a batch; conflicts are quarantined as rejections (never raised), so the
        report always satisfies ``read == accepted + rejected``."""
        counts = dict.fromkeys(IngestOutcome, 0)
        rejections: list[Rejection] = []
        read = 0
        for item in items:
            read += 1
            try:
                outcome = self.ingest(item)
            except DomainError as err:
                assert isinstance(item, EvidenceRecord)
                rejection = _as_rejection(item, err)
                self._quarantine(rejection)
                rejections.append(rejection)
                continue
            if outcome is IngestOutcome.REJECTED:
                assert isinstance(item, Rejection)
                rejections.append(item)
            else:
                counts[outcome] += 1
        return IngestReport(
            read,
            counts[IngestOutcome.NEW],
            counts[IngestOutcome.UNCHANGED],
            counts[IngestOutcome.CORRECTED],
            tuple(rejections),
        )

    # -- reading -------------------------------------------------------------------------
    def get(self, key: str) -> EvidenceRecord | None:
        """The record (any version) with this idempotency key, or None."""
        return self._by_key.get(key)

    def current(
        self, *, evidence_type: str | None = None, subject: SubjectRef | None = None
    ) -> list[EvidenceRecord]:
        """Latest version of each record, filtered; ordered by occurred_at, then key."""
        out = [
            vs[-1]
            for vs in self._versions.values()
            if (evidence_type is None or vs[-1].evidence_type == evidence_type)
            and (subject is None or vs[-1].subject == subject)
        ]
        return sorted(out, key=lambda r: (r.occurred_at, r.key))

    def history(self, source: str, external_id: str) -> list[EvidenceRecord]:
        """Every version of one record, oldest first (empty when unknown)."""
        return list(self._versions.get((source, external_id), []))

    def all_versions(self) -> list[EvidenceRecord]:
        """Every accepted record including superseded versions, ordered by key."""
        return [self._by_key[k] for k in sorted(self._by_key)]

    @property
    def rejected(self) -> list[Rejection]:
        """The quarantine, in arrival order."""
        return list(self._rejected)

    # -- helpers -------------------------------------------------------------------------
    def _latest_version(self, identity: tuple[str, str]) -> int:
        versions = self._versions.get(identity)
        return versions[-1].version if versions else 0

    def _store(self, record: EvidenceRecord) -> None:
        self._by_key[record.key] = record
        self._versions.setdefault(record.identity, []).append(record)

    def _quarantine(self, rejection: Rejection) -> None:
        self._rejected.append(rejection)


def _as_rejection(record: EvidenceRecord, err: DomainError) -> Rejection:
    raw: dict[str, object] = {
        "subject": str(record.subject),
        "source": record.provenance.source,
        "external_id": record.provenance.external_id,
        "occurred_at": record.provenance.occurred_at.isoformat(),
        "recorded_at": record.provenance.recorded_at.isoformat(),
        "idempotency_key": record.key,
        "version": record.version,
        "supersedes": record.supersedes,
        "fields": dict(record.fields),
    }
    return Rejection(record.evidence_type, raw, (Reason.of(err),), record.key)
