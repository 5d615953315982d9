"""Alembic migrations of the store (run in code by :func:`rostersync.store.migrate`)."""
