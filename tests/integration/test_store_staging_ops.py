"""The op a staged row gets (the diff of one record) is the same on SQLite, whose staging
statement is an INSERT ... VALUES written for it (run in this process, or by the staging
writer process, which binds NULLs and booleans through adapters of its own), and on
PostgreSQL, which runs diff_op in an INSERT ... SELECT: every stored state against every
kind of staged row, repeats included."""

from __future__ import annotations

import datetime
import itertools

import pytest
from sqlalchemy import insert, select

from rostersync.oneroster.kinds import Kind
from rostersync.store import runs as store_runs
from rostersync.store import staging
from rostersync.store.connections import add_connection
from rostersync.store.engine import begin_write, create_engine_for, migrate
from rostersync.store.stagewriter import StagingProcess
from rostersync.store.tables import ROSTER_TABLES, STAGED_TABLES

NOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.timezone.utc)
STORED = ("missing", "live", "deleted")  # the stored record of the sourcedId
STATUS = ("active", "tobedeleted", None)
HASH = ("same", "other")  # the staged content hash against the stored one
SKIP = (False, True)


def _expected(stored: str, status: str | None, content: str, skip: bool) -> str:
    if skip:
        return "skip"
    live = stored == "live"
    if status == "tobedeleted":
        return "delete" if live else "none"
    if not live:
        return "create"
    return "same" if content == "same" else "update"


def _row(sid: str, status: str | None, digest: str | None, skip: bool) -> tuple:
    raw = None if skip else f'{{"sourcedId":"{sid}"}}'
    return (sid, "orgs", skip, 1, status, NOW, f"Org {sid}", "school", None, None, raw,
            None if skip else digest)


@pytest.fixture(params=["sqlite", "sqlite-child", "postgresql"])
def writer(request, tmp_path):
    """(engine, stage): stage(run_id, connection_id, rows) stages one batch of orgs and commits it."""
    if request.param.startswith("sqlite"):
        engine = create_engine_for(f"sqlite:///{tmp_path / 'store.db'}")
    else:
        engine = create_engine_for(request.getfixturevalue("pg_url"))
    migrate(engine)
    process = StagingProcess(engine) if request.param == "sqlite-child" else None

    def stage(run_id: int, connection_id: int, rows: list[tuple]) -> None:
        if process is not None:
            process.stage(Kind.ORG, run_id, connection_id, rows)
            process.flush()
            return
        with begin_write(engine) as db:
            staging.stage_values(db=db, kind=Kind.ORG, run_id=run_id, connection_id=connection_id, values=rows)

    yield engine, stage
    if process is not None:
        process.close()
    engine.dispose()


def _setup(engine, vault):
    with begin_write(engine) as db:
        conn = add_connection(db=db, vault=vault, name="district", settings={"base_url": "https://x.test"},
                              secrets={"client_secret": "harness-secret-1234"})
        other = add_connection(db=db, vault=vault, name="other", settings={"base_url": "https://y.test"},
                               secrets={"client_secret": "harness-secret-1234"})
        run_id = store_runs.create_run(db=db, connection_id=conn.id, mode="full", dry_run=False, base_run_id=None)
    return conn.id, other.id, run_id


def _store(db, connection_id: int, sid: str, state: str) -> None:
    if state == "missing":
        return
    db.execute(insert(ROSTER_TABLES[Kind.ORG]).values(
        connection_id=connection_id, sourced_id=sid, status="tobedeleted" if state == "deleted" else "active",
        date_last_modified=NOW, name=f"Org {sid}", type="school", raw={"sourcedId": sid}, content_hash="h-stored",
        created_at=NOW, updated_at=NOW, deleted_at=NOW if state == "deleted" else None,
        deleted_by_run=None,
    ))


def _ops(engine, run_id: int) -> dict[str, tuple[str, int, bool]]:
    table = STAGED_TABLES[Kind.ORG]
    with engine.connect() as db:
        return {r.sourced_id: (r.op, r.dup_count, bool(r.skip))
                for r in db.execute(select(table).where(table.c.run_id == run_id))}


def test_every_stored_state_and_staged_row_gets_the_op_diff_op_defines(writer, vault):
    engine, stage = writer
    connection_id, other_id, run_id = _setup(engine, vault)
    cases = list(itertools.product(STORED, STATUS, HASH, SKIP))
    rows = []
    with begin_write(engine) as db:
        for number, (stored, status, content, skip) in enumerate(cases):
            sid = f"org-{number}"
            _store(db, connection_id, sid, stored)
            _store(db, other_id, sid, "live")  # another connection's record never counts
            rows.append(_row(sid, status, "h-stored" if content == "same" else "h-new", skip))
    stage(run_id, connection_id, rows)
    ops = _ops(engine, run_id)
    for number, case in enumerate(cases):
        assert ops[f"org-{number}"] == (_expected(*case), 1, case[3]), case


def test_repeats_keep_the_first_op_when_equal_and_skip_when_they_differ(writer, vault):
    engine, stage = writer
    connection_id, _, run_id = _setup(engine, vault)
    with begin_write(engine) as db:
        _store(db, connection_id, "kept", "live")
        _store(db, connection_id, "clash", "live")
    first = [_row("kept", "active", "h-new", False), _row("clash", "active", "h-stored", False),
             _row("new", "active", "h-new", False), _row("bad", "active", "h-x", False)]
    again = [_row("kept", "active", "h-new", False), _row("clash", "active", "h-other", False),
             _row("new", "active", "h-new", False), _row("bad", "active", None, True)]
    for batch in (first, again, [_row("new", "active", "h-new", False)]):  # across batches
        stage(run_id, connection_id, batch)
    assert _ops(engine, run_id) == {
        "kept": ("update", 2, False), "clash": ("skip", 2, True), "new": ("create", 3, False),
        "bad": ("skip", 2, True),
    }
    # within one batch, as a writer folds them
    stage(run_id, connection_id, [_row("twice", "active", "h-1", False), _row("twice", "active", "h-1", False)])
    assert _ops(engine, run_id)["twice"] == ("create", 2, False)
