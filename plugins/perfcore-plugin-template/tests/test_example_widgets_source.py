"""Tests for the Widgets source: perfcore's port contract plus your own cases."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from perfcore.domain.errors import InvalidValue
from perfcore.plugins.manager import PluginHost
from perfcore.ports.sources import EvidenceSource
from perfcore.testing.sources import EvidenceSourceContract, read_all

import perfcore_example_widgets
from perfcore_example_widgets.source import WidgetsConfig, WidgetsSource

DATA = Path(__file__).parent / "data" / "widgets.jsonl"
ROOT = Path(__file__).parents[1]


class TestWidgetsSourceContract(EvidenceSourceContract):
    """Every test perfcore requires of an EvidenceSource, inherited."""

    def make_source(self, tmp_path: Path) -> EvidenceSource:
        copy = tmp_path / DATA.name
        shutil.copy(DATA, copy)
        return WidgetsSource(WidgetsConfig(str(copy)))


def test_the_package_declares_a_perfcore_entry_point() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    entry_points = project["project"]["entry-points"]["perfcore"]
    assert list(entry_points.values()) == [perfcore_example_widgets.__name__]


def test_the_plugin_registers_its_source_kind() -> None:
    host = PluginHost()
    host.load(entry_points=False, builtin=False, extra=[("me", perfcore_example_widgets)])
    assert host.failures == []
    assert host.sources.get("widgets").plugin == "me"


def test_plan_data_with_a_typo_is_rejected_with_its_path() -> None:
    host = PluginHost()
    host.load(entry_points=False, builtin=False, extra=[("me", perfcore_example_widgets)])
    with pytest.raises(InvalidValue) as info:
        host.sources.create("widgets", {"pth": "x"}, path="sources[0].config")
    assert info.value.field == "sources[0].config.pth"


def test_bad_lines_are_rejected_and_ties_are_kept() -> None:
    source = WidgetsSource(WidgetsConfig(str(DATA)))
    batches = list(source.read("output", None))
    assert [r.external_id for b in batches for r in b.records] == ["W-1", "W-2", "W-4"]
    assert [j.location for b in batches for j in b.rejections] == ["widgets.jsonl:3"]
    _, state = read_all(source, "output")
    again, _ = read_all(source, "output", state)
    assert again == []
