"""Queued syncs on the real local PostgreSQL, with real worker processes and sandbox districts.

* one night for 20 districts and two workers (each scheduling too): every due
  district is synced exactly once; a paused one is skipped; a held one is
  skipped until its run is approved; one with bad credentials ends in Error
  after the policy's attempts and is not tried again;
* a worker killed with SIGKILL mid-sync: another worker retries the job and the
  store ends up exactly the district's roster.

The districts' sync window is set around the current time, so "tonight" is now.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from rostersync.jobs.control import pause, resume, set_schedule
from rostersync.jobs.pg import conninfo_from_url, ensure_job_schema
from rostersync.sandbox.server import start_sandbox
from rostersync.source.connection import ConnectionSpec
from rostersync.store import add_connection, begin_write, create_engine_for, update_connection
from rostersync.store.schedule_tables import schedule_row
from rostersync.store.tables import ROSTER_TABLES, STAGED_TABLES, sync_runs
from rostersync.sync import SyncEngine, client_reader_factory
from rostersync.vault import Vault, generate_key

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]

# A worker process with test-sized timings: heartbeats every 0.5 s, presumed dead
# after 3 s (looked for every 0.5 s), a scheduler tick every second, retries after 0.5 s,
# and refused credentials tried twice before the connection goes to Error. argv: name, concurrency.
STALLED_AFTER, REAP_EVERY = 3.0, 0.5
WORKER = f"""
import sys
from rostersync.jobs.services import build_job_services
from rostersync.jobs.worker import WorkerOptions, run_worker
from rostersync.log import configure_logging
from rostersync.schedule import RetryPolicy
from rostersync.settings import Settings

configure_logging("INFO")
settings = Settings()
retry = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=1.0, terminal_attempts=2)
options = WorkerOptions(name=sys.argv[1], concurrency=int(sys.argv[2]), heartbeat=0.5,
                        stalled_after={STALLED_AFTER}, reap_every={REAP_EVERY}, poll=0.2, tick_seconds=1)
run_worker(settings, options, services=build_job_services(settings, retry=retry))
"""


@pytest.fixture
def jobs_url(pg_url):
    """The shared fresh, migrated PostgreSQL database, plus procrastinate's queue schema."""
    ensure_job_schema(conninfo_from_url(pg_url))
    return pg_url


