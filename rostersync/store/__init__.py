"""The store: the only code that writes SQL.

SQLAlchemy 2 Core on SQLite (WAL; the default, ``sqlite:///./rostersync.db``)
or PostgreSQL (``postgresql+psycopg://...``). The tables are described for app
developers in docs/store.md.

Opening and migrating::

    engine = create_engine_for(settings.database_url)
    migrate(engine)                      # alembic upgrade head, in code

Store functions take the database connection ``db`` keyword-only and never
commit; the caller owns the transaction. Write with ``begin_write(engine)``
(``BEGIN IMMEDIATE`` on SQLite), read with ``engine.connect()``::

    with begin_write(engine) as db:
        add_connection(db=db, vault=vault, name="springfield",
                       settings=spec.to_dict(), secrets=spec.secrets(),
                       version=spec.resolved_version.value, profile=spec.profile,
                       timezone=spec.timezone)
    with engine.connect() as db:
        conn = get_connection(db=db, name="springfield")
        schools = records(db=db, connection_id=conn.id, kind=Kind.ORG, where={"type": "school"})
        feed = changes(db=db, connection_id=conn.id, after_id=last_seen)

Modules: :mod:`.engine` (engines, migrations), :mod:`.tables` (schema),
:mod:`.connections`, :mod:`.runs`, :mod:`.roster` (queries), :mod:`.feed`
(change feed), :mod:`.checkpoints`, :mod:`.locks` (one sync per connection),
:mod:`.staging` and :mod:`.apply` (used by the sync engine).
"""

from .checkpoints import get_checkpoints
from .connections import (
    StoredConnection,
    add_connection,
    get_connection,
    get_connection_by_id,
    list_connections,
    remove_connection,
    update_connection,
)
from .engine import begin_write, create_engine_for, current_revision, head_revision, migrate, needs_migration
from .errors import ConnectionExists, ConnectionNotFound, RunNotFound, StoreError, SyncAlreadyRunning
from .feed import Change, changes
from .locks import sync_lock
from .roster import (
    RosterEntry,
    StoredRecord,
    class_roster,
    count_records,
    get_record,
    iter_records,
    person_classes,
    records,
    search,
)
from .runs import StoredRun, get_run, list_runs
from .schema import metadata

__all__ = [
    "Change", "ConnectionExists", "ConnectionNotFound", "RosterEntry", "RunNotFound", "StoreError",
    "StoredConnection", "StoredRecord", "StoredRun", "SyncAlreadyRunning", "add_connection",
    "begin_write", "changes", "class_roster", "count_records", "create_engine_for", "current_revision",
    "get_checkpoints", "get_connection", "get_connection_by_id", "get_record", "get_run", "head_revision",
    "iter_records", "list_connections", "list_runs", "metadata", "migrate", "needs_migration",
    "person_classes", "records", "remove_connection", "search", "sync_lock", "update_connection",
]
