"""Staging and diffing: what a run read, compared with the store, in SQL.

A run writes every record it reads to ``staged_<kind>s`` (:func:`stage_values`,
in batches, each batch its own short transaction). A sourcedId read twice in
one run is kept once with ``dup_count``; if the copies differ (or one was
unusable) the row is marked ``skip`` and the stored copy is left alone.

Each row's ``op`` (create, update, same, delete, skip, none: :func:`diff_op`)
is set as it is staged, by comparing its content hash with the stored
record's; the sync lock keeps the roster still meanwhile. Once everything is
read, :func:`mark_absent` adds ``absent`` rows for stored records that a
complete collection of a full run did not return. The diff never leaves the
database, so memory stays flat however large the district.

Every function takes ``db`` keyword-only and never commits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    Connection,
    String,
    and_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from ..oneroster.kinds import Kind
from .tables import (
    KIND_SPECS,
    OP_ABSENT,
    OP_CREATE,
    OP_DELETE,
    OP_NONE,
    OP_SAME,
    OP_SKIP,
    OP_UPDATE,
    ROSTER_TABLES,
    STAGED_TABLES,
    Ref,
    sync_runs,
)
from .types import UTC, UTCDateTime

OP_DELETE_STATUS = "tobedeleted"  # the OneRoster status of a record the provider deleted
LIVE_OPS = (OP_CREATE, OP_UPDATE, OP_SAME)  # the record exists after the run, as staged
REMOVE_OPS = (OP_DELETE, OP_ABSENT)


def dialect_insert(db: Connection, table):
    """INSERT with ON CONFLICT support for the connection's dialect."""
    if db.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


# ---------------------------------------------------------------------------
# writing what was read


def value_columns(kind: Kind) -> tuple[str, ...]:
    """The columns of a staged row as :func:`stage_values` takes it, in order: ``sourced_id``,
    ``collection``, ``skip``, ``dup_count``, ``status``, ``date_last_modified``, the kind's
    typed columns, ``raw``, ``content_hash`` (the staged table without ``run_id`` and ``op``)."""
    return _VALUE_COLUMNS[kind]


_VALUE_COLUMNS = {kind: tuple(c.name for c in t.columns if c.name not in ("run_id", "op"))
                  for kind, t in STAGED_TABLES.items()}
JSON_VALUE_COLUMNS = {  # the typed JSON columns, whose values are JSON text
    kind: tuple(c.name for c in t.columns if isinstance(c.type, JSON) and c.name != "raw")
    for kind, t in STAGED_TABLES.items()
}
_SID, _SKIP, _DUPS, _TIME, _HASH = 0, 2, 3, 5, -1  # positions in a value tuple


def _merge(values: Sequence[tuple]) -> Sequence[tuple]:
    """Fold repeats of a sourcedId within one batch the way the ON CONFLICT clause folds across batches."""
    merged: dict[str, tuple] = {}
    for row in values:
        prev = merged.get(row[_SID])
        if prev is None:
            merged[row[_SID]] = row
            continue
        skip = prev[_SKIP] or row[_SKIP] or prev[_HASH] != row[_HASH]
        merged[row[_SID]] = (*prev[:_SKIP], skip, prev[_DUPS] + row[_DUPS], *prev[_DUPS + 1:])
    return list(merged.values())


