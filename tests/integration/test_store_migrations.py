"""Migrating an empty database gives exactly the tables of the metadata, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from rostersync.store import create_engine_for, current_revision, head_revision, metadata, migrate, needs_migration
from rostersync.store.engine import SQLITE_AUTOCHECKPOINT_PAGES, begin_write, checkpoint_wal
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


def test_a_new_sqlite_store_uses_16_kib_pages_and_an_existing_one_keeps_its_own(tmp_path):
    engine = create_engine_for(f"sqlite:///{tmp_path / 'new.db'}")
    old = tmp_path / "old.db"
    made = sqlite3.connect(old)  # as an earlier rostersync made it: 4 KiB pages, already in WAL mode
    made.execute("PRAGMA page_size=4096")
    made.execute("PRAGMA journal_mode=WAL")
    made.execute("CREATE TABLE kept (x)")
    made.close()
    existing = create_engine_for(f"sqlite:///{old}")
    try:
        migrate(engine)
        migrate(existing)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 16384
        with existing.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA page_size").scalar() == 4096
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()
        existing.dispose()


def test_a_write_without_checkpoint_leaves_the_wal_to_checkpoint_wal(tmp_path):
    path = tmp_path / "wal.db"
    engine = create_engine_for(f"sqlite:///{path}", pool_size=1, max_overflow=0)
    try:
        migrate(engine)
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE filler (x BLOB)")
        rows = [(b"x" * 2000,) for _ in range(20_000)]  # about 40 MB: far over the 1000-page autocheckpoint
        with begin_write(engine, checkpoint=False) as conn:
            conn.exec_driver_sql("INSERT INTO filler VALUES (?)", rows)
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        size = path.stat().st_size
        assert size < 10_000_000  # the pages are still in the WAL only
        with engine.connect() as conn:  # back in the pool, the connection checkpoints as usual again
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == SQLITE_AUTOCHECKPOINT_PAGES
        assert checkpoint_wal(engine) is True
        assert path.stat().st_size > 40_000_000  # copied into the database file
        with begin_write(engine) as conn:  # an ordinary write checkpoints at its commit
            conn.exec_driver_sql("INSERT INTO filler VALUES (?)", rows)
        assert path.stat().st_size > 80_000_000
    finally:
        engine.dispose()


def test_checkpoint_wal_does_nothing_where_there_is_no_wal(tmp_path):
    memory = create_engine_for("sqlite://")
    try:
        assert checkpoint_wal(memory) is False
    finally:
        memory.dispose()


@pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
def test_an_unsupported_database_url_is_refused_with_a_fix(url):
    with pytest.raises(StoreError) as info:
        create_engine_for(url)
    assert info.value.fix and "sqlite:///" in info.value.fix
