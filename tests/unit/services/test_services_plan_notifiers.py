"""Notification channels declared in the plan (``notifiers:``) and routed per message type
(``route:``): structured through the plugin registry, checked by the plan loader with
file:line:column messages, and used by the outbox delivery."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from attrs import frozen

from perfcore.bootstrap import bootstrap
from perfcore.domain.values import SubjectRef
from perfcore.plan import PlanError, loads
from perfcore.plugins import hookimpl
from perfcore.plugins.manager import PluginHost
from perfcore.services import commands as c
from perfcore.testing.fakes import FakeClock, RecordingNotifier

E1 = SubjectRef.person("E1")
CHANNELS: dict[str, RecordingNotifier] = {}


@frozen
class BoxConfig:
    """Config of the test kind ``box``: which recording notifier to use."""

    box: str


class BoxPlugin:
    """A third-party-style plugin registering the notifier kind ``box``."""

    @hookimpl
    def perfcore_register_notifiers(self, registry: object) -> None:
        registry.add(
            "box", lambda cfg: CHANNELS.setdefault(cfg.box, RecordingNotifier()), BoxConfig
        )  # type: ignore[attr-defined]


def host() -> PluginHost:
    h = PluginHost()
    h.load(entry_points=False, extra=[("box", BoxPlugin())])
    return h


def test_unknown_kinds_config_fields_channels_and_message_types_are_located(
    perfcore_plan: str,
) -> None:
    text = perfcore_plan + (
        "notifiers:\n"  # line ``first``
        "  ops-wecom: {kind: wecon, config: {key: k}}\n"
        "  mail:\n"
        "    kind: smtp\n"
        "    config: {hots: smtp.example.com}\n"
        "route:\n"
        "  review_escalated: [ops-wecom, consle]\n"
        "  review_escalatd: [mail]\n"
    )
    first = perfcore_plan.count("\n") + 1
    with pytest.raises(PlanError) as info:
        loads(text, "plan.yaml")
    kinds = "console, dingtalk, feishu, slack, smtp, webhook, wecom"
    assert info.value.messages == [
        f"plan.yaml:{first + 1}:21: notifiers.ops-wecom.kind: unknown notifier kind 'wecon'; "
        f"did you mean 'wecom'? valid: {kinds}",
        f"plan.yaml:{first + 4}:14: notifiers.mail.config.hots: unknown field 'hots' "
        "(valid: host, sender, port, security, username, password, to, addresses, timeout)",
        f"plan.yaml:{first + 6}:33: route.review_escalated[1]: unknown channel 'consle'; "
        "valid: mail, ops-wecom",
        f"plan.yaml:{first + 7}:3: route.review_escalatd: unknown message type "
        "'review_escalatd'; did you mean 'review_escalated'? valid: alert_raised, "
        "calibration_published, incentive_awarded, milestone_overdue, review_escalated, "
        "review_opened, review_reminder",
    ]


def test_a_missing_config_field_is_reported_at_the_channel_config(perfcore_plan: str) -> None:
    text = perfcore_plan + "notifiers:\n  ops:\n    kind: wecom\n    config: {}\n"
    first = perfcore_plan.count("\n") + 1
    with pytest.raises(PlanError) as info:
        loads(text, "plan.yaml")
    [problem] = info.value.problems
    assert (problem.line, problem.path) == (first + 3, "notifiers.ops.config.key")
    assert problem.message.startswith("required field missing")


def test_a_plugin_kind_is_accepted_only_where_the_plugin_is_loaded(perfcore_plan: str) -> None:
    text = perfcore_plan + "notifiers:\n  ops: {kind: box, config: {box: ops}}\n"
    assert loads(text, "plan.yaml", notifier_kinds=host().notifiers).spec.notifiers["ops"].kind
    with pytest.raises(PlanError, match="unknown notifier kind 'box'"):
        loads(text, "plan.yaml")


def test_messages_are_routed_to_the_plan_channels_by_type(perfcore_plan: str) -> None:
    """An alert opens a review (review_opened → the default route, 'desk'); 49 h later its
    escalation (review_escalated) goes to 'ops' and 'desk'."""
    CHANNELS.clear()
    plan = perfcore_plan + (
        "notifiers:\n"
        "  ops: {kind: box, config: {box: ops}}\n"
        "  desk: {kind: box, config: {box: desk}}\n"
        "route:\n"
        "  review_escalated: [ops, desk]\n"
        '  "*": [desk]\n'
    )
    clock = FakeClock(dt.datetime(2025, 1, 6, 8, tzinfo=dt.UTC))
    fallback = RecordingNotifier()
    bus = bootstrap(clock=clock, notifiers={"*": fallback}, plugins=host())
    bus.handle(c.ApplyPlan(plan))
    values = {"inspected": Decimal(100), "good": Decimal(80)}  # fpy 0.8 < 0.9: alert
    bus.handle(c.RecordEvidence("inspection", values, clock.now(), subject=E1))
    bus.handle(c.DeliverOutbox())
    clock.advance(hours=49)
    bus.handle(c.TickClock())
    ops, desk = CHANNELS["ops"], CHANNELS["desk"]
    escalation = "review:rv:person:E1:alert:low_fpy:2025-01:escalation:1"
    assert [(m.channel, m.dedupe_key) for m in ops.sent] == [("ops", escalation)]
    assert [(m.channel, m.dedupe_key) for m in desk.sent] == [
        ("desk", "alert:low_fpy:person:E1:2025-01:notify"),
        ("desk", "review:rv:person:E1:alert:low_fpy:2025-01:opened"),
        ("desk", escalation),
    ]
    assert fallback.sent == []  # every message had a route
    with bus.uow as uow:
        assert {m.status.value for m in uow.outbox.all()} == {"delivered"}
