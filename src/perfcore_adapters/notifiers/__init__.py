"""perfcore_adapters.notifiers."""
