"""perfcore.ports."""