def stage_values(
    *, db: Connection, kind: Kind, run_id: int, connection_id: int, values: Sequence[tuple],
) -> None:
    """Stage one batch of rows and classify each against the connection's stored record (see :func:`diff_op`).

    Each row is a tuple in :func:`value_columns` order: ``skip`` False and
    ``dup_count`` 1 for a record as read, ``date_last_modified`` an aware
    datetime or None, the typed JSON columns and ``raw`` as JSON text,
    ``content_hash`` (``raw`` and ``content_hash`` None for skipped rows).

    This is the hot path of a sync, so it bypasses SQLAlchemy's per-row
    processing: one INSERT ... ON CONFLICT per dialect, with values already
    in driver form; on SQLite an INSERT ... VALUES executed once per row
    (executemany), on PostgreSQL an INSERT ... SELECT once per batch over
    ``unnest`` of one array per column (repeats are folded first: one
    statement cannot upsert a row twice).
    """
    if not values:
        return
    prepared = _prepared(db.dialect, kind)
    if len({row[_SID] for row in values}) < len(values):
        values = _merge(values)
    if prepared.columnar:  # one statement, one array per column
        params = dict(zip(value_columns(kind), map(list, zip(*values))), run_id=run_id, connection_id=connection_id)
        db.exec_driver_sql(prepared.sql, params)
        return
    time = prepared.time
    params = [(run_id, *row[:_TIME], time(row[_TIME]), *row[_TIME + 1:], connection_id) for row in values]
    db.exec_driver_sql(prepared.sql, params)


def sqlite_stage_sql(dialect, kind: Kind) -> str:
    """The SQLite statement :func:`stage_values` runs once per row, for a writer that binds
    its own parameters (qmark: ``run_id``, the row's values with ``date_last_modified`` as
    SQLite text, ``connection_id``)."""
    prepared = _prepared(dialect, kind)
    assert dialect.name == "sqlite" and prepared.time is not None
    return prepared.sql


def diff_op(staged, stored):
    """SQL: the op of a staged row given the stored row of the same sourcedId (NULLs when there is none).

    skip -> ``skip``; tobedeleted -> ``delete`` if stored and live, else ``none``;
    otherwise ``create`` (new, or back after a deletion), ``same`` (equal hash) or ``update``.
    """
    stored_live = and_(stored.c.sourced_id.is_not(None), stored.c.deleted_at.is_(None))
    return case(
        (staged.c.skip, _text(OP_SKIP)),
        (staged.c.status == _text("tobedeleted"), case((stored_live, _text(OP_DELETE)), else_=_text(OP_NONE))),
        (~stored_live, _text(OP_CREATE)),
        (stored.c.content_hash == staged.c.content_hash, _text(OP_SAME)),
        else_=_text(OP_UPDATE),
    )


def _text(value: str):
    return literal_column(f"'{value}'", String)


@dataclass(frozen=True)
class _Prepared:
    sql: str
    time: Callable[[Any], Any] | None  # date_last_modified to driver form (SQLite; None for arrays)
    columnar: bool = False  # one statement per batch, one array parameter per column


_PREPARED: dict[tuple[str, str, Kind], _Prepared] = {}


