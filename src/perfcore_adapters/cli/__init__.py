"""perfcore_adapters.cli."""
