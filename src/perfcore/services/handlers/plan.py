"""ApplyPlan: load, check and store a new plan version (or do nothing for an unchanged text)."""

from __future__ import annotations

from typing import Any

from perfcore.domain.events import PlanApplied
from perfcore.plan import content_hash, loads
from perfcore.ports.records import PlanVersion
from perfcore.services.commands import ApplyPlan
from perfcore.services.context import Context

__all__ = ["apply_plan"]


def _notifier_kinds(ctx: Context) -> Any:
    """The plugin host's notifier registry, if the context has a plugin host."""
    host = ctx.plugins
    return None if host is None or not hasattr(host, "notifiers") else host.notifiers


def apply_plan(cmd: ApplyPlan, ctx: Context) -> int:
    """Returns the version number in force after the command.

    The plan is fully loaded and checked before anything is stored (``PlanError`` otherwise), so a
    plan with a problem is never half-applied. The same text as the latest version is a no-op."""
    plan = loads(cmd.text, cmd.name, notifier_kinds=_notifier_kinds(ctx))
    digest = content_hash(cmd.text)
    now = ctx.clock.now()
    with ctx.uow as uow:
        latest = uow.plans.latest()
        if latest is not None and latest.content_hash == digest:
            return latest.number
        number = 1 if latest is None else latest.number + 1
        version = PlanVersion(number, digest, cmd.text, cmd.name, now)
        uow.plans.add(version)
        uow.emit(PlanApplied(number, digest, now))
        uow.commit()
    ctx.remember_plan(version, plan)
    return number