def _json_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def _sqlite_time(value: Any) -> Any:
    # the text SQLAlchemy's SQLite DATETIME reads back: UTC, always 6 fraction digits
    if value is None:
        return None
    if value.tzinfo is UTC:  # the usual case: cut "+00:00" off instead of converting
        return value.isoformat(" ", "microseconds")[:26]
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _prepared(dialect, kind: Kind) -> _Prepared:
    key = (dialect.name, dialect.driver, kind)
    cached = _PREPARED.get(key)
    if cached is not None:
        return cached
    if dialect.name == "sqlite":
        prepared = _PREPARED[key] = _Prepared(_sqlite_stage_text(dialect, kind), _sqlite_time)
        return prepared
    if dialect.name != "postgresql":
        raise ValueError(f"staging does not support the {dialect.name} dialect")
    staged, stored = STAGED_TABLES[kind], ROSTER_TABLES[kind]
    columns = [c for c in staged.columns if c.name != "op"]
    assert columns[0].name == "run_id"
    assert tuple(c.name for c in columns[1:]) == value_columns(kind)
    assert columns[1 + _TIME].name == "date_last_modified" and isinstance(columns[1 + _TIME].type, UTCDateTime)

    def param(column):  # PostgreSQL needs the types of a SELECT's parameters
        return cast(bindparam(column.name, type_=column.type), column.type).label(column.name)

    arrays = func.unnest(*(cast(bindparam(c.name), postgresql.ARRAY(c.type)) for c in columns[1:]))
    rows = arrays.table_valued(*(c.name for c in columns[1:])).render_derived(name="batch")
    incoming = select(param(columns[0]), *rows.c).subquery("v")
    classified = (
        select(*(incoming.c[c.name] for c in columns), diff_op(incoming, stored))
        .select_from(incoming.outerjoin(stored, and_(stored.c.connection_id == bindparam("connection_id"),
                                                     stored.c.sourced_id == incoming.c.sourced_id)))
    )
    insert = postgresql.insert(staged).from_select([*(c.name for c in columns), "op"], classified)
    skip = or_(staged.c.skip, insert.excluded.skip,
               staged.c.content_hash.is_distinct_from(insert.excluded.content_hash))
    insert = insert.on_conflict_do_update(
        index_elements=[staged.c.run_id, staged.c.sourced_id],
        set_={"dup_count": staged.c.dup_count + insert.excluded.dup_count, "skip": skip,
              "op": case((skip, _text(OP_SKIP)), else_=staged.c.op)},
    )
    sql = insert.compile(dialect=dialect).string
    for column in columns[1:]:  # arrays go in binary: psycopg dumps big text arrays slowly
        placeholder = f"%({column.name})s"
        assert sql.count(placeholder) == 1, placeholder
        sql = sql.replace(placeholder, f"%({column.name})b")
    prepared = _PREPARED[key] = _Prepared(sql, None, columnar=True)
    return prepared


def _sqlite_stage_text(dialect, kind: Kind) -> str:
    """SQLite's staging statement: INSERT ... VALUES with numbered parameters (``?1`` is
    ``run_id``, then the :func:`value_columns`, then ``connection_id``) and the op computed
    by one lookup of the stored row: the same result as :func:`diff_op`. A VALUES insert
    costs SQLite less than the INSERT ... SELECT the other dialects run, the more so with
    large pages (5 against 8 us a row with 16 KiB pages)."""
    staged, stored = STAGED_TABLES[kind], ROSTER_TABLES[kind]
    if dialect.paramstyle != "qmark":
        raise ValueError(f"staging needs a qmark SQLite driver, not {dialect.driver}")
    quote = dialect.identifier_preparer.quote
    names = ("run_id", *value_columns(kind))
    at = {name: f"?{number}" for number, name in enumerate(names, start=1)}
    connection = f"?{len(names) + 1}"
    table, roster = quote(staged.name), quote(stored.name)
    tobedeleted = f"{at['status']} = '{OP_DELETE_STATUS}'"
    stored_op = (  # NULL when the connection has no stored record of this sourcedId
        f"(SELECT CASE WHEN {tobedeleted} THEN (CASE WHEN deleted_at IS NULL THEN '{OP_DELETE}' "
        f"ELSE '{OP_NONE}' END) WHEN deleted_at IS NOT NULL THEN '{OP_CREATE}' "
        f"WHEN content_hash = {at['content_hash']} THEN '{OP_SAME}' ELSE '{OP_UPDATE}' END "
        f"FROM {roster} WHERE connection_id = {connection} AND sourced_id = {at['sourced_id']})"
    )
    op = (f"CASE WHEN {at['skip']} THEN '{OP_SKIP}' ELSE coalesce({stored_op}, "
          f"CASE WHEN {tobedeleted} THEN '{OP_NONE}' ELSE '{OP_CREATE}' END) END")
    differs = (f"({table}.skip = 1 OR excluded.skip = 1 "
               f"OR {table}.content_hash IS NOT excluded.content_hash)")
    return (
        f"INSERT INTO {table} ({', '.join(quote(n) for n in names)}, op) "
        f"VALUES ({', '.join(at[n] for n in names)}, {op}) "
        f"ON CONFLICT (run_id, sourced_id) DO UPDATE SET "
        f"op = CASE WHEN {differs} THEN '{OP_SKIP}' ELSE {table}.op END, skip = {differs}, "
        f"dup_count = {table}.dup_count + excluded.dup_count"
    )


