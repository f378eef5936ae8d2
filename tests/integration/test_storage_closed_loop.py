"""The application's closed-loop end-to-end scenarios (tests/e2e/test_closed_loop_inmemory.py)
run unchanged on the SQLAlchemy unit of work — SQLite file and PostgreSQL — instead of the
in-memory fakes: the adapter is a drop-in for every port the services use."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from perfcore.bootstrap import bootstrap
from perfcore.testing.fakes import FakeClock, RecordingNotifier
from perfcore_adapters.sqlalchemy import make_unit_of_work

_E2E = Path(__file__).resolve().parents[1] / "e2e" / "test_closed_loop_inmemory.py"


def _scenarios() -> ModuleType:
    name = "_closed_loop_scenarios"
    found = sys.modules.get(name)
    if found is None:
        spec = importlib.util.spec_from_file_location(name, _E2E)
        assert spec is not None
        assert spec.loader is not None
        found = importlib.util.module_from_spec(spec)
        sys.modules[name] = found
        spec.loader.exec_module(found)
    return found


SCENARIOS = sorted(n for n in dir(_scenarios()) if n.startswith("test_"))


@pytest.fixture
def world(storage_url: str) -> Iterator[tuple[Any, FakeClock, Any, RecordingNotifier]]:
    e2e = _scenarios()
    clock = FakeClock(e2e.START)
    uow = make_unit_of_work(storage_url)
    notifier = RecordingNotifier()
    bus = bootstrap(uow=uow, clock=clock, notifiers={"*": notifier})
    yield bus, clock, uow, notifier
    uow.engine.dispose()


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_closed_loop_scenario_passes_on_sql_storage(
    scenario: str, world: tuple[Any, FakeClock, Any, RecordingNotifier]
) -> None:
    run: Callable[..., None] = getattr(_scenarios(), scenario)
    run(world)
