"""Hook specifications of perfcore (pluggy project ``"perfcore"``).

Every hook is public API under semantic versioning. Adding a parameter is a minor change
(pluggy lets implementations ask for a subset of the arguments); renames and removals go through a
deprecation release first. Implement hooks with :data:`perfcore.plugins.hookimpl`.

Plugins are found through the entry-point group ``perfcore``::

    [project.entry-points.perfcore]
    mes_acme = "perfcore_mes_acme"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from perfcore.domain.values import SubjectRef
    from perfcore.plugins.registry import NotifierRegistry, SourceRegistry
    from perfcore.plugins.sync import SyncStats

__all__ = ["PROJECT", "hookimpl"]

PROJECT = "perfcore"
"""pluggy project name, marker name and entry-point group."""

_spec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Marker for hook implementations: ``@hookimpl`` above ``def perfcore_...``."""


# --------------------------------------------------------------------------------------------
# Registration hooks (called once per plugin manager, when registries are first built)
# --------------------------------------------------------------------------------------------


@_spec
def perfcore_register_sources(registry: SourceRegistry) -> None:
    """Register evidence-source kinds.

    Called once, when the host first asks for the source registry. Call
    ``registry.add(kind, factory, config_cls)`` for each kind the plugin provides.

    :param registry: the :class:`~perfcore.plugins.registry.SourceRegistry` being built.
    :returns: nothing; a raised exception drops this plugin's registrations and is reported.

    .. versionadded:: 0.1
    """


@_spec
def perfcore_register_notifiers(registry: NotifierRegistry) -> None:
    """Register notification-channel kinds.

    Called once, when the host first asks for the notifier registry. Call
    ``registry.add(kind, factory, config_cls)`` for each channel the plugin provides.

    :param registry: the :class:`~perfcore.plugins.registry.NotifierRegistry` being built.
    :returns: nothing; a raised exception drops this plugin's registrations and is reported.

    .. versionadded:: 0.1
    """


# --------------------------------------------------------------------------------------------
# Sync lifecycle (before / after / on error, called by perfcore.plugins.sync.run_sync)
# --------------------------------------------------------------------------------------------


@_spec
def perfcore_before_sync(source_name: str, stream: str) -> None:
    """Called before a stream of a configured source is read.

    :param source_name: the configured source instance name from the plan.
    :param stream: the stream about to be read.
    :returns: nothing. An exception is logged and reported; it does not stop the sync.

    .. versionadded:: 0.1
    """


@_spec
def perfcore_after_sync(source_name: str, stream: str, stats: SyncStats) -> None:
    """Called after a stream was read and every batch was committed.

    :param source_name: the configured source instance name.
    :param stream: the stream that was read.
    :param stats: :class:`~perfcore.plugins.sync.SyncStats` (records, batches, rejections).
    :returns: nothing. An exception is logged and reported.

    .. versionadded:: 0.1
    """


@_spec
def perfcore_on_sync_error(source_name: str, stream: str, error: BaseException) -> None:
    """Called when reading or committing a stream failed; the bookmark stays where it was.

    :param source_name: the configured source instance name.
    :param stream: the stream whose sync failed.
    :param error: the exception that ended the sync.
    :returns: nothing. An exception is logged and reported.

    .. versionadded:: 0.1
    """


# --------------------------------------------------------------------------------------------
# Questions only one plugin answers
# --------------------------------------------------------------------------------------------


@_spec(firstresult=True)
def perfcore_resolve_identity(system: str, external_id: str) -> SubjectRef | None:
    """Map a person's id in an external system (HRIS, MES badge, CRM owner) to a subject.

    Stops at first non-None result.

    :param system: the external system name (``"workday"``, ``"mes:plant1"``).
    :param external_id: the id in that system.
    :returns: a :class:`~perfcore.domain.values.SubjectRef`, or ``None`` if this plugin does
        not know the id.

    .. versionadded:: 0.1
    """
