"""``PluginHost``: the typed facade over pluggy — the only code that touches ``pm.hook``.

There is no global plugin manager and nothing is loaded at import. The composition root does::

    host = PluginHost.from_env()          # reads PERFCORE_PLUGINS_ALLOW / PERFCORE_PLUGINS_BLOCK
    host.load()                           # entry points of group "perfcore" (+ extra=[...])
    source = host.sources.create("csv", config)   # registry built once, then frozen

A plugin that fails to import, fails validation (a misspelt hook, a wrong argument name) or whose
hook raises is recorded as a :class:`PluginFailure` under its name and logged; the host keeps
working with the others. Hooks are called one plugin at a time for that reason (and so that the
registries know which plugin added what).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs
import pluggy
from attrs import frozen

from perfcore.domain.values import SubjectRef
from perfcore.plugins import hookspecs
from perfcore.plugins.hookspecs import PROJECT
from perfcore.plugins.registry import NotifierRegistry, Registry, SourceRegistry
from perfcore.plugins.sync import SyncStats

__all__ = [
    "ALLOW_ENV",
    "BLOCK_ENV",
    "BUILTIN",
    "PluginFailure",
    "PluginHost",
    "PluginInfo",
]

_log = logging.getLogger(__name__)

ALLOW_ENV = "PERFCORE_PLUGINS_ALLOW"
BLOCK_ENV = "PERFCORE_PLUGINS_BLOCK"
BUILTIN = "builtin"
"""Entry-point name of perfcore's own adapters (``perfcore_adapters.builtin_plugin``)."""
_BUILTIN_MODULE = "perfcore_adapters.builtin_plugin"

Status = Literal["loaded", "failed", "blocked"]


@frozen
class PluginFailure:
    """A plugin problem that was contained.

    Attributes:
        plugin: plugin (entry-point) name.
        stage: ``import``, ``register``, ``validate`` or ``hook:<hook name>``.
        error: ``ExceptionType: message``.
    """

    plugin: str
    stage: str
    error: str


@frozen
class PluginInfo:
    """One row of :meth:`PluginHost.list_plugins` (for ``perfcore plugins`` and the API).

    Attributes:
        name: plugin name.
        status: ``loaded``, ``failed`` or ``blocked``.
        module: module or object the plugin is.
        distribution: the installed distribution providing it, if known.
        version: that distribution's version, if known.
        hooks: hook names it implements (sorted).
        error: why it failed; for a loaded plugin whose hook raised, ``hook:<name>: <error>``.
    """

    name: str
    status: Status
    module: str = ""
    distribution: str | None = None
    version: str | None = None
    hooks: tuple[str, ...] = ()
    error: str = ""


