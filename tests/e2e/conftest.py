"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

DbState = Callable[[Path], tuple[object, ...]]


def _db_state(db: Path) -> tuple[object, ...]:
    """A logical fingerprint of a database (the file's bytes may change on a WAL checkpoint
    without any change of content): plan versions, evidence, scorecards with their totals,
    alerts, reviews, ledger and outbox."""
    from perfcore.bootstrap import bootstrap

    bus = bootstrap(storage=f"sqlite:///{db}", notifiers={})
    with bus.uow as uow:
        return (
            [v.number for v in uow.plans.list()],
            len(uow.evidence.list()),
            sorted((str(s), k, str(r.total)) for s, k, r in uow.scorecards.list()),
            sorted(a.key for a in uow.alerts.list()),
            sorted(r.id for r in uow.reviews.list()),
            len(uow.ledger.entries()),
            len(uow.outbox.all()),
        )


@pytest.fixture
def db_state() -> DbState:
    """``db_state(path)``: the logical content of a SQLite database, to show a command left it
    unchanged."""
    return _db_state
