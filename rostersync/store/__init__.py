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
:mod:`.staging` and :mod:`.apply` (used by the sync engine),
:mod:`.dashboard` (what the dashboard shows about runs),
:mod:`.schedule_tables` (the scheduler), :mod:`.web_tables` (the web server's
tables) and their queries: :mod:`.staff` (accounts, sessions, logins),
:mod:`.districts` (districts, intake links), :mod:`.activity` (audit log,
notifications) and :mod:`.webhooks`.

Besides what this package exports, for listings over many connections and
the dashboard::

    from rostersync.store.roster import count_records_by_connection, school_classes, schools
    from rostersync.store.dashboard import latest_runs, staged_changes, syncing_connection_ids

    with engine.connect() as db:
        counts = count_records_by_connection(db=db)       # {connection_id: {Kind: live records}}
        for school, n_classes in schools(db=db, connection_id=conn.id):
            classes = school_classes(db=db, connection_id=conn.id, school_sourced_id=school.sourced_id)
        newest = latest_runs(db=db)                       # {connection_id: its newest StoredRun}
        busy = syncing_connection_ids(db=db)              # connections with a run in progress
        diff = staged_changes(db=db, run_id=held.id, connection_id=held.connection_id)

``list_connection_labels`` (:mod:`.connections`) lists every connection's
name, display name and time zone without reading settings or secrets;
``select_runs`` and ``run_from_row`` (:mod:`.runs`) are the runs query and its
row reader, for store modules that filter runs their own way.
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
