"""Fixtures shared by every test directory.

PostgreSQL: the local server (``ROSTERSYNC_TEST_PG_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``). ``pg_template`` is a
migrated template database made once per session; ``pg_url`` is a fresh
database cloned from it for one test and dropped afterwards (clones are made
ahead and dropped on a background thread); ``empty_pg_url`` is an empty one. When the server is
unreachable, PostgreSQL tests fail under CI (``CI=true``) and are skipped
elsewhere. Mark such tests ``@pytest.mark.postgres``.

Logging: a command run in-process (``CliRunner``) calls
:func:`rostersync.log.configure_logging`, which changes the process-wide root
logger: a handler on the ``sys.stderr`` of that moment (the runner's, closed
when the command returns) and a level (``INFO`` for ``serve``). ``_isolated_logging``
undoes both after every test, so one test's command cannot write "Logging
error" tracebacks into a later test's output.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from sqlalchemy.engine import make_url

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

# The loggers whose level configure_logging sets ("" is the root logger).
_CONFIGURED_LOGGERS = ("", "httpx", "httpcore")


@pytest.fixture(autouse=True)
def _isolated_logging() -> Iterator[None]:
    """Put the logging that configure_logging changes back as it was before the test."""
    levels = {name: logging.getLogger(name).level for name in _CONFIGURED_LOGGERS}
    yield
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_rostersync", False):  # configure_logging's mark on its handler
            root.removeHandler(handler)
            handler.close()
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


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


class _Databases:
    """Clones of the template made ahead of need, and dropped after use, on a background thread,
    so creating and dropping databases overlaps with running the tests."""

    def __init__(self, server_url: str, template: str, ahead: int = 2) -> None:
        self.server_url, self.template = server_url, template
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pg-databases")
        self.ready: deque[Future[str]] = deque(self.pool.submit(self._create) for _ in range(ahead))

    def _create(self) -> str:
        name = f"rs_test_{uuid.uuid4().hex[:12]}"
        _admin_execute(self.server_url, f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return name

    def drop(self, name: str) -> None:
        self.pool.submit(_admin_execute, self.server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def take(self) -> str:
        future = self.ready.popleft()
        self.ready.append(self.pool.submit(self._create))
        return future.result()

    def close(self) -> None:
        for future in self.ready:
            self.drop(future.result())
        self.pool.shutdown(wait=True)


@pytest.fixture(scope="session")
def pg_databases(pg_server: str, pg_template: str) -> Iterator[_Databases]:
    databases = _Databases(pg_server, pg_template)
    try:
        yield databases
    finally:
        databases.close()


@pytest.fixture
def pg_url(pg_server: str, pg_databases: _Databases) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test."""
    name = pg_databases.take()
    try:
        yield _database_url(pg_server, name)
    finally:
        pg_databases.drop(name)


@pytest.fixture
def empty_pg_url(pg_server: str, pg_databases: _Databases) -> Iterator[str]:
    """A fresh, empty (not migrated) PostgreSQL database for one test."""
    name = f"rs_empty_{uuid.uuid4().hex[:12]}"
    _admin_execute(pg_server, f'CREATE DATABASE "{name}"')
    try:
        yield _database_url(pg_server, name)
    finally:
        pg_databases.drop(name)
