"""Fixtures shared by every test directory.

PostgreSQL: the local server (``ROSTERSYNC_TEST_PG_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``). ``pg_template`` is a
migrated template database made once per session; ``pg_url`` is a fresh
database cloned from it for one test and dropped afterwards. When the server is
unreachable, PostgreSQL tests fail under CI (``CI=true``) and are skipped
elsewhere. Mark such tests ``@pytest.mark.postgres``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import make_url

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def _admin_dsn(url: str) -> str:
    """A libpq DSN (psycopg) for a SQLAlchemy URL."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def _admin_execute(server_url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(_admin_dsn(server_url), autocommit=True, connect_timeout=5) as conn:
        for statement in statements:
            conn.execute(statement)


def _database_url(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The URL of the PostgreSQL server's maintenance database (fails under CI when unreachable)."""
    import psycopg

    url = os.environ.get("ROSTERSYNC_TEST_PG_URL", PG_DEFAULT)
    try:
        with psycopg.connect(_admin_dsn(url), connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL is not reachable at {make_url(url).render_as_string()}: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> Iterator[str]:
    """The name of a migrated template database, made once per test session."""
    from rostersync.store import create_engine_for, migrate

    name = f"rs_tmpl_{uuid.uuid4().hex[:12]}"
    _admin_execute(pg_server, f'CREATE DATABASE "{name}"')
    try:
        engine = create_engine_for(_database_url(pg_server, name))
        try:
            migrate(engine)
        finally:
            engine.dispose()
        yield name
    finally:
        _admin_execute(pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_dropper(pg_server: str) -> Iterator[Callable[[str], None]]:
    """Drops test databases in the background (the session waits for them at the end)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-dropper") as pool:
        yield lambda name: pool.submit(_admin_execute, pg_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_server: str, pg_template: str, pg_dropper) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test."""
    name = f"rs_test_{uuid.uuid4().hex[:12]}"
    _admin_execute(pg_server, f'CREATE DATABASE "{name}" TEMPLATE "{pg_template}"')
    try:
        yield _database_url(pg_server, name)
    finally:
        pg_dropper(name)


@pytest.fixture
def empty_pg_url(pg_server: str, pg_dropper) -> Iterator[str]:
    """A fresh, empty (not migrated) PostgreSQL database for one test."""
    name = f"rs_empty_{uuid.uuid4().hex[:12]}"
    _admin_execute(pg_server, f'CREATE DATABASE "{name}"')
    try:
        yield _database_url(pg_server, name)
    finally:
        pg_dropper(name)
