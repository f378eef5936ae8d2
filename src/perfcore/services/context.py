"""The handler context: everything a handler may use, passed in by :func:`perfcore.bootstrap`.

Handlers never import adapters; they reach storage through ``ctx.uow``, time through
``ctx.clock``, people's other identities through ``ctx.identity``, evidence sources through
``ctx.sources`` (instances by plan source name) or ``ctx.plugins`` (a
:class:`perfcore.plugins.manager.PluginHost`), and notifiers through ``ctx.notifiers``.
``ctx.plan()`` returns the compiled current plan (cached per content hash).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from attrs import define, field

from perfcore.domain.errors import NotFound
from perfcore.plan import Plan
from perfcore.ports.clock import Clock
from perfcore.ports.identity import IdentityResolver
from perfcore.ports.notifications import Notifier
from perfcore.ports.records import PlanVersion
from perfcore.ports.sources import EvidenceSource
from perfcore.ports.uow import AbstractUnitOfWork

__all__ = ["Context"]


@define
class Context:
    """Dependencies of the handlers.

    - ``uow``: the unit of work (one instance, re-entered per handler).
    - ``clock``: the time source.
    - ``notifiers``: channel name → notifier; ``"*"`` is the default channel.
    - ``identity``: resolver for external ids (``None``: only explicit subjects are accepted).
    - ``sources``: plan source name → an already built ``EvidenceSource`` (overrides plugins).
    - ``plugins``: a plugin host used to build sources and notifiers by kind (optional).
    - ``plan_loader``: ``PlanVersion -> compiled plan``; set by bootstrap.
    - ``retry_events``: re-runs parked event handlers; set by the message bus.
    - ``notifier_factory``: ``plan -> {channel name: Notifier}`` for the plan's ``notifiers:``
      section; set by bootstrap (``None``: the plan's channels are not built).
    """

    uow: AbstractUnitOfWork
    clock: Clock
    notifiers: Mapping[str, Notifier] = field(factory=dict)
    identity: IdentityResolver | None = None
    sources: dict[str, EvidenceSource] = field(factory=dict)
    plugins: Any = None
    plan_loader: Callable[[PlanVersion], Plan] | None = None
    retry_events: Callable[[], int] | None = None
    notifier_factory: Callable[[Plan], Mapping[str, Notifier]] | None = None
    _plans: dict[str, Plan] = field(factory=dict)
    _channels: dict[str, Mapping[str, Notifier]] = field(factory=dict)

    def channels(self, plan: Plan | None) -> Mapping[str, Notifier]:
        """Every delivery channel: the plan's declared ``notifiers`` (built once per plan
        content) overlaid with the notifiers passed in (those win on a name clash)."""
        if plan is None or not plan.spec.notifiers or self.notifier_factory is None:
            return self.notifiers
        built = self._channels.get(plan.content_hash)
        if built is None:
            built = {**self.notifier_factory(plan), **self.notifiers}
            self._channels[plan.content_hash] = built
        return built

    def plan_for(self, version: PlanVersion) -> Plan:
        """The compiled plan of a stored version (cached by content hash)."""
        cached = self._plans.get(version.content_hash)
        if cached is None:
            if self.plan_loader is None:
                raise NotFound("no plan loader configured", field="plan")
            cached = self.plan_loader(version)
            self._plans[version.content_hash] = cached
        return cached

    def remember_plan(self, version: PlanVersion, plan: Plan) -> None:
        """Cache an already loaded plan for ``version``."""
        self._plans[version.content_hash] = plan

    def plan(self) -> Plan:
        """The compiled current (latest) plan; ``NotFound`` before any plan was applied. Safe to
        call inside an open unit of work (it then reads in that one)."""
        if self.uow.active:
            version = self.uow.plans.latest()
        else:
            with self.uow:
                version = self.uow.plans.latest()
        if version is None:
            raise NotFound("no plan applied yet; send ApplyPlan first", field="plan")
        return self.plan_for(version)
