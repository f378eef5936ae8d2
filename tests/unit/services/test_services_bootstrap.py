"""The composition root: nothing is created at import, everything can be passed in, and there is
a one-line default; the opt-in pytest plugin provides working fixtures."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from perfcore.bootstrap import bootstrap, make_unit_of_work
from perfcore.domain.errors import InvalidValue, NotFound
from perfcore.ports.clock import SystemClock
from perfcore.services import commands as c
from perfcore.testing.fakes import InMemoryUnitOfWork

PLAN = Path(__file__).resolve().parents[2] / "e2e" / "loop_plan.yaml"


def test_importing_perfcore_bootstrap_creates_nothing() -> None:
    code = (
        "import sys, perfcore.bootstrap, perfcore.services.handlers\n"
        "bad = [m for m in ('perfcore_adapters.sqlalchemy', 'sqlalchemy') if m in sys.modules]\n"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_one_line_default_is_in_memory_with_the_system_clock() -> None:
    bus = bootstrap(plan=PLAN)
    assert isinstance(bus.uow, InMemoryUnitOfWork)
    assert isinstance(bus.ctx.clock, SystemClock)
    assert set(bus.ctx.notifiers) == {"*"}


def test_an_unknown_storage_is_refused_naming_what_is_valid() -> None:
    with pytest.raises(InvalidValue) as info:
        make_unit_of_work("postgres")
    assert info.value.field == "storage"


def test_commands_before_a_plan_say_what_to_do() -> None:
    bus = bootstrap()
    with pytest.raises(NotFound, match="ApplyPlan"):
        bus.handle(c.ComputeScorecards())


def test_the_opt_in_pytest_plugin_provides_a_working_bus(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        'pytest_plugins = ["perfcore.testing.pytest_plugin"]\n', encoding="utf-8"
    )
    (tmp_path / "test_embedding.py").write_text(
        textwrap.dedent(
            f"""
            import datetime as dt
            from pathlib import Path

            import pytest

            from perfcore.domain.values import SubjectRef
            from perfcore.services import commands, queries

            @pytest.fixture
            def perfcore_plan():
                return Path({str(PLAN)!r}).read_text(encoding="utf-8")

            def test_scorecard(perfcore_bus, fake_clock, recording_notifier):
                e1 = SubjectRef.person("E1")
                perfcore_bus.handle(commands.RecordEvidence(
                    "inspection", {{"inspected": 10, "good": 8}}, fake_clock.now(), subject=e1))
                assert queries.scorecard(perfcore_bus, e1, "2025-01")["values"]["fpy"] == "0.8"
                fake_clock.advance(hours=49)
                perfcore_bus.handle(commands.TickClock())
                assert any("Escalated" in b for b in recording_notifier.bodies())
            """
        ),
        encoding="utf-8",
    )
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert "1 passed" in out.stdout, out.stdout + out.stderr


def test_identities_unknown_to_the_plan_are_asked_of_the_plugins() -> None:
    import datetime as dt

    from perfcore.domain.values import SubjectRef
    from perfcore.plugins import hookimpl
    from perfcore.plugins.manager import PluginHost

    class Hris:
        @hookimpl
        def perfcore_resolve_identity(self, system: str, external_id: str) -> SubjectRef | None:
            return SubjectRef.person("E1") if (system, external_id) == ("hris", "100017") else None

    host = PluginHost()
    host.register(Hris(), "hris-directory")
    bus = bootstrap(plugins=host, plan=PLAN)
    at = dt.datetime(2025, 3, 3, 1, tzinfo=dt.UTC)
    values = {"inspected": 10, "good": 9}
    known = c.RecordEvidence("inspection", values, at, system="hris", external_subject="100017")
    unknown = c.RecordEvidence("inspection", values, at, system="hris", external_subject="999")
    assert bus.handle(known) is True
    assert bus.handle(unknown) is False
    with bus.uow as uow:
        [rejected] = uow.evidence.quarantined()
    assert rejected.reason == "unresolved identity hris:999"