def drop_collection(*, db: Connection, kind: Kind, run_id: int, collection: str) -> int:
    """Forget what one collection staged (it failed, so none of it is applied)."""
    table = STAGED_TABLES[kind]
    result = db.execute(
        delete(table).where(table.c.run_id == run_id, table.c.collection == collection)
    )
    return result.rowcount or 0


@dataclass(frozen=True)
class Duplicate:
    sourced_id: str
    count: int
    conflicting: bool  # the copies differ (or one was unusable): the stored copy is kept


def duplicates(*, db: Connection, kind: Kind, run_id: int, limit: int = 100) -> tuple[int, list[Duplicate]]:
    """(how many sourcedIds were read more than once, the first ``limit`` of them)."""
    table = STAGED_TABLES[kind]
    where = (table.c.run_id == run_id, table.c.dup_count > 1)
    total = db.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
    rows = db.execute(
        select(table.c.sourced_id, table.c.dup_count, table.c.skip)
        .where(*where).order_by(table.c.sourced_id).limit(limit)
    )
    return total, [Duplicate(r.sourced_id, r.dup_count, bool(r.skip)) for r in rows]


# ---------------------------------------------------------------------------
# the diff


def mark_absent(*, db: Connection, kind: Kind, run_id: int, connection_id: int) -> None:
    """Stage an ``absent`` row for every live stored record the run did not read."""
    s, k = STAGED_TABLES[kind], ROSTER_TABLES[kind]
    seen = s.alias("seen")
    rows = select(
        literal(run_id), k.c.sourced_id, null(), literal(OP_ABSENT), false(), literal(0)
    ).where(
        k.c.connection_id == connection_id,
        k.c.deleted_at.is_(None),
        ~exists().where(seen.c.run_id == run_id, seen.c.sourced_id == k.c.sourced_id),
    )
    db.execute(
        s.insert().from_select(["run_id", "sourced_id", "collection", "op", "skip", "dup_count"], rows)
    )


def op_and_duplicate_counts(*, db: Connection, kind: Kind, run_id: int) -> tuple[dict[str, int], int]:
    """How many staged rows of the run have each op, and how many sourcedIds it read more than once,
    in one pass over the run's rows."""
    s = STAGED_TABLES[kind]
    rows = db.execute(
        select(s.c.op, func.count(), func.sum(case((s.c.dup_count > 1, 1), else_=0)))
        .where(s.c.run_id == run_id).group_by(s.c.op)
    )
    ops, repeated = {}, 0
    for op, n, dups in rows:
        if op is not None:
            ops[op] = n
        repeated += dups or 0
    return ops, repeated


def live_counts(*, db: Connection, connection_id: int) -> dict[Kind, int]:
    """Stored records that are not deleted, per kind."""
    out = {}
    for kind, k in ROSTER_TABLES.items():
        out[kind] = db.execute(
            select(func.count()).select_from(k).where(
                k.c.connection_id == connection_id, k.c.deleted_at.is_(None)
            )
        ).scalar_one()
    return out


# ---------------------------------------------------------------------------
# references


@dataclass(frozen=True)
class Unresolved:
    ref: Ref
    kind: Kind
    count: int
    examples: list[tuple[str, str | None]]  # (referring sourcedId, missing sourcedId)


def _alive_after(target: Kind, value, run_id: int, connection_id: int):
    """SQL: the record ``value`` of ``target`` exists once the run is applied."""
    staged, stored = STAGED_TABLES[target].alias(), ROSTER_TABLES[target].alias()
    gone = STAGED_TABLES[target].alias()
    return or_(
        exists().where(staged.c.run_id == run_id, staged.c.sourced_id == value, staged.c.op.in_(LIVE_OPS)),
        and_(
            exists().where(stored.c.connection_id == connection_id, stored.c.sourced_id == value,
                           stored.c.deleted_at.is_(None)),
            ~exists().where(gone.c.run_id == run_id, gone.c.sourced_id == value, gone.c.op.in_(REMOVE_OPS)),
        ),
    )


