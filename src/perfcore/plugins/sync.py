"""``run_sync``: read one stream of a source into a sink, calling the lifecycle hooks.

The sink commits each :class:`~perfcore.ports.sources.RecordBatch` *together with* its state
(records and bookmark in one transaction). ``run_sync`` only advances the state it returns after
the sink accepted a batch, so a failure leaves the bookmark at the last committed batch — for
sources that promote their watermark only at the end of a successful read, where it was before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from attrs import frozen

from perfcore.ports.sources import EvidenceSource, RecordBatch, SourceState

__all__ = ["NoHooks", "Sink", "SyncHooks", "SyncResult", "SyncStats", "run_sync"]

_log = logging.getLogger(__name__)

Sink = Callable[[RecordBatch], None]
"""Commits one batch (records and ``batch.state``) atomically; raises to refuse it."""


@frozen
class SyncStats:
    """Counts for one stream sync: records committed, batches committed, rows rejected."""

    records: int = 0
    batches: int = 0
    rejections: int = 0


@frozen
class SyncResult:
    """Outcome of :func:`run_sync`.

    Attributes:
        stream: the stream read.
        state: the state after the last committed batch (the input state if none committed).
        stats: counts of what was committed.
        error: the exception that ended the sync, or ``None``.
    """

    stream: str
    state: SourceState
    stats: SyncStats
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        """``True`` when the stream was read to the end."""
        return self.error is None


class SyncHooks(Protocol):
    """Lifecycle callbacks (implemented by :class:`perfcore.plugins.manager.PluginHost`)."""

    def before_sync(self, source_name: str, stream: str) -> None:
        """Before reading."""

    def after_sync(self, source_name: str, stream: str, stats: SyncStats) -> None:
        """After the last batch was committed."""

    def on_sync_error(self, source_name: str, stream: str, error: BaseException) -> None:
        """When reading or committing failed."""


class NoHooks:
    """Hooks that do nothing."""

    def before_sync(self, source_name: str, stream: str) -> None:
        """Do nothing."""

    def after_sync(self, source_name: str, stream: str, stats: SyncStats) -> None:
        """Do nothing."""

    def on_sync_error(self, source_name: str, stream: str, error: BaseException) -> None:
        """Do nothing."""


def run_sync(
    source: EvidenceSource,
    stream: str,
    state: SourceState | None,
    sink: Sink,
    hooks: SyncHooks | None = None,
    *,
    source_name: str = "",
) -> SyncResult:
    """Read ``stream`` from ``state`` and hand every batch to ``sink``.

    Args:
        source: the configured source.
        stream: stream name (see ``source.discover()``).
        state: last committed state, or ``None`` for a first sync.
        sink: commits a batch and its state atomically.
        hooks: lifecycle hooks (default: none).
        source_name: the instance name reported to hooks (default: the class name).

    Returns:
        A :class:`SyncResult`; source and sink errors do not propagate — they are reported
        through ``hooks.on_sync_error`` and returned in ``SyncResult.error``. ``KeyboardInterrupt``
        and other non-``Exception`` errors propagate after the hook ran.
    """
    hooks = hooks or NoHooks()
    name = source_name or type(source).__name__
    committed = state or SourceState()
    records = batches = rejections = 0
    hooks.before_sync(name, stream)
    try:
        for batch in source.read(stream, state):
            sink(batch)
            committed = batch.state
            records += len(batch.records)
            rejections += len(batch.rejections)
            batches += 1
    except Exception as exc:
        _log.warning("sync of %s/%s failed: %s", name, stream, exc)
        stats = SyncStats(records, batches, rejections)
        hooks.on_sync_error(name, stream, exc)
        return SyncResult(stream, committed, stats, exc)
    except BaseException as exc:
        hooks.on_sync_error(name, stream, exc)
        raise
    stats = SyncStats(records, batches, rejections)
    hooks.after_sync(name, stream, stats)
    return SyncResult(stream, committed, stats)
