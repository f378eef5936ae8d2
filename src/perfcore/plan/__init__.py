"""perfcore.plan."""
