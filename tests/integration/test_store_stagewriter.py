"""Staging a SQLite run from a child process: the same rows as staging in-process, errors that say
what failed, and no child left behind when the parent dies."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import select

from rostersync.oneroster.kinds import Kind, Version
from rostersync.oneroster.records import parse_record
from rostersync.sandbox.district import generate
from rostersync.store import runs as store_runs
from rostersync.store import staging
from rostersync.store.engine import begin_write, create_engine_for, migrate
from rostersync.store.stagewriter import StagingFailed, StagingProcess, usable
from rostersync.store.tables import STAGED_TABLES
from rostersync.sync.rows import staged_values
from rostersync.sync.testing import FakeReader, district_collections


def _store(tmp_path, name="store.db"):
    engine = create_engine_for(f"sqlite:///{tmp_path / name}")
    migrate(engine)
    return engine


def _rows(kind: Kind, collection: str, objects):
    return [staged_values(parse_record(kind, obj, Version.V1P1), collection) for obj in objects]


def _staged(engine, kind: Kind, run_id: int):
    table = STAGED_TABLES[kind]
    with engine.connect() as db:
        return [dict(r._mapping) for r in db.execute(
            select(table).where(table.c.run_id == run_id).order_by(table.c.sourced_id))]


def _run(engine, harness_vault, name="district"):
    from rostersync.store.connections import add_connection

    with begin_write(engine) as db:
        conn = add_connection(db=db, vault=harness_vault, name=name, settings={"base_url": "https://x.test"},
                              secrets={"client_secret": "harness-secret-1234"})
        return conn.id, [store_runs.create_run(db=db, connection_id=conn.id, mode="full", dry_run=False,
                                               base_run_id=None) for _ in range(2)]


def test_the_child_process_stages_exactly_what_staging_in_process_stages(tmp_path, vault):
    engine = _store(tmp_path)
    cid, (in_process, in_child) = _run(engine, vault)
    users = district_collections(generate(seed=4, students=30))["students"]
    rows = _rows(Kind.USER, "students", users)
    # a repeat with other content becomes a skip; a time in another zone is stored in UTC
    rows.append((*rows[0][:-1], "0" * 32))
    moved = datetime.datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    rows[1] = (*rows[1][:5], moved, *rows[1][6:])
    rows[2] = (*rows[2][:5], None, *rows[2][6:])
    whole = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)  # no fraction of a second
    rows[3] = (*rows[3][:5], whole, *rows[3][6:])
    precise = datetime.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=datetime.timezone.utc)  # six fraction digits
    rows[4] = (*rows[4][:5], precise, *rows[4][6:])

    with begin_write(engine) as db:
        staging.stage_values(db=db, kind=Kind.USER, run_id=in_process, connection_id=cid, values=rows[:10])
    with begin_write(engine) as db:
        staging.stage_values(db=db, kind=Kind.USER, run_id=in_process, connection_id=cid, values=rows[10:])
    assert usable(engine)
    with StagingProcess(engine) as process:
        process.stage(Kind.USER, in_child, cid, rows[:10])
        process.stage(Kind.USER, in_child, cid, rows[10:])
        process.flush()

    expected = [{**r, "run_id": in_child} for r in _staged(engine, Kind.USER, in_process)]
    got = _staged(engine, Kind.USER, in_child)
    assert got == expected
    assert len(got) == len(users)
    assert got[[r["sourced_id"] for r in got].index(rows[0][0])]["op"] == "skip"
    assert any(r["date_last_modified"] == moved.astimezone(datetime.timezone.utc) for r in got)
    assert any(r["date_last_modified"] == whole for r in got)
    assert any(r["date_last_modified"] == precise for r in got)
    stored_text = {}  # the text in the file, as SQL compares it, not only the value read back
    with engine.connect() as db:
        for run_id in (in_process, in_child):
            stored_text[run_id] = db.exec_driver_sql(
                "SELECT sourced_id, date_last_modified FROM staged_users WHERE run_id = ? ORDER BY sourced_id",
                (run_id,)).all()
    assert stored_text[in_child] == stored_text[in_process]


def test_a_batch_the_store_refuses_fails_with_a_message_and_the_process_goes_on(tmp_path, vault):
    engine = _store(tmp_path)
    cid, (run_id, _) = _run(engine, vault)
    enrollments = district_collections(generate(seed=4, students=30))["enrollments"]
    rows = _rows(Kind.ENROLLMENT, "enrollments", enrollments[:5])
    with StagingProcess(engine) as process:
        process.stage(Kind.ENROLLMENT, 999_999, cid, rows)  # no such run: the foreign key refuses it
        with pytest.raises(StagingFailed, match="FOREIGN KEY constraint failed"):
            process.flush()
        process.stage(Kind.ENROLLMENT, run_id, cid, rows)
        process.flush()
    assert len(_staged(engine, Kind.ENROLLMENT, run_id)) == 5


def test_a_dead_child_is_reported_not_waited_for(tmp_path, vault):
    engine = _store(tmp_path)
    cid, (run_id, _) = _run(engine, vault)
    rows = _rows(Kind.ENROLLMENT, "enrollments",
                 district_collections(generate(seed=4, students=30))["enrollments"][:5])
    process = StagingProcess(engine)
    try:
        os.kill(process.pid, signal.SIGKILL)
        with pytest.raises(StagingFailed, match="ended unexpectedly"):
            process.stage(Kind.ENROLLMENT, run_id, cid, rows)
            process.flush()
    finally:
        process.close()


def test_the_child_exits_when_its_parent_is_killed(tmp_path, vault):
    engine = _store(tmp_path)
    _run(engine, vault)
    script = textwrap.dedent(f"""
        import os, signal, sys
        from rostersync.store.engine import create_engine_for
        from rostersync.store.stagewriter import StagingProcess
        process = StagingProcess(create_engine_for({f"sqlite:///{tmp_path / 'store.db'}"!r}))
        print(process.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    parent = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert parent.returncode == -signal.SIGKILL
    child = int(parent.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_sync_into_a_sqlite_file_stages_through_the_child_and_applies_the_district(tmp_path, vault):
    from rostersync.store.connections import add_connection
    from rostersync.sync import SyncEngine

    engine = _store(tmp_path)
    with begin_write(engine) as db:
        add_connection(db=db, vault=vault, name="district", settings={"base_url": "https://x.test"},
                       secrets={"client_secret": "harness-secret-1234"})
    district = generate(seed=5, students=40)
    reader = FakeReader.from_district(district)
    children = []
    original = StagingProcess.__init__

    def spy(self, *args, **kwargs):
        original(self, *args, **kwargs)
        children.append(self.pid)

    StagingProcess.__init__ = spy
    try:
        both = [SyncEngine(engine=engine, vault=vault, reader_factory=reader.factory, staging_process=flag)
                for flag in (True, False)]
        first = both[0].run("district")
        second = both[1].run("district")  # the same district staged by the in-process writer changes nothing
    finally:
        StagingProcess.__init__ = original
    assert first.state == "applied" and second.state == "applied"
    assert len(children) == 1
    assert first.total.created == first.records_read == sum(len(v) for v in district_collections(district).values())
    assert second.total.created == second.total.updated == second.total.deleted == 0


def test_a_staging_process_that_cannot_start_leaves_the_sync_to_stage_in_process(tmp_path, vault, monkeypatch):
    from rostersync.store import stagewriter
    from rostersync.store.connections import add_connection
    from rostersync.sync import SyncEngine

    engine = _store(tmp_path)
    with begin_write(engine) as db:
        add_connection(db=db, vault=vault, name="district", settings={"base_url": "https://x.test"},
                       secrets={"client_secret": "harness-secret-1234"})
    monkeypatch.setattr(stagewriter, "_CHILD", tmp_path / "missing.py")  # the child exits at once
    reader = FakeReader.from_district(generate(seed=5, students=20))
    result = SyncEngine(engine=engine, vault=vault, reader_factory=reader.factory).run("district")
    assert result.state == "applied"
    assert result.total.created == result.records_read > 0
