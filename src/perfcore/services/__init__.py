"""perfcore.services."""
