"""PluginHost: loading, allow/block lists, contained failures, listing."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import attrs
import pytest

from perfcore.plugins import hookimpl
from perfcore.plugins.manager import BUILTIN, PluginHost
from perfcore.plugins.registry import SourceRegistry
from perfcore.plugins.sync import SyncStats
from perfcore.testing.sources import InMemorySource


@attrs.frozen
class NoConfig:
    pass


def _make(_: NoConfig) -> InMemorySource:
    return InMemorySource({})


def _write_dist(site: Path, dist: str, entry_points: dict[str, str]) -> None:
    """An installed distribution with ``perfcore`` entry points (a *.dist-info on sys.path)."""
    info = site / f"{dist}-1.2.3.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.3\n")
    lines = "\n".join(f"{k} = {v}" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[perfcore]\n{lines}\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("pcfake_")]:
        del sys.modules[name]


def _module(site: Path, name: str, body: str) -> None:
    (site / f"{name}.py").write_text(textwrap.dedent(body))


GOOD = """
    import attrs
    from perfcore.plugins import hookimpl
    from perfcore.testing.sources import InMemorySource

    @attrs.frozen
    class Cfg:
        pass

    @hookimpl
    def perfcore_register_sources(registry):
        registry.add("good", lambda c: InMemorySource({}), Cfg)
"""


def test_nothing_is_loaded_until_load_is_called() -> None:
    host = PluginHost()
    assert host.list_plugins() == []


def test_entry_point_plugins_are_loaded_with_distribution_and_hooks(site: Path) -> None:
    _module(site, "pcfake_good", GOOD)
    _write_dist(site, "perfcore-mes-good", {"good": "pcfake_good"})
    host = PluginHost()
    assert host.load(builtin=False) == []
    row = next(p for p in host.list_plugins() if p.name == "good")
    assert (row.status, row.distribution, row.version) == ("loaded", "perfcore-mes-good", "1.2.3")
    assert row.hooks == ("perfcore_register_sources",)
    assert host.sources.get("good").plugin == "good"


def test_a_plugin_that_fails_to_import_is_reported_by_name_and_others_load(site: Path) -> None:
    _module(site, "pcfake_good", GOOD)
    _module(site, "pcfake_broken", "import not_a_real_module_xyz\n")
    _write_dist(site, "perfcore-mes-mixed", {"good": "pcfake_good", "broken": "pcfake_broken"})
    host = PluginHost()
    failures = host.load(builtin=False)
    assert [(f.plugin, f.stage) for f in failures] == [("broken", "import")]
    assert "ModuleNotFoundError" in failures[0].error
    assert "good" in host.sources
    statuses = {p.name: p.status for p in host.list_plugins()}
    assert statuses["broken"] == "failed"


def test_a_misspelt_hook_is_caught_by_check_pending_and_the_plugin_dropped() -> None:
    class Typo:
        @hookimpl
        def perfcore_register_source(self, registry: SourceRegistry) -> None:  # missing "s"
            raise AssertionError("never called")

    host = PluginHost()
    failures = host.load(entry_points=False, builtin=False, extra=[("typo", Typo())])
    assert [(f.plugin, f.stage) for f in failures] == [("typo", "validate")]
    assert "perfcore_register_source" in failures[0].error
    assert [p.status for p in host.list_plugins()] == ["failed"]


def test_a_raising_registration_hook_is_contained_and_rolled_back() -> None:
    class HalfBroken:
        @hookimpl
        def perfcore_register_sources(self, registry: SourceRegistry) -> None:
            registry.add("half", _make, NoConfig)
            raise RuntimeError("config file missing")

    class Fine:
        @hookimpl
        def perfcore_register_sources(self, registry: SourceRegistry) -> None:
            registry.add("fine", _make, NoConfig)

    host = PluginHost()
    host.load(entry_points=False, builtin=False, extra=[("half", HalfBroken()), ("fine", Fine())])
    assert host.sources.kinds() == ["fine"]
    assert [(f.plugin, f.stage) for f in host.failures] == [
        ("half", "hook:perfcore_register_sources")
    ]
    half = next(p for p in host.list_plugins() if p.name == "half")
    assert half.status == "loaded"
    assert half.error == "hook:perfcore_register_sources: RuntimeError: config file missing"


def test_a_raising_lifecycle_hook_does_not_stop_the_others() -> None:
    calls: list[str] = []

    class Loud:
        @hookimpl
        def perfcore_after_sync(self, stats: SyncStats) -> None:
            raise RuntimeError("metrics backend down")

    class Quiet:
        @hookimpl
        def perfcore_after_sync(self, source_name: str) -> None:
            calls.append(source_name)

    host = PluginHost()
    host.load(entry_points=False, builtin=False, extra=[("quiet", Quiet()), ("loud", Loud())])
    host.after_sync("erp", "orders", SyncStats())
    assert calls == ["erp"]
    assert host.failures[0].plugin == "loud"


def test_duplicate_kinds_from_two_plugins_are_reported_naming_both() -> None:
    class A:
        @hookimpl
        def perfcore_register_sources(self, registry: SourceRegistry) -> None:
            registry.add("mes", _make, NoConfig)

    class B:
        @hookimpl
        def perfcore_register_sources(self, registry: SourceRegistry) -> None:
            registry.add("mes", _make, NoConfig)

    host = PluginHost()
    host.load(entry_points=False, builtin=False, extra=[("alpha", A()), ("beta", B())])
    assert host.sources.get("mes").plugin in {"alpha", "beta"}
    (failure,) = host.failures
    assert "'alpha'" in failure.error
    assert "'beta'" in failure.error


def test_block_list_from_environment_skips_named_plugins(site: Path) -> None:
    _module(site, "pcfake_good", GOOD)
    _write_dist(site, "perfcore-mes-good", {"good": "pcfake_good"})
    host = PluginHost.from_env({"PERFCORE_PLUGINS_BLOCK": "good, other"})
    host.load(builtin=False)
    assert "good" not in host.sources
    assert {p.name: p.status for p in host.list_plugins()}["good"] == "blocked"


def test_allow_list_restricts_external_plugins_but_keeps_builtin(site: Path) -> None:
    _module(site, "pcfake_good", GOOD)
    _write_dist(site, "perfcore-mes-good", {"good": "pcfake_good"})
    host = PluginHost.from_env({"PERFCORE_PLUGINS_ALLOW": "someone_else"})
    host.load()
    kinds = host.sources.kinds()
    assert "good" not in kinds
    assert "csv" in kinds


def test_builtin_adapters_register_through_the_same_hooks() -> None:
    host = PluginHost()
    host.load(entry_points=False)
    assert {"csv", "excel", "rest", "sql"} <= set(host.sources.kinds())
    assert all(host.sources.get(k).plugin == BUILTIN for k in ("csv", "rest", "sql"))
    (row,) = host.list_plugins()
    assert (row.name, row.status, row.distribution) == (BUILTIN, "loaded", "perfcore")
    assert row.hooks == ("perfcore_register_notifiers", "perfcore_register_sources")


def test_builtin_can_be_blocked() -> None:
    host = PluginHost(block=[BUILTIN])
    host.load(entry_points=False)
    assert host.sources.kinds() == []


def test_importing_the_plugin_system_loads_no_plugin_and_no_adapter() -> None:
    import subprocess

    code = (
        "import sys, perfcore.plugins.manager, perfcore.plugins.registry; "
        "print(sorted(m for m in sys.modules if m.startswith('perfcore_adapters')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
