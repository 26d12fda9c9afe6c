"""Alembic migrations for the Breastscan schema (see adapters/persistence/migrate.py)."""
