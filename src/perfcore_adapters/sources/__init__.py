"""perfcore_adapters.sources."""
