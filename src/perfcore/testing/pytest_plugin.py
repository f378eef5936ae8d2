"""An opt-in pytest plugin with perfcore fixtures.

Enable it in your ``conftest.py``::

    pytest_plugins = ["perfcore.testing.pytest_plugin"]

Fixtures (all function-scoped, all in memory — no database):

- ``fake_clock`` — a :class:`~perfcore.testing.fakes.FakeClock` at 2025-01-06 08:00 UTC (a
  Monday); advance it with ``fake_clock.advance(hours=49)``.
- ``recording_notifier`` — a :class:`~perfcore.testing.fakes.RecordingNotifier`.
- ``inmemory_uow`` — a fresh :class:`~perfcore.testing.fakes.InMemoryUnitOfWork`.
- ``static_identity`` — an empty :class:`~perfcore.testing.fakes.StaticIdentityResolver`
  (``static_identity.add("mes", "B-17", SubjectRef.person("E1"))``).
- ``perfcore_plan`` — plan text applied by ``perfcore_bus``; ``None`` by default. Override it in
  your test module or conftest to apply your plan.
- ``perfcore_bus`` — ``perfcore.bootstrap.bootstrap(...)`` wired to the fixtures above, with
  ``perfcore_plan`` applied when given.
"""

from __future__ import annotations

import datetime as dt

import pytest

from perfcore.bootstrap import bootstrap
from perfcore.services.commands import ApplyPlan
from perfcore.services.messagebus import MessageBus
from perfcore.testing.fakes import (
    FakeClock,
    InMemoryUnitOfWork,
    RecordingNotifier,
    StaticIdentityResolver,
)

__all__ = [
    "fake_clock",
    "inmemory_uow",
    "perfcore_bus",
    "perfcore_plan",
    "recording_notifier",
    "static_identity",
]


@pytest.fixture
def fake_clock() -> FakeClock:
    """A clock standing at 2025-01-06 08:00 UTC."""
    return FakeClock(dt.datetime(2025, 1, 6, 8, 0, tzinfo=dt.UTC))


@pytest.fixture
def recording_notifier() -> RecordingNotifier:
    """Records every message sent."""
    return RecordingNotifier()


@pytest.fixture
def inmemory_uow() -> InMemoryUnitOfWork:
    """An empty in-memory unit of work."""
    return InMemoryUnitOfWork()


@pytest.fixture
def static_identity() -> StaticIdentityResolver:
    """An empty identity map."""
    return StaticIdentityResolver()


@pytest.fixture
def perfcore_plan() -> str | None:
    """Plan YAML applied by ``perfcore_bus`` (override to provide one)."""
    return None


@pytest.fixture
def perfcore_bus(
    inmemory_uow: InMemoryUnitOfWork,
    fake_clock: FakeClock,
    recording_notifier: RecordingNotifier,
    static_identity: StaticIdentityResolver,
    perfcore_plan: str | None,
) -> MessageBus:
    """A message bus over the in-memory fakes (plan applied when ``perfcore_plan`` is set)."""
    bus = bootstrap(
        uow=inmemory_uow,
        clock=fake_clock,
        notifiers={"*": recording_notifier},
        identity=static_identity,
    )
    if perfcore_plan is not None:
        bus.handle(ApplyPlan(perfcore_plan, "plan.yaml"))
    return bus
