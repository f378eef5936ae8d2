"""perfcore.formula."""
