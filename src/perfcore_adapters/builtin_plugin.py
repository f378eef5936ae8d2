"""perfcore's built-in adapters, registered through the same hooks as any third-party plugin.

Entry point (``pyproject.toml``)::

    [project.entry-points.perfcore]
    builtin = "perfcore_adapters.builtin_plugin"

Adapter modules are imported inside the hooks, so loading this plugin costs nothing until a
registry is built.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from perfcore.plugins import hookimpl

if TYPE_CHECKING:
    from perfcore.plugins.registry import NotifierRegistry, SourceRegistry

__all__ = ["perfcore_register_notifiers", "perfcore_register_sources"]


@hookimpl
def perfcore_register_sources(registry: SourceRegistry) -> None:
    """Register ``csv``, ``excel``, ``rest`` and ``sql``."""
    from perfcore_adapters.sources.files import CsvConfig, CsvSource, ExcelConfig, ExcelSource
    from perfcore_adapters.sources.rest import RestConfig, RestSource
    from perfcore_adapters.sources.sql import SqlConfig, SqlSource

    registry.add("csv", CsvSource, CsvConfig)
    registry.add("excel", ExcelSource, ExcelConfig)
    registry.add("rest", RestSource, RestConfig)
    registry.add("sql", SqlSource, SqlConfig)


@hookimpl
def perfcore_register_notifiers(registry: NotifierRegistry) -> None:
    """Register the built-in notification channels.

    ---- NOTIFIERS GO HERE ----
    The channels live in ``perfcore_adapters.notifiers``; when that package defines
    ``register(registry: NotifierRegistry) -> None`` it is called here. Until then nothing is
    registered.
    """
    module = importlib.import_module("perfcore_adapters.notifiers")
    register = getattr(module, "register", None)
    if callable(register):
        register(registry)