class Night:
    """The store, the vault and the worker processes of one test."""

    def __init__(self, url: str, tmp_path: Path) -> None:
        self.url = url
        self.tmp = tmp_path
        self.key = generate_key()
        self.vault = Vault.from_key_text(self.key)
        self.engine = create_engine_for(url)
        self.workers: dict[str, subprocess.Popen] = {}
        self.sandboxes = []

    def add_district(self, name: str, *, seed: int, students: int = 30, secret: str | None = None, **box_options):
        box = start_sandbox(students=students, seed=seed, **box_options)
        self.sandboxes.append(box)
        c = box.credentials
        spec = ConnectionSpec.from_dict(
            {"auth": "oauth2", "client_id": c.client_id, "token_url": c.token_url, "base_url": c.base_url,
             "timezone": "UTC"},
            {"client_secret": secret or c.client_secret},
        )
        with begin_write(self.engine) as db:
            conn = add_connection(db=db, vault=self.vault, name=name, settings=spec.to_dict(),
                                  secrets=spec.secrets(), timezone="UTC")
        now = dt.datetime.now(dt.timezone.utc)
        window = f"{now - dt.timedelta(hours=1):%H:%M}-{now + dt.timedelta(hours=1):%H:%M}"
        set_schedule(self.engine, name, window=window)  # "tonight" is now
        return conn, box

    def start_worker(self, name: str, concurrency: int = 1) -> subprocess.Popen:
        env = {**os.environ, "ROSTERSYNC_DATABASE_URL": self.url, "ROSTERSYNC_SECRET_KEY": self.key,
               "PYTHONPATH": str(ROOT)}
        log = open(self.tmp / f"{name}.log", "wb")
        proc = subprocess.Popen([sys.executable, "-c", WORKER, name, str(concurrency)], env=env, stdout=log, stderr=log, cwd=ROOT)
        self.workers[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")

    def runs(self, connection_id: int) -> list[tuple[str, str]]:
        with self.engine.connect() as db:
            rows = db.execute(
                select(sync_runs.c.mode, sync_runs.c.state)
                .where(sync_runs.c.connection_id == connection_id).order_by(sync_runs.c.id)
            )
            return [tuple(r) for r in rows]

    def outcome(self, connection_id: int):
        with self.engine.connect() as db:
            return schedule_row(db=db, connection_id=connection_id)

    def db_now(self) -> dt.datetime:
        """The database's clock, the one procrastinate's heartbeats and stalled-job checks use."""
        with self.engine.connect() as db:
            return db.execute(text("SELECT clock_timestamp()")).scalar_one()

    def heartbeats(self) -> list[dt.datetime]:
        """The last heartbeat of every worker procrastinate still counts as registered."""
        with self.engine.connect() as db:
            return list(db.execute(text("SELECT last_heartbeat FROM procrastinate.procrastinate_workers")).scalars())

    def wait_for(self, what: str, predicate, timeout: float = 40.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            for name, proc in self.workers.items():
                # A worker told to stop may do the awaited thing and exit between the two looks.
                if proc.poll() is not None and proc.returncode != -signal.SIGKILL and not predicate():
                    pytest.fail(f"worker {name} exited ({proc.returncode}) before {what}:\n{self.log(name)[-3000:]}")
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {n}\n{self.log(n)[-2000:]}" for n in self.workers)
                pytest.fail(f"timed out waiting for {what}\n{logs}")
            time.sleep(0.1)

    def close(self) -> None:
        for proc in self.workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        with ThreadPoolExecutor(max_workers=8) as pool:  # each stop waits for its server's loop
            list(pool.map(lambda box: box.stop(), self.sandboxes))
        self.engine.dispose()


@pytest.fixture
def night(jobs_url, tmp_path):
    night = Night(jobs_url, tmp_path)
    yield night
    night.close()


def _sync_engine(night: Night) -> SyncEngine:
    return SyncEngine(engine=night.engine, vault=night.vault, reader_factory=client_reader_factory())


def test_two_workers_sync_every_due_district_exactly_once(night):
    districts = [night.add_district(f"district-{n:02d}", seed=n + 1)[0] for n in range(17)]
    paused, _ = night.add_district("paused", seed=101)
    pause(night.engine, "paused")
    held, held_box = night.add_district("held", seed=102)
    with begin_write(night.engine) as db:  # hold any change at all
        update_connection(db=db, name="held", hold_delete_percent=0, hold_update_percent=0, hold_min_records=0)
    engine = _sync_engine(night)
    assert engine.run("held", mode="full").state == "applied"
    held_box.advance(3)
    held_run = engine.run("held", mode="full")
    assert held_run.state == "held"
    bad, _ = night.add_district("bad-credentials", seed=103, secret="not-the-secret")

    night.start_worker("worker-a")
    night.start_worker("worker-b", concurrency=3)  # three syncs at once in threads
    night.wait_for("every due district to sync", lambda: all(
        (night.outcome(d.id) or None) and night.outcome(d.id).last_outcome == "synced" for d in districts))
    night.wait_for("the bad credentials to end in Error",
                   lambda: night.outcome(bad.id) is not None and night.outcome(bad.id).error)
    time.sleep(2.5)  # more scheduler ticks from both workers: nothing more may run tonight

    for district in districts:
        assert night.runs(district.id) == [("full", "applied")], district.name
    assert night.runs(paused.id) == []
    assert night.runs(held.id) == [("full", "applied"), ("full", "held")]
    assert night.runs(bad.id) == [("full", "failed"), ("full", "failed")]  # terminal_attempts=2, no more
    error = night.outcome(bad.id)
    assert error.last_outcome == "error" and "refused the Client ID and Client Secret" in error.last_message
    assert error.last_fix
    synced_by = {name: night.log(name).count(": synced (run") for name in night.workers}
    assert sum(synced_by.values()) == 17 and all(synced_by.values()), synced_by

    engine.approve(held_run.run_id)  # a person approves: the district is scheduled again tonight
    resume(night.engine, "paused")
    night.wait_for("the approved and the resumed districts to sync", lambda: all(
        night.outcome(c.id) is not None and night.outcome(c.id).last_outcome == "synced" for c in (held, paused)))
    assert night.runs(held.id)[-1] == ("delta", "applied")
    assert night.runs(paused.id) == [("full", "applied")]
    assert night.runs(bad.id) == [("full", "failed"), ("full", "failed")]


def _roster_counts(night: Night, connection_id: int) -> dict[str, int]:
    with night.engine.connect() as db:
        return {
            kind.value: db.execute(
                select(func.count()).select_from(table)
                .where(table.c.connection_id == connection_id, table.c.deleted_at.is_(None))
            ).scalar_one()
            for kind, table in ROSTER_TABLES.items()
        }


def test_a_worker_killed_mid_sync_leaves_its_job_to_another_worker(night):
    conn, box = night.add_district("slow", seed=7, faults={"delay": 0.4})
    doomed = night.start_worker("doomed")
    night.wait_for("the sync to be under way", lambda: night.runs(conn.id) == [("full", "running")]
                   and box.stats.total >= 3, timeout=30)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(10)
    box.faults.set(delay=0.0)
    night.start_worker("rescuer")
    night.wait_for("the rescuer to finish the sync",
                   lambda: night.outcome(conn.id) is not None and night.outcome(conn.id).last_outcome == "synced")

    assert night.runs(conn.id) == [("full", "failed"), ("full", "applied")]  # the killed run changed nothing
    assert ": synced (run" in night.log("rescuer")
    assert "requeued job" in night.log("rescuer")
    assert _roster_counts(night, conn.id) == box.district.summary()["counts"]
    with night.engine.connect() as db:  # nothing left staged by the dead run
        for table in STAGED_TABLES.values():
            assert db.execute(select(func.count()).select_from(table)).scalar_one() == 0


def test_a_worker_told_to_stop_finishes_its_sync_and_is_not_taken_for_dead(night):
    # Every API response takes 2 s: the sync (nine API requests, ~18 s) cannot end on its own while the
    # test watches; the delay is lifted once the leaving worker has been stopping for long enough.
    conn, box = night.add_district("long", seed=8, faults={"delay": 2.0})
    leaving = night.start_worker("leaving")
    night.wait_for("the sync to be under way", lambda: night.runs(conn.id) == [("full", "running")], timeout=30)
    night.start_worker("watcher")  # would requeue the sync if the leaving worker looked dead
    night.wait_for("the watcher to start", lambda: "Starting worker" in night.log("watcher"))
    leaving.send_signal(signal.SIGTERM)  # graceful: procrastinate stops its own heartbeats, the sync goes on
    night.wait_for("the leaving worker to take the stop", lambda: "Stop requested" in night.log("leaving"))
    # Both workers still beat, on the database's clock, past the moment the leaving one would look
    # dead, and the watcher's reaper (every REAP_EVERY s) has looked for stalled jobs since then.
    mark = night.db_now() + dt.timedelta(seconds=STALLED_AFTER + 2 * REAP_EVERY)
    night.wait_for("both workers to beat past the stalled mark", lambda: (
        len(beats := night.heartbeats()) == 2 and min(beats) > mark))
    assert night.runs(conn.id) == [("full", "running")]  # the sync outlived stalled_after after the stop
    box.faults.set(delay=0.0)
    night.wait_for("the sync to finish", lambda: night.outcome(conn.id) is not None
                   and night.outcome(conn.id).last_outcome == "synced")
    assert leaving.wait(30) == 0
    assert night.runs(conn.id) == [("full", "applied")]
    assert ": synced (run" in night.log("leaving")
    assert "requeued job" not in night.log("watcher")
