"""Persistence adapter: SQLAlchemy 2 async tables, repositories, unit of work and migrations."""
