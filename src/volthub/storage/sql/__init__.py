"""SQLAlchemy (async) implementation of the storage interface for SQLite and PostgreSQL."""
