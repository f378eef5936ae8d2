"""perfcore_adapters.sqlalchemy."""
