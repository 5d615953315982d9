"""The schedules run in-process on SQLite: nights, pauses, holds, retries and Error.

The sync itself is a scripted stand-in that writes real ``sync_runs`` rows, so
everything the scheduler reads (held runs, the last full sync) comes from the
store as it would in production.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from rostersync.errors import Terminal, Transient
from rostersync.jobs.embedded import EmbeddedScheduler
from rostersync.jobs.model import JobServices, Order, SyncReport
from rostersync.jobs.runner import execute
from rostersync.schedule import RetryPolicy
from rostersync.store import add_connection, begin_write, create_engine_for, migrate, update_connection
from rostersync.store.runs import create_run, update_run
from rostersync.store.schedule_tables import schedule_row, set_policy
from rostersync.vault import Vault, generate_key

UTC = dt.timezone.utc
# Tuesday 2026-09-08, 23:00 UTC: inside the 22:30-05:00 window of a UTC district.
TUESDAY_NIGHT = dt.datetime(2026, 9, 8, 23, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


class ScriptedSync:
    """run_sync stand-in: per connection, a list of results to give in turn ("applied" by default)."""

    def __init__(self, engine, clock) -> None:
        self.engine = engine
        self.clock = clock
        self.script: dict[int, list] = {}
        self.calls: list[tuple[int, str]] = []
        self._lock = threading.Lock()

    def __call__(self, connection_id: int, mode: str) -> SyncReport:
        with self._lock:
            self.calls.append((connection_id, mode))
            queue = self.script.get(connection_id, [])
            step = queue.pop(0) if queue else "applied"
        if isinstance(step, BaseException):
            raise step
        stored = "applied" if step == "incomplete" else step  # incomplete: applied, some collections failed
        with begin_write(self.engine) as db:
            run_id = create_run(db=db, connection_id=connection_id, mode=mode, dry_run=False,
                                base_run_id=None, now=self.clock())
            update_run(db=db, run_id=run_id, state=stored, finished_at=self.clock())
        return SyncReport(state=step, run_id=run_id, message="held: 40% deleted" if step == "held" else None)

    def count(self, connection_id: int) -> int:
        return sum(1 for cid, _ in self.calls if cid == connection_id)


@pytest.fixture
def world(tmp_path):
    engine = create_engine_for(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    vault = Vault.from_key_text(generate_key())
    clock = Clock(TUESDAY_NIGHT)
    sync = ScriptedSync(engine, clock)
    services = JobServices(engine=engine, run_sync=sync, clock=clock,
                           retry=RetryPolicy(max_attempts=3, base_delay=600, max_delay=3600))
    ids = []
    with begin_write(engine) as db:
        for n in range(3):
            conn = add_connection(db=db, vault=vault, name=f"district-{n}", timezone="UTC",
                                  settings={"base_url": f"https://d{n}.example"}, secrets={"client_secret": f"s{n}"})
            ids.append(conn.id)
    world = type("World", (), {})()
    world.engine, world.vault, world.clock, world.sync, world.services, world.ids = (
        engine, vault, clock, sync, services, ids)
    world.scheduler = EmbeddedScheduler(services, tick=3600)
    yield world
    world.scheduler.stop()
    engine.dispose()


def _tick(world) -> list[Order]:
    started = world.scheduler.tick()
    assert world.scheduler.wait_idle(10)
    return started


def _row(world, cid):
    with world.engine.connect() as db:
        return schedule_row(db=db, connection_id=cid)


def test_each_due_district_is_synced_once_a_night_full_first_then_delta(world):
    assert len(_tick(world)) == 3
    assert _tick(world) == []  # same night: nothing more
    assert sorted(world.sync.calls) == [(cid, "full") for cid in world.ids]
    world.clock.advance(hours=3)  # 02:00, still Tuesday's night
    assert _tick(world) == []
    world.clock.advance(hours=21)  # Wednesday 23:00
    _tick(world)
    assert [mode for _, mode in world.sync.calls[3:]] == ["delta"] * 3
    assert all(_row(world, cid).last_outcome == "synced" for cid in world.ids)


def test_nothing_runs_outside_the_window(world):
    world.clock.now = dt.datetime(2026, 9, 9, 12, 0, tzinfo=UTC)
    assert _tick(world) == []
    assert world.sync.calls == []


def test_a_paused_district_is_skipped_and_runs_again_once_resumed(world):
    paused = world.ids[0]
    with begin_write(world.engine) as db:
        update_connection(db=db, name="district-0", paused=True)
    _tick(world)
    assert world.sync.count(paused) == 0 and world.sync.count(world.ids[1]) == 1
    with begin_write(world.engine) as db:
        update_connection(db=db, name="district-0", paused=False)
    _tick(world)  # same night, resumed: it still gets tonight's run
    assert world.sync.count(paused) == 1


def test_a_held_district_is_skipped_until_its_run_is_approved_or_discarded(world):
    held = world.ids[0]
    world.sync.script[held] = ["held"]
    _tick(world)
    assert _row(world, held).last_outcome == "held"
    for _ in range(2):  # two more nights: still held, never synced
        world.clock.advance(days=1)
        _tick(world)
    assert world.sync.count(held) == 1 and world.sync.count(world.ids[1]) == 3
    assert world.scheduler.run_now(held) is True  # a manual run is refused while held, too
    world.scheduler.wait_idle(10)
    assert world.sync.count(held) == 1
    assert _row(world, held).last_message == "a run waits for review: approve or discard it first"
    with begin_write(world.engine) as db:  # a person discards the held run
        update_run(db=db, run_id=_row(world, held).last_run_id, state="discarded")
    world.clock.advance(days=1)
    _tick(world)
    assert world.sync.count(held) == 2


def test_transient_failures_are_retried_with_backoff_inside_the_window(world):
    flaky = world.ids[0]
    world.sync.script[flaky] = [Transient("the district answered 503"), Transient("timeout")]
    _tick(world)
    row = _row(world, flaky)
    assert (row.last_outcome, row.attempts) == ("retrying", 1)
    assert row.retry_at == TUESDAY_NIGHT + dt.timedelta(minutes=10)
    world.clock.advance(minutes=5)
    _tick(world)  # too early for the retry
    assert world.sync.count(flaky) == 1
    world.clock.advance(minutes=5)
    _tick(world)
    assert world.sync.count(flaky) == 2 and _row(world, flaky).retry_at == world.clock.now + dt.timedelta(minutes=20)
    world.clock.advance(minutes=20)
    _tick(world)
    assert world.sync.count(flaky) == 3
    assert _row(world, flaky).last_outcome == "synced"


def test_a_run_whose_collections_partly_failed_is_tried_again_tonight(world):
    patchy = world.ids[0]
    world.sync.script[patchy] = ["incomplete"]
    _tick(world)
    assert _row(world, patchy).last_outcome == "retrying"
    world.clock.advance(minutes=10)
    _tick(world)
    assert world.sync.count(patchy) == 2 and _row(world, patchy).last_outcome == "synced"


def test_transient_failures_give_up_for_the_night_and_the_next_night_tries_again(world):
    flaky = world.ids[0]
    world.sync.script[flaky] = [Transient("503")] * 3
    _tick(world)
    for minutes in (10, 20):
        world.clock.advance(minutes=minutes)
        _tick(world)
    row = _row(world, flaky)
    assert world.sync.count(flaky) == 3
    assert row.last_outcome == "gave_up" and not row.error
    world.clock.advance(hours=6)
    _tick(world)
    assert world.sync.count(flaky) == 3  # no retry outside the window
    world.clock.advance(hours=18)
    _tick(world)
    assert world.sync.count(flaky) == 4 and _row(world, flaky).last_outcome == "synced"


def test_bad_credentials_put_the_district_in_error_until_the_credentials_change(world):
    bad = world.ids[0]
    world.sync.script[bad] = [Terminal("the district refused the credentials", fix="Ask for a new Client Secret.")]
    _tick(world)
    row = _row(world, bad)
    assert row.error and row.last_outcome == "error"
    assert row.last_fix == "Ask for a new Client Secret."
    for _ in range(3):  # later ticks and nights: never retried on its own
        world.clock.advance(days=1)
        _tick(world)
    assert world.sync.count(bad) == 1
    with begin_write(world.engine) as db:
        update_connection(db=db, name="district-0", vault=world.vault, secrets={"client_secret": "new"})
    assert not _row(world, bad).error
    world.clock.advance(days=1)
    _tick(world)
    assert world.sync.count(bad) == 2 and _row(world, bad).last_outcome == "synced"


def test_a_person_retrying_a_district_in_error_runs_it_and_clears_the_error(world):
    bad = world.ids[0]
    world.sync.script[bad] = [Terminal("forbidden")]
    _tick(world)
    assert _row(world, bad).error
    world.scheduler.run_now(bad, "full")
    world.scheduler.wait_idle(10)
    assert world.sync.calls[-1] == (bad, "full")
    assert not _row(world, bad).error


def test_a_run_that_starts_after_its_window_closed_is_missed(world):
    order = Order(connection_id=world.ids[0], mode="delta", reason="nightly delta sync",
                  night=dt.date(2026, 9, 8), deadline=dt.datetime(2026, 9, 9, 5, tzinfo=UTC))
    world.clock.now = dt.datetime(2026, 9, 9, 6, tzinfo=UTC)
    outcome = execute(world.services, order)
    assert outcome.kind == "missed" and world.sync.calls == []


def test_a_night_delivered_twice_is_synced_once(world):
    order = Order(connection_id=world.ids[0], mode="delta", reason="nightly delta sync",
                  night=dt.date(2026, 9, 8), deadline=dt.datetime(2026, 9, 9, 5, tzinfo=UTC))
    assert execute(world.services, order).kind == "synced"
    assert execute(world.services, order).kind == "skipped"
    assert world.sync.count(world.ids[0]) == 1


def test_two_server_processes_never_claim_the_same_night(world, tmp_path):
    other_engine = create_engine_for(f"sqlite:///{tmp_path / 'store.db'}")
    other = EmbeddedScheduler(JobServices(engine=other_engine, run_sync=world.sync, clock=world.clock), tick=3600)
    try:
        started = world.scheduler.tick()
        assert world.scheduler.wait_idle(10)
        started += other.tick()
        assert other.wait_idle(10)
    finally:
        other.stop()
        other_engine.dispose()
    assert len(started) == 3
    assert sorted(cid for cid, _ in world.sync.calls) == sorted(world.ids)


def test_a_restarted_server_resumes_a_night_it_claimed_but_did_not_finish(world):
    with begin_write(world.engine) as db:
        from rostersync.store.schedule_tables import claim_night

        claim_night(db=db, connection_id=world.ids[0], night=dt.date(2026, 9, 8), at=TUESDAY_NIGHT)
    started = _tick(world)  # a fresh scheduler: resumes district-0 and starts the others
    assert sorted(o.connection_id for o in started) == sorted(world.ids)
    assert world.sync.count(world.ids[0]) == 1


def test_custom_windows_and_summer_pauses_are_honoured(world):
    with begin_write(world.engine) as db:
        set_policy(db=db, connection_id=world.ids[0], window_start="01:00", window_end="03:00",
                   full_weekday=None, summer_pause=None)
        set_policy(db=db, connection_id=world.ids[1], window_start=None, window_end=None, full_weekday=None,
                   summer_pause=(dt.date(2026, 9, 1), dt.date(2026, 9, 30)))
    _tick(world)  # 23:00: only district-2 is in its window and out of any pause
    assert [cid for cid, _ in world.sync.calls] == [world.ids[2]]
    world.clock.advance(hours=3)  # 02:00
    _tick(world)
    assert world.sync.count(world.ids[0]) == 1 and world.sync.count(world.ids[1]) == 0


def test_the_scheduler_thread_starts_and_stops(world):
    scheduler = EmbeddedScheduler(world.services, tick=0.05).start()
    try:
        assert scheduler.running
        deadline = dt.datetime.now() + dt.timedelta(seconds=10)
        while len(world.sync.calls) < 3 and dt.datetime.now() < deadline:
            threading.Event().wait(0.05)
    finally:
        scheduler.stop()
    assert not scheduler.running
    assert len(world.sync.calls) == 3
