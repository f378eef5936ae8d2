"""Built-in notification channels of perfcore.

Kinds registered through ``perfcore_register_notifiers`` (see :func:`register`):

===========  ==============================  ==============================================
kind         config class                    channel
===========  ==============================  ==============================================
``console``  :class:`ConsoleConfig`          prints to stdout/stderr
``wecom``    :class:`WeComConfig`            WeCom (企业微信) group robot
``dingtalk`` :class:`DingTalkConfig`         DingTalk (钉钉) custom robot, optional 加签
``feishu``   :class:`FeishuConfig`           Feishu / Lark custom bot, optional signing
``slack``    :class:`SlackConfig`            Slack incoming webhook
``webhook``  :class:`WebhookConfig`          generic HMAC-signed JSON webhook
``smtp``     :class:`SmtpConfig`             e-mail (text + HTML)
===========  ==============================  ==============================================

Every notifier implements :class:`perfcore.ports.notifications.Notifier`: ``send(message)``
answers ``ok`` / ``retryable`` (outage, rate limit — the outbox keeps the message) /
``permanent`` (bad credentials or payload) and never raises for a delivery problem.
:func:`build_notifiers` turns a ``notifiers:`` mapping from a plan or settings file into the
``channel name → Notifier`` mapping that :func:`perfcore.bootstrap.bootstrap` takes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from perfcore.domain.errors import DomainError, InvalidValue
from perfcore.ports.notifications import Notifier
from perfcore_adapters.notifiers.console import ConsoleConfig, ConsoleNotifier
from perfcore_adapters.notifiers.dingtalk import DingTalkConfig, DingTalkNotifier
from perfcore_adapters.notifiers.feishu import FeishuConfig, FeishuNotifier
from perfcore_adapters.notifiers.ratelimit import RateLimit, RateLimitConfig, SlidingWindowLimiter
from perfcore_adapters.notifiers.slack import SlackConfig, SlackNotifier
from perfcore_adapters.notifiers.smtp import SmtpConfig, SmtpNotifier
from perfcore_adapters.notifiers.webhook import WebhookConfig, WebhookNotifier
from perfcore_adapters.notifiers.wecom import WeComConfig, WeComNotifier

if TYPE_CHECKING:
    from perfcore.plugins.registry import NotifierRegistry

_log = logging.getLogger(__name__)

__all__ = [
    "BUILTIN_KINDS",
    "ConsoleConfig",
    "ConsoleNotifier",
    "DingTalkConfig",
    "DingTalkNotifier",
    "FeishuConfig",
    "FeishuNotifier",
    "RateLimit",
    "RateLimitConfig",
    "SlackConfig",
    "SlackNotifier",
    "SlidingWindowLimiter",
    "SmtpConfig",
    "SmtpNotifier",
    "WeComConfig",
    "WeComNotifier",
    "WebhookConfig",
    "WebhookNotifier",
    "build_notifiers",
    "register",
]


BUILTIN_KINDS: tuple[tuple[str, Callable[[Any], Notifier], type[Any]], ...] = (
    ("console", ConsoleNotifier, ConsoleConfig),
    ("wecom", WeComNotifier, WeComConfig),
    ("dingtalk", DingTalkNotifier, DingTalkConfig),
    ("feishu", FeishuNotifier, FeishuConfig),
    ("slack", SlackNotifier, SlackConfig),
    ("webhook", WebhookNotifier, WebhookConfig),
    ("smtp", SmtpNotifier, SmtpConfig),
)
"""``(kind, factory, config class)`` of every built-in channel."""


def register(registry: NotifierRegistry) -> None:
    """Add the seven built-in kinds to ``registry`` (called by the built-in plugin's
    ``perfcore_register_notifiers``).

    A kind that another plugin registered already is left to that plugin (a warning is
    logged): an installed plugin may replace one built-in channel without knocking out the
    others. (pluggy calls later-registered plugins first, so third-party plugins come before
    the built-ins.)
    """
    for kind, factory, config_cls in BUILTIN_KINDS:
        if kind in registry:
            _log.warning(
                "notifier kind %r is provided by plugin %r; the built-in one is not registered",
                kind,
                registry.get(kind).plugin,
            )
            continue
        registry.add(kind, factory, config_cls)


def build_notifiers(
    registry: NotifierRegistry, spec: Mapping[str, object], *, path: str = "notifiers"
) -> dict[str, Notifier]:
    """Channel instances from a ``notifiers:`` mapping.

    ``spec`` maps a channel name (the outbox ``channel``; ``"*"`` is the default) to
    ``{"kind": <registered kind>, "config": {...}}``::

        {"ops": {"kind": "wecom", "config": {"key": "..."}}, "*": {"kind": "console"}}

    Raises:
        InvalidValue: an entry is not a mapping, has no ``kind``, or has unknown keys; or its
            config does not fit the kind (path ``notifiers.ops.config.<field>``).
        NotFound: unknown kind (path ``notifiers.ops.kind``, ``valid`` lists the kinds).
    """
    built: dict[str, Notifier] = {}
    for name, entry in spec.items():
        where = f"{path}.{name}"
        if not isinstance(entry, Mapping):
            raise InvalidValue("a channel must be a mapping", field=where, valid="kind, config")
        extra = sorted(set(entry) - {"kind", "config"})
        if extra:
            raise InvalidValue(
                f"unknown field {extra[0]!r}", field=f"{where}.{extra[0]}", valid="kind, config"
            )
        kind = entry.get("kind")
        if not isinstance(kind, str) or not kind:
            raise InvalidValue(
                "missing channel kind", field=f"{where}.kind", valid=", ".join(registry.kinds())
            )
        try:
            registration = registry.get(kind)
        except DomainError as exc:
            raise exc.at(where) from None
        config = entry.get("config", {})
        built[str(name)] = registry.create(registration.kind, config, path=f"{where}.config")
    return built
