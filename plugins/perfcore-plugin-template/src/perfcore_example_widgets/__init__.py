"""perfcore plugin for the Widgets system: registers the ``widgets`` source kind."""

from __future__ import annotations

from typing import TYPE_CHECKING

from perfcore.plugins import hookimpl

if TYPE_CHECKING:
    from perfcore.plugins.registry import SourceRegistry

__all__ = ["__version__", "perfcore_register_sources"]
__version__ = "0.1.0"


@hookimpl
def perfcore_register_sources(registry: SourceRegistry) -> None:
    """Register the ``widgets`` source kind (imports stay inside the hook: loading is cheap)."""
    from perfcore_example_widgets.source import WidgetsConfig, WidgetsSource

    registry.add("widgets", WidgetsSource, WidgetsConfig)
