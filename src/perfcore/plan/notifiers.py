"""Checks of the plan's ``notifiers:`` channels and ``route:`` table.

``notifiers`` maps a channel name to ``{kind, config}``: the kind must be registered in the
notifier registry of the plugin host (``perfcore_register_notifiers``) — an unknown kind is
reported with a "did you mean" — and the config is structured into the kind's config class, so a
misspelt or missing config field is reported at its line and column
(``notifiers.ops.config.webhook_url``). Nothing is instantiated here: no secret is read and no
connection made while a plan is checked.

``route`` maps a message type (an outbox template such as ``review_escalated``, or ``"*"`` for
every other type) to the channel names that deliver it; each name must be a declared channel
(or ``"*"``, the default channel given to ``bootstrap``).

Without an explicit registry the checks use the plugins installed in this environment
(:class:`perfcore.plugins.manager.PluginHost` configured from the environment, built on first use
and cached — never at import time).
"""

from __future__ import annotations

from typing import Any

from perfcore.domain.errors import DomainError
from perfcore.plan.model import PlanSpec
from perfcore.plan.problems import Problem, did_you_mean
from perfcore.plan.yamlnodes import Marks, Path

__all__ = ["check_notifiers", "default_notifier_registry", "message_types"]

_DEFAULT: list[Any] = []


def default_notifier_registry() -> Any:
    """The notifier registry of the plugins installed here (built once, on first use)."""
    if not _DEFAULT:
        from perfcore.plugins.manager import PluginHost

        host = PluginHost.from_env()
        host.load()
        _DEFAULT.append(host.notifiers)
    return _DEFAULT[0]


def message_types() -> tuple[str, ...]:
    """The outbox message types a route may name (the notification templates)."""
    from perfcore.services.templates import TEMPLATES

    return tuple(sorted(TEMPLATES))


def _split(field_path: str) -> Path:
    out: list[str | int] = []
    for part in field_path.split("."):
        name, _, rest = part.partition("[")
        if name:
            out.append(name)
        while rest:
            index, _, rest = rest.partition("]")
            out.append(int(index) if index.isdigit() else index)
            rest = rest.removeprefix("[")
    return tuple(out)


def check_notifiers(spec: PlanSpec, marks: Marks, registry: Any = None) -> list[Problem]:
    """Every problem of the ``notifiers`` and ``route`` sections (empty when they are fine).

    ``registry`` is a :class:`perfcore.plugins.registry.NotifierRegistry` (default: the installed
    plugins')."""
    problems: list[Problem] = []
    if spec.notifiers:
        reg = registry if registry is not None else default_notifier_registry()
        kinds = reg.kinds()
        for name, channel in spec.notifiers.items():
            base: Path = ("notifiers", name)
            if channel.kind not in kinds:
                hint = did_you_mean(channel.kind, kinds)
                message = f"unknown notifier kind {channel.kind!r}" + (f"; {hint}" if hint else "")
                problems.append(marks.problem((*base, "kind"), message))
                continue
            config_cls = reg.get(channel.kind).config_cls
            try:
                from perfcore.plugins.registry import structure_config

                structure_config(channel.config, config_cls, path=f"notifiers.{name}.config")
            except DomainError as err:
                valid = f" (valid: {err.valid})" if err.valid else ""
                path = (*base, "config", *_split(err.field)[3:])
                key = err.message.startswith("unknown field")  # point at the misspelt key
                problems.append(marks.problem(path, f"{err.message}{valid}", key=key))
    if spec.route:
        types = message_types()
        for mtype, channels in spec.route.items():
            if mtype != "*" and mtype not in types:
                hint = did_you_mean(mtype, types)
                message = f"unknown message type {mtype!r}" + (f"; {hint}" if hint else "")
                problems.append(marks.problem(("route", mtype), message, key=True))
            for i, name in enumerate(channels):
                if name != "*" and name not in spec.notifiers:
                    hint = did_you_mean(name, spec.notifiers) or "declare it under notifiers"
                    problems.append(
                        marks.problem(("route", mtype, i), f"unknown channel {name!r}; {hint}")
                    )
    return problems
