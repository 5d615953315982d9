"""Migrating an empty database gives exactly the tables of the metadata, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from rostersync.store import create_engine_for, current_revision, head_revision, metadata, migrate, needs_migration
from rostersync.store.errors import StoreError


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nested' / 'fresh.db'}"
    return request.getfixturevalue("empty_pg_url")


def test_migrating_an_empty_database_gives_exactly_the_metadata(empty_url):
    engine = create_engine_for(empty_url)
    try:
        assert needs_migration(engine)
        migrate(engine)
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
            tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
        assert diffs == []
        assert tables == set(metadata.tables)
        assert current_revision(engine) == head_revision()
        assert not needs_migration(engine)
        migrate(engine)  # a second upgrade is a no-op
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_sqlite_store_runs_in_wal_mode_with_foreign_keys(tmp_path):
    engine = create_engine_for(f"sqlite:///{tmp_path / 'wal.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    finally:
        engine.dispose()


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_an_unsupported_database_url_is_refused_with_a_fix(url):
    with pytest.raises(StoreError) as info:
        create_engine_for(url)
    assert info.value.fix and "sqlite:///" in info.value.fix
