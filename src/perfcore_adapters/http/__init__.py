"""perfcore_adapters.http."""
