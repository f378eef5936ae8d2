"""Registries: attribution, duplicate kinds, path-precise config errors."""

from __future__ import annotations

import attrs
import pytest

from perfcore.domain.errors import Conflict, InvalidValue, NotFound
from perfcore.plugins.registry import SourceRegistry, structure_config
from perfcore.testing.sources import InMemorySource


@attrs.frozen
class Paging:
    page_size: int = 100


@attrs.frozen
class DemoConfig:
    url: str
    paging: Paging = Paging()
    tags: list[str] = attrs.field(factory=list)


def _factory(_: DemoConfig) -> InMemorySource:
    return InMemorySource({})


def test_duplicate_kind_is_rejected_naming_both_plugins() -> None:
    registry = SourceRegistry()
    with registry.scope("acme"):
        registry.add("mes", _factory, DemoConfig)
    with pytest.raises(Conflict) as info, registry.scope("globex"):
        registry.add("mes", _factory, DemoConfig)
    assert "'acme'" in str(info.value)
    assert "'globex'" in str(info.value)


def test_registry_records_which_plugin_added_each_kind() -> None:
    registry = SourceRegistry()
    with registry.scope("acme"):
        registry.add("mes", _factory, DemoConfig)
    assert registry.get("mes").plugin == "acme"
    assert registry.kinds() == ["mes"]


def test_a_failing_plugin_scope_rolls_back_its_registrations() -> None:
    registry = SourceRegistry()

    def plugin_hook() -> None:
        with registry.scope("half"):
            registry.add("one", _factory, DemoConfig)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        plugin_hook()
    assert "one" not in registry


def test_config_class_must_be_attrs() -> None:
    with pytest.raises(InvalidValue) as info:
        SourceRegistry().add("x", _factory, dict)  # type: ignore[arg-type]
    assert info.value.field == "config_cls"


def test_kind_names_are_lower_case_identifiers() -> None:
    with pytest.raises(InvalidValue):
        SourceRegistry().add("Bad Kind", _factory, DemoConfig)


def test_frozen_registry_refuses_additions() -> None:
    registry = SourceRegistry()
    registry.freeze()
    with pytest.raises(Conflict):
        registry.add("late", _factory, DemoConfig)


def test_unknown_kind_lists_known_kinds() -> None:
    registry = SourceRegistry()
    registry.add("csv", _factory, DemoConfig)
    with pytest.raises(NotFound) as info:
        registry.create("xls", {})
    assert info.value.valid == "csv"


def test_wrong_nested_type_names_the_full_field_path() -> None:
    with pytest.raises(InvalidValue) as info:
        structure_config(
            {"url": "http://x", "paging": {"page_size": "many"}},
            DemoConfig,
            path="sources[2].config",
        )
    assert info.value.field == "sources[2].config.paging.page_size"


def test_unknown_key_is_an_error_naming_it_and_the_valid_fields() -> None:
    with pytest.raises(InvalidValue) as info:
        structure_config({"url": "u", "ulr": "typo"}, DemoConfig, path="sources[0].config")
    assert info.value.field == "sources[0].config.ulr"
    assert info.value.valid == "url, paging, tags"


def test_missing_required_field_is_named() -> None:
    with pytest.raises(InvalidValue) as info:
        structure_config({}, DemoConfig, path="config")
    assert info.value.field == "config.url"


def test_non_mapping_config_is_rejected() -> None:
    with pytest.raises(InvalidValue) as info:
        structure_config(["url"], DemoConfig, path="sources[1].config")
    assert info.value.field == "sources[1].config"


def test_create_structures_the_config_and_calls_the_factory() -> None:
    seen: list[DemoConfig] = []

    def factory(config: DemoConfig) -> InMemorySource:
        seen.append(config)
        return InMemorySource({})

    registry = SourceRegistry()
    registry.add("demo", factory, DemoConfig)
    registry.create("demo", {"url": "u", "paging": {"page_size": 5}})
    assert seen == [DemoConfig("u", Paging(5))]


def test_a_misspelt_key_is_reported_as_unknown_before_the_missing_field() -> None:
    with pytest.raises(InvalidValue) as info:
        structure_config({"ulr": "u"}, DemoConfig, path="config")
    assert info.value.field == "config.ulr"
    assert info.value.message == "unknown field 'ulr'"
