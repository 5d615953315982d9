"""Real processes against the sandbox (in its own process, over loopback HTTP, read with the
real client): a sync killed with SIGKILL at any point leaves no trace and the next run succeeds;
two syncs of one connection cannot run at once, and a dead one does not block the next."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from rostersync.store import create_engine_for
from rostersync.store import runs as store_runs
from rostersync.store.errors import SyncAlreadyRunning
from rostersync.sync import SyncEngine, client_reader_factory
from rostersync.vault import Vault, generate_key

fork = multiprocessing.get_context("fork")

SERVE = """
import json, sys, time
from rostersync.sandbox.server import start_sandbox
box = start_sandbox(students=60, seed=4)
c = box.credentials
print(json.dumps({"client_id": c.client_id, "client_secret": c.client_secret, "token_url": c.token_url,
                  "base_url": c.base_url, "admin_url": c.admin_url, "admin_token": c.admin_token}), flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[dict]:
    """A sandbox district served by another process; its credentials and admin switches."""
    process = subprocess.Popen([sys.executable, "-c", SERVE], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               text=True)
    try:
        yield json.loads(process.stdout.readline())
    finally:
        process.stdin.close()
        process.wait(10)


def advance(sandbox: dict) -> None:
    """One school day of churn at the provider."""
    response = httpx.post(f"{sandbox['admin_url']}/advance", headers={"x-sandbox-admin-token": sandbox["admin_token"]})
    response.raise_for_status()


class Hooked:
    """A reader that calls ``hook(resource, n)`` before handing out record ``n`` of a collection."""

    def __init__(self, reader, hook) -> None:
        self.reader, self.hook = reader, hook

    def read(self, resource, *, since=None):
        for n, item in enumerate(self.reader.read(resource, since=since)):
            self.hook(resource, n)
            yield item

    def close(self) -> None:
        self.reader.close()


def sync_engine(url: str, key: str, hook=None) -> SyncEngine:
    build = client_reader_factory(peak=False)
    factory = build if hook is None else (lambda conn, secrets: Hooked(build(conn, secrets), hook))
    return SyncEngine(engine=create_engine_for(url), vault=Vault.from_key_text(key), reader_factory=factory)


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _child(url: str, key: str, kill_at: str | None, started, release) -> None:
    """Run one full sync in a fresh process; optionally SIGKILL itself at ``kill_at``."""
    import rostersync.sync.engine as engine_module

    def hook(resource: str, n: int) -> None:
        if resource == "students" and n == 5:
            if started is not None:
                started.set()
            if release is not None:
                release.wait(30)
        if kill_at == "fetch" and resource == "enrollments" and n == 100:
            _die()

    if kill_at in ("apply-start", "apply-middle"):
        # apply-start: the first kind is written (not committed); apply-middle: orgs, sessions,
        # demographics and users are written. The apply looks up each kind's counts before writing it.
        original, calls, fatal = engine_module.apply_staged, [], 2 if kill_at == "apply-start" else 5

        class DyingCounts(dict):
            def get(self, key, default=None):
                calls.append(key)
                if len(calls) == fatal:
                    _die()
                return super().get(key, default)

        def apply_staged(**kwargs):
            return original(**{**kwargs, "counts": DyingCounts(kwargs.get("counts") or {})})

        engine_module.apply_staged = apply_staged
    elif kill_at == "apply-end":  # everything written, just before the commit
        engine_module.set_last_applied_run = lambda **kwargs: _die()
    code = 0
    try:
        sync_engine(url, key, hook).run("district")
    except SyncAlreadyRunning:
        code = 3
    except BaseException:  # noqa: BLE001 - reported through the exit code
        code = 1
    os._exit(code)


def start_child(harness, key: str, kill_at: str | None = None, started=None, release=None):
    process = fork.Process(target=_child, args=(harness.url, key, kill_at, started, release), daemon=True)
    process.start()
    return process


@pytest.fixture
def key() -> str:
    return generate_key()


@pytest.fixture
def seeded(harness, sandbox, key, connect_settings) -> SyncEngine:
    """A connection synced once by this process; then the provider moves on a school day."""
    harness.vault = Vault.from_key_text(key)
    connect_settings("district")
    sync = sync_engine(harness.url, key)
    assert sync.run("district").state == "applied"
    advance(sandbox)
    return sync


@pytest.fixture
def connect_settings(harness, sandbox):
    from rostersync.source.connection import ConnectionSpec, OAuth2Credentials
    from rostersync.store import add_connection, begin_write

    def add(name: str) -> None:
        spec = ConnectionSpec(credentials=OAuth2Credentials(
            client_id=sandbox["client_id"], client_secret=sandbox["client_secret"],
            token_url=sandbox["token_url"], base_url=sandbox["base_url"]))
        with begin_write(harness.engine) as db:
            add_connection(db=db, vault=harness.vault, name=name, settings=spec.to_dict(), secrets=spec.secrets())

    return add


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
def test_a_sync_killed_at_any_point_leaves_no_trace_and_the_next_run_succeeds(
    harness, key, seeded, connect_settings, kill_at
):
    before = harness.snapshot()

    child = start_child(harness, key, kill_at=kill_at)
    child.join(60)

    assert child.exitcode == -signal.SIGKILL
    assert harness.snapshot() == before
    with harness.engine.connect() as db:
        (dead,) = store_runs.list_runs(db=db, limit=1)
    assert dead.state == "running"  # as the dead process left it

    result = run_retrying(seeded)

    assert result.state == "applied" and result.total.changes > 0
    assert harness.staged_count() == 0
    connect_settings("fresh")  # the same provider, synced from scratch
    assert sync_engine(harness.url, key).run("fresh").state == "applied"
    assert harness.live("district") == harness.live("fresh")
    with harness.engine.connect() as db:
        interrupted = store_runs.get_run(db=db, run_id=dead.id)
    assert interrupted.state == "failed" and "interrupted" in interrupted.errors[0]["message"]


def test_two_processes_cannot_sync_one_connection_at_once(harness, key, seeded):
    started, release = fork.Event(), fork.Event()
    first = start_child(harness, key, started=started, release=release)
    try:
        assert started.wait(30), "the first sync did not start"
        second = start_child(harness, key)
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
        (latest,) = store_runs.list_runs(db=db, limit=1)
    assert latest.state == "applied"
    assert seeded.run("district").state == "applied"


def test_a_killed_sync_does_not_block_the_next_one(harness, key, seeded):
    started, release = fork.Event(), fork.Event()
    holder = start_child(harness, key, started=started, release=release)
    assert started.wait(30)
    with pytest.raises(SyncAlreadyRunning):
        seeded.run("district")

    os.kill(holder.pid, signal.SIGKILL)
    holder.join(30)

    assert run_retrying(seeded).state == "applied"
