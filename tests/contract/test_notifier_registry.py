"""The built-in notifiers register through ``perfcore_register_notifiers`` like any plugin, and
``build_notifiers`` turns a ``notifiers:`` mapping into channels with path-precise errors."""

from __future__ import annotations

import io
import types

import pytest

from perfcore.domain.errors import InvalidValue, NotFound
from perfcore.plugins import hookimpl
from perfcore.plugins.manager import PluginHost
from perfcore.plugins.registry import NotifierRegistry
from perfcore.ports.notifications import Notifier
from perfcore.testing.notifiers import contract_message
from perfcore_adapters.notifiers import (
    ConsoleConfig,
    ConsoleNotifier,
    DingTalkNotifier,
    SmtpNotifier,
    WeComNotifier,
    build_notifiers,
    register,
)

KINDS = ["console", "dingtalk", "feishu", "slack", "smtp", "webhook", "wecom"]


def _registry() -> NotifierRegistry:
    registry = NotifierRegistry()
    with registry.scope("builtin"):
        register(registry)
    return registry


def test_builtin_plugin_registers_the_seven_channels_through_the_hook() -> None:
    host = PluginHost(allow=["builtin"])
    host.load(entry_points=False)
    registry = host.notifiers
    assert registry.kinds() == KINDS
    assert {entry.plugin for entry in registry} == {"builtin"}
    assert host.failures == []


def test_a_plugin_providing_wecom_replaces_only_that_builtin_channel(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plugin = types.SimpleNamespace()

    @hookimpl
    def perfcore_register_notifiers(registry: NotifierRegistry) -> None:
        registry.add("wecom", ConsoleNotifier, ConsoleConfig)

    plugin.perfcore_register_notifiers = perfcore_register_notifiers
    host = PluginHost()
    host.load(entry_points=False, extra=[("acme_chat", plugin)])
    registry = host.notifiers
    assert registry.kinds() == KINDS
    assert registry.get("wecom").plugin == "acme_chat"
    assert registry.get("dingtalk").plugin == "builtin"
    assert host.failures == []
    assert "'wecom' is provided by plugin 'acme_chat'" in caplog.text


def test_two_plugins_claiming_the_same_new_kind_are_reported_naming_both() -> None:
    def make(name: str) -> object:
        plugin = types.SimpleNamespace()

        @hookimpl
        def perfcore_register_notifiers(registry: NotifierRegistry) -> None:
            registry.add("teams", ConsoleNotifier, ConsoleConfig)

        plugin.perfcore_register_notifiers = perfcore_register_notifiers
        return plugin

    host = PluginHost()
    host.load(entry_points=False, extra=[("acme", make("acme")), ("globex", make("globex"))])
    assert "teams" in host.notifiers
    [failure] = host.failures
    assert "'acme'" in failure.error
    assert "'globex'" in failure.error


def test_build_notifiers_makes_each_named_channel_from_plan_data() -> None:
    channels = build_notifiers(
        _registry(),
        {
            "*": {"kind": "console"},
            "ops": {"kind": "wecom", "config": {"key": "abc"}},
            "mgmt": {"kind": "dingtalk", "config": {"access_token": "t", "secret": "SECx"}},
            "mail": {"kind": "smtp", "config": {"host": "mail.plant", "sender": "kpi@plant"}},
        },
    )
    assert isinstance(channels["*"], ConsoleNotifier)
    assert isinstance(channels["ops"], WeComNotifier)
    assert isinstance(channels["mgmt"], DingTalkNotifier)
    assert isinstance(channels["mail"], SmtpNotifier)
    assert all(isinstance(c, Notifier) for c in channels.values())
    assert channels["mgmt"].config.rate_limit.per_minute == 20  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("spec", "error", "field"),
    [
        ({"ops": {"kind": "wechat"}}, NotFound, "notifiers.ops.kind"),
        ({"ops": {"config": {}}}, InvalidValue, "notifiers.ops.kind"),
        ({"ops": {"kind": "wecom", "key": "abc"}}, InvalidValue, "notifiers.ops.key"),
        ({"ops": "wecom"}, InvalidValue, "notifiers.ops"),
        ({"ops": {"kind": "wecom", "config": {}}}, InvalidValue, "notifiers.ops.config.key"),
        (
            {"ops": {"kind": "wecom", "config": {"key": "k", "msgtype": "card"}}},
            InvalidValue,
            "notifiers.ops.config.msgtype",
        ),
        (
            {"m": {"kind": "smtp", "config": {"host": "h", "sender": "s", "security": "tls"}}},
            InvalidValue,
            "notifiers.m.config.security",
        ),
        (
            {"f": {"kind": "feishu", "config": {"hook": "h", "rate_limit": {"per_second": "x"}}}},
            InvalidValue,
            "notifiers.f.config.rate_limit.per_second",
        ),
        (
            {"f": {"kind": "feishu", "config": {"hook": "h", "rate_limit": {"per_second": 0}}}},
            InvalidValue,
            "notifiers.f.config.rate_limit",
        ),
    ],
)
def test_build_notifiers_errors_name_the_field_path(
    spec: dict[str, object], error: type[Exception], field: str
) -> None:
    with pytest.raises(error) as info:
        build_notifiers(_registry(), spec)
    assert getattr(info.value, "field", None) == field


def test_unknown_kind_error_lists_the_valid_kinds() -> None:
    with pytest.raises(NotFound) as info:
        build_notifiers(_registry(), {"ops": {"kind": "wechat"}})
    assert info.value.valid == ", ".join(KINDS)


def test_console_notifier_prints_subject_and_body_and_delivers() -> None:
    out = io.StringIO()
    result = ConsoleNotifier(stream=out).send(contract_message("一次合格率 92.5%", subject="预警"))
    assert result.ok
    assert out.getvalue() == "[perfcore → M1] 预警\n一次合格率 92.5%\n"


def test_console_notifier_is_the_bootstrap_default() -> None:
    from perfcore.bootstrap import default_notifier

    assert isinstance(default_notifier(), ConsoleNotifier)
