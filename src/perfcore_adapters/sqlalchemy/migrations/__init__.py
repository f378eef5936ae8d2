"""Alembic migrations of the perfcore store (``script_location`` of
:mod:`perfcore_adapters.sqlalchemy.migrate`)."""
