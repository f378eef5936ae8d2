"""perfcore-mes-opcua: an OPC UA machine-data source for perfcore.

Registers the source kind ``opcua`` through the ``perfcore`` entry point::

    [project.entry-points.perfcore]
    mes_opcua = "perfcore_mes_opcua"
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from perfcore.plugins import hookimpl

if TYPE_CHECKING:
    from perfcore.plugins.registry import SourceRegistry

__all__ = ["__version__", "perfcore_register_sources"]
__version__ = "0.1.0"


@hookimpl
def perfcore_register_sources(registry: SourceRegistry) -> None:
    """Register the ``opcua`` source kind."""
    from perfcore_mes_opcua.source import OpcUaConfig, OpcUaSource

    registry.add("opcua", OpcUaSource, OpcUaConfig)
