"""Real processes: a sync killed with SIGKILL at any point leaves no trace and the next run
succeeds; two syncs of one connection cannot run at once, and a dead one does not block."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time

import pytest

from rostersync.oneroster.kinds import Kind
from rostersync.sandbox.district import generate
from rostersync.store import create_engine_for
from rostersync.store import runs as store_runs
from rostersync.store.errors import SyncAlreadyRunning
from rostersync.sync import SyncEngine
from rostersync.sync.testing import FakeReader
from rostersync.vault import Vault

SEED, STUDENTS = 4, 60
fork = multiprocessing.get_context("fork")


def district_reader(day: int) -> FakeReader:
    return FakeReader.from_district(generate(seed=SEED, students=STUDENTS, day=day))


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _child(url: str, key: str, day: int, kill_at: str | None, started, release) -> None:
    """Run one full sync in a fresh process; optionally SIGKILL itself at ``kill_at``."""
    import rostersync.store.apply as apply_module
    import rostersync.sync.engine as engine_module

    code = 0
    try:
        reader = district_reader(day)

        def on_record(resource: str, n: int) -> None:
            if resource == "students" and n == 5:
                if started is not None:
                    started.set()
                if release is not None:
                    release.wait(30)
            if kill_at == "fetch" and resource == "enrollments" and n == 100:
                _die()

        reader.on_record = on_record
        if kill_at in ("apply-start", "apply-middle"):
            # apply-start: the first kind's change feed is written; apply-middle: orgs, sessions,
            # demographics and users are applied, courses begun
            original, calls, fatal = apply_module._log_updates, [], 1 if kill_at == "apply-start" else 5

            def log_updates(*args, **kwargs):
                calls.append(1)
                if len(calls) == fatal:
                    _die()
                return original(*args, **kwargs)

            apply_module._log_updates = log_updates
        elif kill_at == "apply-end":  # everything written, just before the commit
            engine_module.set_last_applied_run = lambda **kwargs: _die()
        engine = create_engine_for(url)
        SyncEngine(engine=engine, vault=Vault.from_key_text(key), reader_factory=reader.factory).run("district")
    except SyncAlreadyRunning:
        code = 3
    except BaseException:  # noqa: BLE001 - report through the exit code
        code = 1
    os._exit(code)


def start_child(harness, key: str, day: int, kill_at: str | None = None, started=None, release=None):
    process = fork.Process(target=_child, args=(harness.url, key, day, kill_at, started, release), daemon=True)
    process.start()
    return process


@pytest.fixture
def key() -> str:
    from rostersync.vault import generate_key

    return generate_key()


@pytest.fixture
def seeded(harness, key):
    """A connection synced at day 0 by this process; its SyncEngine reads day 1."""
    harness.vault = Vault.from_key_text(key)
    harness.add()
    harness.sync_engine(district_reader(0)).run("district")
    return harness.sync_engine(district_reader(1))


def run_retrying(sync: SyncEngine, seconds: float = 10.0):
    """PostgreSQL notices a killed client's session a moment later; SQLite's flock is freed at once."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return sync.run("district")
        except SyncAlreadyRunning:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.mark.parametrize("kill_at", ["fetch", "apply-start", "apply-middle", "apply-end"])
def test_a_sync_killed_at_any_point_leaves_no_trace_and_the_next_run_succeeds(harness, key, seeded, kill_at):
    before = harness.snapshot()

    child = start_child(harness, key, day=1, kill_at=kill_at)
    child.join(60)

    assert child.exitcode == -signal.SIGKILL
    assert harness.snapshot() == before
    with harness.engine.connect() as db:
        (dead,) = store_runs.list_runs(db=db, limit=1)
    assert dead.state == "running"  # as the dead process left it

    result = run_retrying(seeded)

    assert result.state == "applied" and result.total.changes > 0
    assert harness.staged_count() == 0
    truth = generate(seed=SEED, students=STUDENTS, day=1)
    for kind in Kind:
        assert set(harness.live()[kind]) == {r["sourcedId"] for r in truth.records(kind, "1.1")
                                             if r["status"] == "active"}
    with harness.engine.connect() as db:
        interrupted = store_runs.get_run(db=db, run_id=dead.id)
    assert interrupted.state == "failed" and "interrupted" in interrupted.errors[0]["message"]


def test_two_processes_cannot_sync_one_connection_at_once(harness, key, seeded):
    started, release = fork.Event(), fork.Event()
    first = start_child(harness, key, day=1, started=started, release=release)
    try:
        assert started.wait(30), "the first sync did not start"
        second = start_child(harness, key, day=1)
        second.join(30)
        assert second.exitcode == 3  # SyncAlreadyRunning, at once
        began = time.monotonic()
        with pytest.raises(SyncAlreadyRunning) as info:
            seeded.run("district")
        assert time.monotonic() - began < 5
        assert "already running" in str(info.value) and info.value.fix
    finally:
        release.set()
    first.join(60)
    assert first.exitcode == 0
    with harness.engine.connect() as db:
        runs = store_runs.list_runs(db=db)
    assert [r.state for r in runs][:1] == ["applied"]
    assert seeded.run("district").state == "applied"


def test_a_killed_sync_does_not_block_the_next_one(harness, key, seeded):
    started, release = fork.Event(), fork.Event()
    holder = start_child(harness, key, day=1, started=started, release=release)
    assert started.wait(30)
    with pytest.raises(SyncAlreadyRunning):
        seeded.run("district")

    os.kill(holder.pid, signal.SIGKILL)
    holder.join(30)

    assert run_retrying(seeded).state == "applied"
