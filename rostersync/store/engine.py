"""Opening the store and migrating it.

* :func:`create_engine_for` builds an engine from a URL: SQLite (a file; WAL,
  foreign keys, a busy timeout, ``synchronous=NORMAL`` set on every
  connection) or PostgreSQL (``postgresql+psycopg://``; ``postgresql://`` and
  ``postgres://`` are read as psycopg). JSON columns use orjson.
* :func:`begin_write` opens a write transaction. On SQLite it is
  ``BEGIN IMMEDIATE``, which waits for the write lock up front instead of
  failing half-way when another process wrote meanwhile; use it for every
  transaction that writes. Reads use ``engine.connect()``/``engine.begin()``.
  ``begin_write(engine, foreign_keys=False)`` is for transactions that only
  delete child rows (emptying staged tables): SQLite then empties a table
  whole instead of row by row. ``begin_write(engine, checkpoint=False)``
  commits without SQLite's automatic WAL checkpoint; :func:`checkpoint_wal`
  runs one (passive: it never blocks readers or the writer), so a sync can
  copy what it staged into the database file while it applies, on the other
  core, instead of before it.
* :func:`migrate` upgrades the schema to the newest revision, in code: the
  Alembic configuration is built here, so it works from an installed package.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import orjson
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from .errors import StoreError

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 60_000
SQLITE_PRAGMAS = (  # on every SQLite connection (the staging writer process's too)
    # New files get 16 KiB pages (SQLite's default is 4 KiB): a full sync's apply and its
    # checkpoint cost about a third less. It must come before journal_mode; an existing
    # file keeps the page size it was made with.
    "PRAGMA page_size=16384",
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    "PRAGMA synchronous=NORMAL",
    # Deleted rows are zeroed where that costs no extra I/O (Debian's SQLite zeroes
    # every deleted byte by default, which doubles the cost of emptying staged tables).
    "PRAGMA secure_delete=FAST",
)
SQLITE_AUTOCHECKPOINT_PAGES = 1000  # SQLite's default: checkpoint at a commit once the WAL holds this many pages
_IMMEDIATE = "rostersync_immediate"
_NO_FOREIGN_KEYS = "rostersync_no_foreign_keys"
_NO_CHECKPOINT = "rostersync_no_checkpoint"


def _json_dumps(value: object) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def normalize_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` become ``postgresql+psycopg://``; others are kept."""
    text = url.strip()
    for prefix in ("postgres://", "postgresql://"):
        if text.startswith(prefix):
            return "postgresql+psycopg://" + text[len(prefix):]
    return text


def create_engine_for(url: str, **kwargs) -> Engine:
    """An engine for the store at ``url`` (see the module docstring for what it sets up)."""
    try:
        parsed = make_url(normalize_url(url))
    except Exception as exc:  # sqlalchemy.exc.ArgumentError
        raise StoreError(
            "the database URL is not a valid SQLAlchemy URL",
            fix="Use sqlite:///path/to/rostersync.db or postgresql+psycopg://user@host/dbname.",
        ) from exc
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise StoreError(
            f"the database URL uses {backend!r}; rostersync stores in SQLite or PostgreSQL",
            fix="Use sqlite:///path/to/rostersync.db or postgresql+psycopg://user@host/dbname.",
        )
    # hide_parameters: SQL errors and logs never echo bound values (roster payloads, secrets)
    options = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads, "hide_parameters": True}
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        options["pool_pre_ping"] = True
        options.update(kwargs)
        return create_engine(parsed, **options)
    database = parsed.database or ""
    if database in ("", ":memory:"):
        # one in-memory database shared by every thread (tests, throwaway demos)
        options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    elif not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    options.update(kwargs)
    engine = create_engine(parsed, **options)
    _setup_sqlite(engine)
    return engine


def _setup_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN instead of pysqlite's
        # implicit transactions, so reads are snapshots and writes can be IMMEDIATE.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        foreign_keys = not options.get(_NO_FOREIGN_KEYS, False)
        info = conn.connection.info  # lives as long as the DBAPI connection
        if info.get("foreign_keys", True) != foreign_keys:  # only settable outside a transaction
            conn.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            info["foreign_keys"] = foreign_keys
        checkpoint = not options.get(_NO_CHECKPOINT, False)
        if info.get("checkpoint", True) != checkpoint:
            pages = SQLITE_AUTOCHECKPOINT_PAGES if checkpoint else 0
            conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={pages}")
            info["checkpoint"] = checkpoint
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_IMMEDIATE, False) else "BEGIN")

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_conn, record) -> None:
        # back in the pool: as every connection is
        restore = [(key, pragma) for key, pragma in (
            ("foreign_keys", "PRAGMA foreign_keys=ON"),
            ("checkpoint", f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}"),
        ) if record.info.get(key, True) is False]
        if not restore:
            return
        cursor = dbapi_conn.cursor()
        try:
            for key, pragma in restore:
                cursor.execute(pragma)
                record.info[key] = True
        finally:
            cursor.close()


@contextlib.contextmanager
def begin_write(engine: Engine, *, foreign_keys: bool = True, checkpoint: bool = True) -> Iterator[Connection]:
    """A transaction that writes: committed when the block ends, rolled back on an exception.

    ``foreign_keys=False`` (SQLite) turns foreign key enforcement off for the
    transaction: only for deleting rows that nothing refers to.
    ``checkpoint=False`` (SQLite) leaves the WAL as it is at the commit: for a
    caller that runs :func:`checkpoint_wal` next, or soon after."""
    options = {_IMMEDIATE: True}
    if not foreign_keys:
        options[_NO_FOREIGN_KEYS] = True
    if not checkpoint:
        options[_NO_CHECKPOINT] = True
    with engine.execution_options(**options).begin() as conn:
        yield conn


def checkpoint_wal(engine: Engine) -> bool:
    """Copy what is committed in a SQLite file store's WAL into the database file, without
    waiting for readers or the writer (a passive checkpoint). True when it ran; False for
    PostgreSQL, an in-memory store, or when another checkpoint was running."""
    if engine.dialect.name != "sqlite" or shares_one_connection(engine):
        return False
    raw = engine.raw_connection()  # outside any transaction: a checkpoint is not one
    try:
        cursor = raw.cursor()
        try:
            busy = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[0]
        finally:
            cursor.close()
    finally:
        raw.close()
    return not busy


def shares_one_connection(engine: Engine) -> bool:
    """True for an in-memory SQLite store: one connection, which threads must not use at once."""
    return engine.dialect.name == "sqlite" and (engine.url.database or "") in ("", ":memory:")


def sqlite_path(engine: Engine) -> Path | None:
    """The database file of a SQLite engine (None for PostgreSQL or an in-memory database)."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser().resolve()


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for the store's migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the store's schema up to ``revision`` (the newest by default)."""
    with begin_write(engine) as conn:
        command.upgrade(alembic_config(conn), revision)


def current_revision(engine: Engine) -> str | None:
    """The schema revision the store is at (None for an empty database)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest schema revision this version of rostersync knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def needs_migration(engine: Engine) -> bool:
    """True when the store's schema is older than this version of rostersync."""
    return current_revision(engine) != head_revision()