def _elements(db: Connection, column):
    if db.dialect.name == "postgresql":
        return func.jsonb_array_elements_text(column).table_valued("value")
    return func.json_each(column).table_valued("value")


def unresolved_references(
    *, db: Connection, run_id: int, connection_id: int, examples: int = 3,
) -> list[Unresolved]:
    """References of the run's live staged records to records that will not exist after it."""
    out = []
    for kind, spec in KIND_SPECS.items():
        s = STAGED_TABLES[kind].alias("referrer")
        for ref in spec.refs:
            column = s.c[ref.column]
            base = (s.c.run_id == run_id, s.c.op.in_(LIVE_OPS), column.is_not(None))
            if ref.many:
                elems = _elements(db, column).alias("elem")
                missing = (
                    select(elems.c.value)
                    .where(~_alive_after(ref.target, elems.c.value, run_id, connection_id))
                )
                where = (*base, missing.exists())
                sample_missing = missing.limit(1).scalar_subquery()
            else:
                where = (*base, ~_alive_after(ref.target, column, run_id, connection_id))
                sample_missing = column
            count = db.execute(select(func.count()).select_from(s).where(*where)).scalar_one()
            if count:
                rows = db.execute(
                    select(s.c.sourced_id, sample_missing).where(*where).order_by(s.c.sourced_id).limit(examples)
                )
                out.append(Unresolved(ref, kind, count, [(r[0], r[1]) for r in rows]))
    return out


# ---------------------------------------------------------------------------
# cleaning up


def clear_run(*, db: Connection, run_id: int) -> None:
    """Delete everything the run staged.

    On SQLite, a table holding only this run's rows is emptied whole (SQLite
    then frees its pages instead of deleting row by row); the write lock of
    the caller's transaction keeps other runs from staging meanwhile.
    """
    for table in STAGED_TABLES.values():
        if db.dialect.name == "sqlite" and db.execute(
            select(literal(1)).where(table.c.run_id != run_id).limit(1)
        ).first() is None:
            db.execute(delete(table))
        else:
            db.execute(delete(table).where(table.c.run_id == run_id))


def purge_stale(*, db: Connection, connection_id: int) -> int:
    """Delete staged rows of the connection's runs that are no longer running or held."""
    stale = [run_id for (run_id,) in db.execute(
        select(sync_runs.c.id).where(
            sync_runs.c.connection_id == connection_id, sync_runs.c.state.not_in(("running", "held")))
    )]
    total = 0
    for start in range(0, len(stale), 500):  # each a lookup on the staged tables' (run_id, sourced_id) key
        ids = stale[start:start + 500]
        for table in STAGED_TABLES.values():
            total += db.execute(delete(table).where(table.c.run_id.in_(ids))).rowcount or 0
    return total


def staged_total(*, db: Connection, run_id: int) -> int:
    """How many rows the run has staged (all kinds)."""
    return sum(
        db.execute(select(func.count()).select_from(t).where(t.c.run_id == run_id)).scalar_one()
        for t in STAGED_TABLES.values()
    )


def staged_rows(
    *, db: Connection, kind: Kind, run_id: int, ops: Sequence[str] | None = None, limit: int = 20,
) -> list[Mapping[str, Any]]:
    """A few staged rows of a run (what a held run would change), as mappings."""
    s = STAGED_TABLES[kind]
    query = select(s).where(s.c.run_id == run_id).order_by(s.c.sourced_id).limit(limit)
    if ops:
        query = query.where(s.c.op.in_(tuple(ops)))
    return [dict(r._mapping) for r in db.execute(query)]
