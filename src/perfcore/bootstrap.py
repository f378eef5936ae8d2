"""The composition root: wire ports to adapters and return a :class:`MessageBus`.

Nothing is created at import time; everything is passed in, and whatever is not passed in is
created *when* ``bootstrap()`` is called:

>>> from perfcore.bootstrap import bootstrap, embedded
>>> bus = bootstrap()                      # in-memory storage, system clock, console notifier
>>> bus = embedded("perfcore.db")          # the same with a SQLite file (created/migrated)

- ``storage``: ``"memory"`` (default) or a database URL such as ``"sqlite:///perfcore.db"``;
  a URL imports :mod:`perfcore_adapters.sqlalchemy` lazily (only then) and asks it for a unit
  of work. Ignored when ``uow`` is given.
- ``uow``: any :class:`~perfcore.ports.uow.AbstractUnitOfWork` (e.g. the test fake).
- ``clock``: any :class:`~perfcore.ports.clock.Clock` (default: the system clock, UTC).
- ``notifiers``: channel name → :class:`~perfcore.ports.notifications.Notifier`; ``"*"`` is the
  default channel (default: ``{"*": console notifier}``).
- ``identity``: an :class:`~perfcore.ports.identity.IdentityResolver` for ids not in the plan
  (default with ``plugins``: the plugins' ``perfcore_resolve_identity`` hook).
- ``plugins``: a :class:`perfcore.plugins.manager.PluginHost` (sources/notifiers by kind).
  The channels a plan declares under ``notifiers:`` are built through its notifier registry
  (else the installed plugins') when the plan is first used for a delivery; a notifier passed in
  ``notifiers`` wins over a plan channel of the same name.
- ``sources``: plan source name → an :class:`~perfcore.ports.sources.EvidenceSource` instance.
- ``plan``: optional plan text (or a path) applied right away.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from perfcore.domain.errors import InvalidValue
from perfcore.domain.values import SubjectRef
from perfcore.plan import Plan
from perfcore.ports.clock import Clock, SystemClock
from perfcore.ports.identity import IdentityResolver
from perfcore.ports.notifications import DeliveryResult, Message, Notifier
from perfcore.ports.records import PlanVersion
from perfcore.ports.sources import EvidenceSource
from perfcore.ports.uow import AbstractUnitOfWork
from perfcore.services.commands import ApplyPlan
from perfcore.services.context import Context
from perfcore.services.messagebus import MessageBus

__all__ = ["bootstrap", "default_notifier", "embedded", "make_unit_of_work"]


class _PrintNotifier:
    """Fallback console channel: prints subject and body to stdout."""

    def send(self, message: Message) -> DeliveryResult:
        to = ", ".join(message.recipients)
        print(f"[perfcore → {to}] {message.subject}\n{message.body}", file=sys.stdout)
        return DeliveryResult.delivered("printed")


def default_notifier() -> Notifier:
    """The console notifier of :mod:`perfcore_adapters.notifiers.console` when installed,
    else a minimal printing notifier."""
    try:
        module = importlib.import_module("perfcore_adapters.notifiers.console")
        cls = module.ConsoleNotifier
        return cls()  # type: ignore[no-any-return]
    except (ImportError, AttributeError, TypeError):
        return _PrintNotifier()


def make_unit_of_work(storage: str) -> AbstractUnitOfWork:
    """``"memory"`` → a new in-memory unit of work; a URL → the SQLAlchemy adapter's (imported
    only now). Raises ``InvalidValue`` for anything else or when the adapter is missing."""
    if storage == "memory":
        from perfcore.testing.fakes import InMemoryUnitOfWork

        return InMemoryUnitOfWork()
    if "://" not in storage:
        raise InvalidValue(
            f"unknown storage {storage!r}",
            field="storage",
            valid="'memory' or a database URL such as 'sqlite:///perfcore.db'",
        )
    try:
        adapter = importlib.import_module("perfcore_adapters.sqlalchemy")
    except ImportError as exc:  # pragma: no cover - ships with perfcore
        raise InvalidValue(f"no SQL storage adapter: {exc}", field="storage") from exc
    for name in ("make_unit_of_work", "SqlAlchemyUnitOfWork"):
        factory = getattr(adapter, name, None)
        if factory is not None:
            uow: AbstractUnitOfWork = factory(storage)
            return uow
    raise InvalidValue(
        "the SQL storage adapter is not available in this version",
        field="storage",
        valid="'memory'",
    )


class _PluginIdentity:
    """The ``IdentityResolver`` port over the plugins' ``perfcore_resolve_identity`` hook."""

    def __init__(self, plugins: Any) -> None:
        self._plugins = plugins

    def resolve(self, system: str, external_id: str) -> SubjectRef | None:
        found = self._plugins.resolve_identity(system, external_id)
        return found if isinstance(found, SubjectRef) else None