def _split(value: str | None) -> frozenset[str] | None:
    if value is None or not value.strip():
        return None
    return frozenset(part.strip() for part in value.split(",") if part.strip())


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class PluginHost:
    """A fresh pluggy manager plus typed calls for every perfcore hook.

    Args:
        allow: if given, only these *external* plugin names are loaded (``builtin`` is always
            loaded unless blocked).
        block: plugin names never loaded (``builtin`` may be blocked too).
    """

    def __init__(self, *, allow: Iterable[str] | None = None, block: Iterable[str] = ()) -> None:
        self._pm = pluggy.PluginManager(PROJECT)
        self._pm.add_hookspecs(hookspecs)
        self._allow = frozenset(allow) if allow is not None else None
        self._block = frozenset(block)
        self._failures: list[PluginFailure] = []
        self._blocked: list[str] = []
        self._dists: dict[str, tuple[str, str]] = {}
        self._sources: SourceRegistry | None = None
        self._notifiers: NotifierRegistry | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> PluginHost:
        """A host configured from ``PERFCORE_PLUGINS_ALLOW`` / ``PERFCORE_PLUGINS_BLOCK``.

        Both are comma-separated plugin names; an empty allow variable means "no restriction".
        """
        env = os.environ if environ is None else environ
        allow = _split(env.get(ALLOW_ENV))
        block = _split(env.get(BLOCK_ENV)) or frozenset()
        return cls(allow=allow, block=block)

    # ---------------------------------------------------------------- loading

    def _permitted(self, name: str) -> bool:
        if name in self._block:
            return False
        return name == BUILTIN or self._allow is None or name in self._allow

    def _fail(self, plugin: str, stage: str, exc: BaseException) -> None:
        failure = PluginFailure(plugin, stage, _describe(exc))
        self._failures.append(failure)
        _log.error("perfcore plugin %r failed at %s: %s", plugin, stage, failure.error)

    def register(self, plugin: object, name: str | None = None) -> bool:
        """Register one plugin object (module or instance) under ``name``.

        Returns ``False`` (and records a failure) when pluggy rejects it, or when the name is
        blocked / not allowed (recorded as blocked).
        """
        label = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        if not self._permitted(label):
            self._blocked.append(label)
            return False
        if self._pm.has_plugin(label) or self._pm.is_registered(plugin):
            return True
        try:
            self._pm.register(plugin, name=label)
        except Exception as exc:
            self._fail(label, "register", exc)
            return False
        self._invalidate()
        return True

    def load(
        self,
        *,
        entry_points: bool = True,
        extra: Sequence[object | tuple[str, object]] = (),
        builtin: bool = True,
    ) -> list[PluginFailure]:
        """Load plugins, then :meth:`check_pending`.

        Args:
            entry_points: load the ``perfcore`` entry-point group.
            extra: plugin objects (or ``(name, object)`` pairs) to register as well.
            builtin: make sure ``builtin`` is registered even when the installed metadata
                predates its entry point.

        Returns:
            All failures recorded so far (also in :attr:`failures`).
        """
        if entry_points:
            seen: set[str] = set()
            for ep in importlib.metadata.entry_points(group=PROJECT):
                if ep.name in seen:
                    continue
                seen.add(ep.name)
                if not self._permitted(ep.name):
                    self._blocked.append(ep.name)
                    continue
                if self._pm.has_plugin(ep.name):
                    continue
                try:
                    plugin = ep.load()
                except Exception as exc:
                    self._fail(ep.name, "import", exc)
                    continue
                if self.register(plugin, ep.name) and ep.dist is not None:
                    self._dists[ep.name] = (ep.dist.name, ep.dist.version)
        if builtin and self._permitted(BUILTIN) and not self._pm.has_plugin(BUILTIN):
            try:
                module = importlib.import_module(_BUILTIN_MODULE)
            except Exception as exc:
                self._fail(BUILTIN, "import", exc)
            else:
                if self.register(module, BUILTIN):
                    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
                        self._dists[BUILTIN] = (PROJECT, importlib.metadata.version(PROJECT))
        for item in extra:
            if isinstance(item, tuple):
                self.register(item[1], item[0])
            else:
                self.register(item)
        self.check_pending()
        return list(self._failures)

    def check_pending(self) -> None:
        """Unregister (and report) every plugin with a hook that matches no hookspec."""
        while True:
            try:
                self._pm.check_pending()
            except pluggy.PluginValidationError as exc:
                name = self._pm.get_name(exc.plugin) or repr(exc.plugin)
                self._fail(name, "validate", exc)
                self._pm.unregister(exc.plugin)
                self._invalidate()
                continue
            return

    def _invalidate(self) -> None:
        self._sources = None
        self._notifiers = None

    # ---------------------------------------------------------------- introspection

    @property
    def failures(self) -> list[PluginFailure]:
        """Every contained plugin failure, in order."""
        return list(self._failures)

    def list_plugins(self) -> list[PluginInfo]:
        """Loaded, failed and blocked plugins, sorted by name."""
        rows: dict[str, PluginInfo] = {}
        for name, plugin in self._pm.list_name_plugin():
            if plugin is None:
                continue
            callers = self._pm.get_hookcallers(plugin) or []
            dist, version = self._dists.get(name, (None, None))
            module = getattr(plugin, "__name__", None) or type(plugin).__qualname__
            rows[name] = PluginInfo(
                name, "loaded", module, dist, version, tuple(sorted(c.name for c in callers))
            )
        for failure in self._failures:
            row = rows.get(failure.plugin)
            if row is None or failure.stage in {"import", "register", "validate"}:
                rows[failure.plugin] = PluginInfo(failure.plugin, "failed", error=failure.error)
            else:  # loaded, but a hook raised: keep it listed as loaded, with the error
                text = f"{failure.stage}: {failure.error}"
                error = f"{row.error}; {text}" if row.error else text
                rows[failure.plugin] = attrs.evolve(row, error=error)
        for name in self._blocked:
            rows.setdefault(name, PluginInfo(name, "blocked"))
        return [rows[k] for k in sorted(rows)]

    # ---------------------------------------------------------------- calling hooks

    def _impls(self, hook: str) -> list[Any]:
        caller = getattr(self._pm.hook, hook)
        impls = [i for i in caller.get_hookimpls() if not (i.wrapper or i.hookwrapper)]
        return list(reversed(impls))  # pluggy's own call order: last registered / tryfirst first

    def _call_each(self, hook: str, kwargs: Mapping[str, object]) -> list[tuple[str, object]]:
        results: list[tuple[str, object]] = []
        for impl in self._impls(hook):
            args = {name: kwargs[name] for name in impl.argnames}
            try:
                results.append((impl.plugin_name, impl.function(**args)))
            except Exception as exc:
                self._fail(impl.plugin_name, f"hook:{hook}", exc)
        return results

    def _build(self, hook: str, registry: Registry[Any]) -> None:
        for impl in self._impls(hook):
            try:
                with registry.scope(impl.plugin_name):
                    impl.function(**dict.fromkeys(impl.argnames, registry))
            except Exception as exc:
                self._fail(impl.plugin_name, f"hook:{hook}", exc)
        registry.freeze()

    @property
    def sources(self) -> SourceRegistry:
        """The source registry, built on first access from ``perfcore_register_sources`` and
        frozen (rebuilt if plugins are registered later)."""
        if self._sources is None:
            registry = SourceRegistry()
            self._build("perfcore_register_sources", registry)
            self._sources = registry
        return self._sources

    @property
    def notifiers(self) -> NotifierRegistry:
        """The notifier registry, built on first access from ``perfcore_register_notifiers`` and
        frozen (rebuilt if plugins are registered later)."""
        if self._notifiers is None:
            registry = NotifierRegistry()
            self._build("perfcore_register_notifiers", registry)
            self._notifiers = registry
        return self._notifiers

    def before_sync(self, source_name: str, stream: str) -> None:
        """Call ``perfcore_before_sync`` on every plugin (failures contained)."""
        self._call_each("perfcore_before_sync", {"source_name": source_name, "stream": stream})

    def after_sync(self, source_name: str, stream: str, stats: SyncStats) -> None:
        """Call ``perfcore_after_sync`` on every plugin (failures contained)."""
        self._call_each(
            "perfcore_after_sync", {"source_name": source_name, "stream": stream, "stats": stats}
        )

    def on_sync_error(self, source_name: str, stream: str, error: BaseException) -> None:
        """Call ``perfcore_on_sync_error`` on every plugin (failures contained)."""
        self._call_each(
            "perfcore_on_sync_error",
            {"source_name": source_name, "stream": stream, "error": error},
        )

    def resolve_identity(self, system: str, external_id: str) -> SubjectRef | None:
        """First non-``None`` answer of ``perfcore_resolve_identity``, else ``None``.

        A plugin answering something other than a ``SubjectRef`` is reported and skipped.
        """
        for impl in self._impls("perfcore_resolve_identity"):
            args = {"system": system, "external_id": external_id}
            try:
                answer = impl.function(**{n: args[n] for n in impl.argnames})
            except Exception as exc:
                self._fail(impl.plugin_name, "hook:perfcore_resolve_identity", exc)
                continue
            if answer is None:
                continue
            if isinstance(answer, SubjectRef):
                return answer
            self._fail(
                impl.plugin_name,
                "hook:perfcore_resolve_identity",
                TypeError(f"expected SubjectRef or None, got {type(answer).__name__}"),
            )
        return None
