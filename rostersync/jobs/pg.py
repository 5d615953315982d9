"""procrastinate's side of PostgreSQL: where its tables live and how they get there.

procrastinate's tables, types and functions live in their own PostgreSQL
schema, ``procrastinate``, next to the store's tables in ``public``. Alembic
only compares the default schema, so the queue never shows up in (or gets
dropped by) the store's migrations; procrastinate's own schema manager
creates it, once, under an advisory lock so that several workers starting
together do not race.
"""

from __future__ import annotations

import logging

import psycopg
from procrastinate import PsycopgConnector
from procrastinate.schema import SchemaManager
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ..errors import ConfigError

log = logging.getLogger(__name__)

JOB_SCHEMA = "procrastinate"
_SCHEMA_LOCK = 0x526F737465725379  # pg_advisory_lock key: "RosterSy"


def conninfo_from_url(database_url: str) -> str:
    """A libpq connection string for procrastinate from the store's SQLAlchemy URL."""
    try:
        url = make_url(database_url)
    except ArgumentError:
        raise ConfigError(
            "the database URL is not a valid URL",
            fix="Set ROSTERSYNC_DATABASE_URL to postgresql+psycopg://user@host:5432/dbname.",
        ) from None
    if url.get_backend_name() != "postgresql":
        raise ConfigError(
            f"queued syncs need PostgreSQL, but the store is {url.get_backend_name()}",
            fix=(
                "Point ROSTERSYNC_DATABASE_URL at PostgreSQL to run workers, or use "
                "`rostersync serve`, which runs the schedules in-process on SQLite."
            ),
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def build_connector(conninfo: str, *, max_size: int = 4) -> PsycopgConnector:
    """An async psycopg connector whose sessions see only procrastinate's schema."""
    return PsycopgConnector(
        conninfo=conninfo,
        min_size=1,
        max_size=max_size,
        kwargs={"options": f"-c search_path={JOB_SCHEMA}"},
    )


def job_schema_exists(conninfo: str) -> bool:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        row = conn.execute("SELECT to_regclass(%s)", (f"{JOB_SCHEMA}.procrastinate_jobs",)).fetchone()
        return row is not None and row[0] is not None


def ensure_job_schema(conninfo: str) -> bool:
    """Create procrastinate's schema unless it exists; True when it was created now."""
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK,))
        try:
            row = conn.execute(
                "SELECT to_regclass(%s)", (f"{JOB_SCHEMA}.procrastinate_jobs",)
            ).fetchone()
            if row is not None and row[0] is not None:
                return False
            with conn.transaction():
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{JOB_SCHEMA}"')
                conn.execute(f'SET LOCAL search_path TO "{JOB_SCHEMA}"')
                conn.execute(SchemaManager.get_schema())  # type: ignore[arg-type]
            log.info("created the job queue's tables in schema %s", JOB_SCHEMA)
            return True
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK,))
