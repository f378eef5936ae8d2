"""perfcore's plugin system (pluggy project, marker and entry-point group ``perfcore``).

Plugin authors need only :data:`hookimpl`::

    from perfcore.plugins import hookimpl

    @hookimpl
    def perfcore_register_sources(registry):
        registry.add("acme", AcmeSource, AcmeConfig)

and an entry point in their ``pyproject.toml``::

    [project.entry-points.perfcore]
    acme = "perfcore_mes_acme"

Hosts use :class:`perfcore.plugins.manager.PluginHost`. Nothing is loaded at import.
"""

from perfcore.plugins.hookspecs import PROJECT, hookimpl

__all__ = ["PROJECT", "hookimpl"]
