"""perfcore.testing."""