def _kinds(plugins: Any) -> Any:
    return plugins.notifiers if plugins is not None and hasattr(plugins, "notifiers") else None


def _plan_loader(plugins: Any) -> Callable[[PlanVersion], Plan]:
    def load(version: PlanVersion) -> Plan:
        from perfcore.plan import loads

        return loads(version.source, version.name, notifier_kinds=_kinds(plugins))

    return load


def _plan_notifiers(plugins: Any) -> Callable[[Plan], Mapping[str, Notifier]]:
    """Builds the channels a plan declares under ``notifiers:`` through the notifier registry
    (the plugin host's, else the installed plugins') and
    :func:`perfcore_adapters.notifiers.build_notifiers` — imported only when a plan has some."""

    def build(plan: Plan) -> Mapping[str, Notifier]:
        from perfcore.plan.notifiers import default_notifier_registry
        from perfcore_adapters.notifiers import build_notifiers

        registry = _kinds(plugins) or default_notifier_registry()
        spec = {
            name: {"kind": channel.kind, "config": dict(channel.config)}
            for name, channel in plan.spec.notifiers.items()
        }
        return build_notifiers(registry, spec)

    return build


def bootstrap(
    *,
    uow: AbstractUnitOfWork | None = None,
    clock: Clock | None = None,
    notifiers: Mapping[str, Notifier] | None = None,
    identity: IdentityResolver | None = None,
    plugins: Any = None,
    sources: Mapping[str, EvidenceSource] | None = None,
    storage: str = "memory",
    plan: str | Path | None = None,
) -> MessageBus:
    """Build the message bus (see the module docstring for every argument).

    Returns a :class:`MessageBus`; ``bus.handle(command)`` runs a command and everything that
    follows from it. Raises ``PlanError`` when ``plan`` has problems.
    """
    from perfcore.services.handlers import COMMAND_HANDLERS, EVENT_HANDLERS

    ctx = Context(
        uow=uow if uow is not None else make_unit_of_work(storage),
        clock=clock if clock is not None else SystemClock(),
        notifiers=dict(notifiers) if notifiers is not None else {"*": default_notifier()},
        identity=identity
        if identity is not None or not hasattr(plugins, "resolve_identity")
        else _PluginIdentity(plugins),
        sources=dict(sources or {}),
        plugins=plugins,
        plan_loader=_plan_loader(plugins),
        notifier_factory=_plan_notifiers(plugins),
    )
    bus = MessageBus(ctx, COMMAND_HANDLERS, EVENT_HANDLERS)
    if plan is not None:
        text, name = _plan_text(plan)
        bus.handle(ApplyPlan(text, name))
    return bus


def _plan_text(plan: str | Path) -> tuple[str, str]:
    if isinstance(plan, Path) or ("\n" not in plan and plan.endswith((".yaml", ".yml"))):
        path = Path(plan)
        return path.read_text(encoding="utf-8"), str(path)
    return plan, "plan.yaml"


def embedded(db: str | Path = "perfcore.db", **kwargs: Any) -> MessageBus:
    """The embedder's one-liner: :func:`bootstrap` over a SQLite file at ``db`` (created and
    migrated on first use), the system clock and the console notifier; any other
    :func:`bootstrap` argument may be given as a keyword."""
    return bootstrap(storage=f"sqlite:///{Path(db)}", **kwargs)
