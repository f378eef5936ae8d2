"""perfcore.plugins."""
