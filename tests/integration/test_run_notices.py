"""Held and failed runs are announced: a dashboard notification and a signed webhook event.

Every path that runs a sync goes through the job runner: the dashboard's
"Sync now" (the embedded scheduler of ``rostersync serve``), a procrastinate
worker, and the schedules. Deliveries go to a real HTTP receiver on
127.0.0.1 that verifies the signature. A delivery that fails is logged
(without the secret) and never changes how the sync job ended.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

import pytest
from fastapi.testclient import TestClient

from rostersync.jobs.control import enqueue_run, set_schedule
from rostersync.jobs.model import JobServices, Order, SyncReport
from rostersync.jobs.runner import execute
from rostersync.jobs.services import build_job_services
from rostersync.sandbox.server import start_sandbox
from rostersync.schedule import RetryPolicy
from rostersync.settings import Settings
from rostersync.source.connection import ConnectionSpec, OAuth2Credentials
from rostersync.store import add_connection, begin_write, create_engine_for, list_runs, migrate, update_connection
from rostersync.store.runs import create_run, update_run
from rostersync.store.schedule_tables import schedule_row
from rostersync.vault import Vault, generate_key
from rostersync.web import links, webhook
from rostersync.web.activity import recent_notifications
from rostersync.web.app import create_app
from rostersync.jobs.notices import run_notifier
from rostersync.netguard import NetPolicy
from rostersync.web.server import build_server_services
from rostersync.web.testing import WebhookReceiver, add_staff, local_settings, sign_in

SIGNING = "run-events-signing-secret-77"
WRONG = "not-the-client-secret-0000"
LOOPBACK = NetPolicy(allow_http=True, allowed_hosts=frozenset({"127.0.0.1"}))
HELD_KEYS = {"event", "at", "district", "connection", "run_id", "mode", "trigger", "reason", "hold_reasons", "url"}
FAILED_KEYS = {"event", "at", "district", "connection", "run_id", "mode", "trigger", "reason", "outcome", "error",
               "fix", "detail", "attempts", "url"}


def _add(engine, vault: Vault, box, name: str, *, secret: str | None = None):
    """A connection reading ``box``, whose sync window is not now (only manual runs happen)."""
    c = box.credentials
    spec = ConnectionSpec(OAuth2Credentials(c.client_id, secret or c.client_secret, c.token_url, c.base_url))
    with begin_write(engine) as db:
        conn = add_connection(db=db, vault=vault, name=name, settings=spec.to_dict(), secrets=spec.secrets(),
                              timezone="UTC")
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=3)
    set_schedule(engine, name, window=f"{later:%H}:00-{(later + dt.timedelta(hours=1)):%H}:00")
    return conn


def _hold_everything(engine, name: str) -> None:
    with begin_write(engine) as db:
        update_connection(db=db, name=name, hold_delete_percent=0, hold_update_percent=0, hold_min_records=1)


def _wait(what: str, predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def _latest_run(engine, connection_id: int):
    with engine.connect() as db:
        runs = list_runs(db=db, connection_id=connection_id, limit=1)
    return runs[0] if runs else None


def _notices(engine) -> list:
    with engine.connect() as db:
        return recent_notifications(conn=db)


def test_sync_now_on_the_dashboard_announces_failed_and_held_runs(tmp_path):
    settings = local_settings(tmp_path)
    store = create_engine_for(settings.database_url)
    migrate(store)
    vault = Vault.from_settings(settings)
    with start_sandbox(students=30, seed=21) as box, WebhookReceiver(SIGNING) as hook:
        bad = _add(store, vault, box, "bad-credentials", secret=WRONG)
        good = _add(store, vault, box, "lincoln")
        store.dispose()
        services = build_server_services(settings, tick=3600)  # "Sync now" runs in the embedded scheduler
        try:
            add_staff(services)
            client = TestClient(create_app(settings, services=services))
            token = sign_in(client)
            client.post("/settings/webhook", data={"url": hook.url, "secret": SIGNING, "csrf_token": token})
            client.get("/")  # connections added outside the web get their district
            with services.engine.connect() as db:
                bad_id = links.district_by_connection("bad-credentials", conn=db).id
                good_id = links.district_by_connection("lincoln", conn=db).id

            client.post(f"/districts/{bad_id}/sync", data={"mode": "full", "csrf_token": token})
            (failed,) = hook.wait_for(1)  # signature and timestamp verified
            run = _latest_run(services.engine, bad.id)
            assert set(failed) == FAILED_KEYS
            assert failed["event"] == "run.failed" and failed["outcome"] == "error"
            assert (failed["connection"], failed["district"], failed["mode"], failed["trigger"]) == (
                "bad-credentials", "bad-credentials", "full", "manual")
            assert failed["run_id"] == run.id and failed["url"] == f"http://testserver/runs/{run.id}"
            assert "refused" in failed["error"] and failed["fix"] == run.errors[0]["fix"]

            client.post(f"/districts/{good_id}/sync", data={"mode": "full", "csrf_token": token})
            _wait("the first sync to apply", lambda: getattr(_latest_run(services.engine, good.id), "state", "")
                  == "applied")
            _hold_everything(services.engine, "lincoln")
            box.advance(2)
            client.post(f"/districts/{good_id}/sync", data={"mode": "delta", "csrf_token": token})
            held = hook.wait_for(2)[1]
            run = _latest_run(services.engine, good.id)
            assert set(held) == HELD_KEYS and held["event"] == "run.held" and run.state == "held"
            assert (held["run_id"], held["mode"], held["url"]) == (run.id, "delta", f"http://testserver/runs/{run.id}")
            assert held["hold_reasons"] == run.hold_reasons and held["hold_reasons"]

            bodies = b"".join(body for _, body in hook.received)
            for secret in (WRONG, box.credentials.client_secret, SIGNING):
                assert secret.encode() not in bodies
            page = client.get("/notifications").text
            assert f"Run #{run.id} of lincoln (manual delta sync) was held for review" in page
            assert "The manual full sync of bad-credentials failed" in page
            client.close()
        finally:
            services.close()


@pytest.mark.postgres
def test_a_worker_announces_failed_and_held_runs(pg_url):
    from rostersync.jobs.app import build_job_app
    from rostersync.jobs.pg import conninfo_from_url, ensure_job_schema
    from rostersync.jobs.worker import WorkerOptions, run_worker
    from rostersync.sync import SyncEngine, client_reader_factory

    ensure_job_schema(conninfo_from_url(pg_url))
    key = generate_key()
    settings = Settings(database_url=pg_url, secret_key=key, allow_http=True, allowed_hosts=["127.0.0.1"])
    engine, vault = create_engine_for(pg_url), Vault.from_key_text(key)
    try:
        with start_sandbox(students=30, seed=22) as box, WebhookReceiver(SIGNING) as hook:
            bad = _add(engine, vault, box, "bad-credentials", secret=WRONG)
            good = _add(engine, vault, box, "lincoln")
            with begin_write(engine) as db:
                district = links.ensure_district("lincoln", "Lincoln USD", "UTC", conn=db)
                webhook.configure(hook.url, SIGNING, "staff", conn=db, vault=vault, policy=LOOPBACK,
                                  dashboard_url="https://rostersync.example.org/")
            sync = SyncEngine(engine=engine, vault=vault, reader_factory=client_reader_factory())
            assert sync.run("lincoln", mode="full").state == "applied"
            _hold_everything(engine, "lincoln")
            box.advance(2)
            app = build_job_app(settings, tick_seconds=None)
            with app.open():
                enqueue_run(app, bad.id, "full")
                enqueue_run(app, good.id, "delta")
            # The worker's own services: build_job_services wires the announcements by default.
            run_worker(settings, WorkerOptions(burst=True, tick_seconds=None, poll=0.1),
                       services=build_job_services(settings, engine=engine))
            events = {e["event"]: e for e in hook.wait_for(2)}
        failed, held = events["run.failed"], events["run.held"]
        bad_run, held_run = _latest_run(engine, bad.id), _latest_run(engine, good.id)
        assert set(failed) == FAILED_KEYS and set(held) == HELD_KEYS
        assert (failed["connection"], failed["run_id"], failed["outcome"]) == ("bad-credentials", bad_run.id, "error")
        assert failed["url"] == f"https://rostersync.example.org/runs/{bad_run.id}" and failed["fix"]
        assert (held["district"], held["run_id"], held["mode"]) == ("Lincoln USD", held_run.id, "delta")
        assert held["hold_reasons"] == held_run.hold_reasons and held_run.state == "held"
        notices = {n.level: n for n in _notices(engine)}
        assert notices["warning"].district_id == district.id and "held for review" in notices["warning"].message
        assert "bad-credentials failed" in notices["error"].message and notices["error"].district_id is None
    finally:
        engine.dispose()


# -- the runner's side, with a scripted sync ---------------------------------------------------------


class Script:
    """run_sync stand-in: gives the next step in turn and records a run for it."""

    def __init__(self, engine, steps: list) -> None:
        self.engine, self.steps = engine, list(steps)

    def __call__(self, connection_id: int, mode: str) -> SyncReport:
        step = self.steps.pop(0)
        with begin_write(self.engine) as db:
            run_id = create_run(db=db, connection_id=connection_id, mode=mode, dry_run=False, base_run_id=None)
            update_run(db=db, run_id=run_id, state=step.state if step.state != "incomplete" else "applied",
                       hold_reasons=["40% of users would be deleted (limit 10%)"] if step.state == "held" else [])
        return SyncReport(state=step.state, run_id=run_id, message=step.message, fix=step.fix,
                          terminal=step.terminal)


TIMEOUT = SyncReport(state="failed", message="the provider did not answer in time", fix="Nothing to do.")


@pytest.fixture
def store(tmp_path):
    engine = create_engine_for(f"sqlite:///{tmp_path / 'store.db'}")
    migrate(engine)
    vault = Vault.from_key_text(generate_key())
    with begin_write(engine) as db:
        conn = add_connection(db=db, vault=vault, name="springfield", settings={"base_url": "https://x.test"},
                              secrets={"client_secret": "client-secret-1234"}, timezone="UTC")
    yield type("Store", (), dict(engine=engine, vault=vault, connection_id=conn.id))
    engine.dispose()


def _services(store, steps, **options) -> JobServices:
    settings = Settings(database_url=str(store.engine.url), allow_http=True, allowed_hosts=["127.0.0.1"])
    options.setdefault("announce", run_notifier(settings, engine=store.engine, vault=store.vault))
    return JobServices(engine=store.engine, run_sync=Script(store.engine, steps), **options)


def _configure(store, url: str) -> None:
    with begin_write(store.engine) as db:
        webhook.configure(url, SIGNING, "staff", conn=db, vault=store.vault, policy=LOOPBACK)


def test_a_refused_delivery_is_logged_without_the_secret_and_the_job_ends_as_it_did(store, caplog):
    held = SyncReport(state="held", message="held for review: 40% of users would be deleted (limit 10%)")
    with WebhookReceiver(SIGNING, status=500) as hook:
        _configure(store, hook.url)
        with caplog.at_level(logging.WARNING):
            outcome = execute(_services(store, [held]), Order(connection_id=store.connection_id, mode="delta"))
        assert hook.wait_for(1)[0]["url"] == f"/runs/{outcome.run_id}"  # no dashboard address known: the path
    assert outcome.kind == "held"
    assert "webhook run.held to 127.0.0.1 answered HTTP 500" in caplog.text
    assert SIGNING not in caplog.text and "/hooks/rostersync" not in caplog.text
    (notice,) = _notices(store.engine)  # the dashboard heard of it all the same
    assert "was held for review: 40% of users would be deleted (limit 10%)" in notice.message


def test_an_unreachable_receiver_or_a_broken_notifier_never_fails_the_job(store, caplog):
    with WebhookReceiver(SIGNING) as hook:
        _configure(store, hook.url)
    # the receiver is gone: the connection is refused
    terminal = SyncReport(state="failed", message="the provider refused the Client ID", fix="Send a new link.",
                          terminal=True)
    with caplog.at_level(logging.WARNING):
        outcome = execute(_services(store, [terminal]), Order(connection_id=store.connection_id, mode="full"))
    assert outcome.kind == "error" and "run.failed to 127.0.0.1 not delivered: ConnectError" in caplog.text

    def broken(event):
        raise RuntimeError(f"boom {SIGNING}")

    with caplog.at_level(logging.WARNING):
        outcome = execute(_services(store, [terminal], announce=broken),
                          Order(connection_id=store.connection_id, mode="full"))
    assert outcome.kind == "error"
    assert "run.failed of run" in caplog.text and "was not announced (RuntimeError)" in caplog.text
    assert SIGNING not in caplog.text
    with store.engine.connect() as db:
        assert schedule_row(db=db, connection_id=store.connection_id).error  # recorded all the same


def test_a_failure_is_announced_once_its_retries_stop(store):
    events = []
    services = _services(store, [TIMEOUT, TIMEOUT, SyncReport(state="applied")], announce=events.append,
                         retry=RetryPolicy(max_attempts=2, base_delay=1, max_delay=1))
    order = Order(connection_id=store.connection_id, mode="delta")
    assert execute(services, order, attempt=1).kind == "retrying" and events == []
    assert execute(services, order, attempt=2).kind == "gave_up"
    (event,) = events
    assert (event.event, event.outcome, event.attempts, event.scheduled) == ("run.failed", "gave_up", 2, False)
    assert event.message == TIMEOUT.message and event.detail.startswith("gave up after 2 attempts")
    assert execute(services, order).kind == "synced" and len(events) == 1  # a good run says nothing


def test_without_a_webhook_the_dashboard_is_still_notified(store):
    services = _services(store, [TIMEOUT], retry=RetryPolicy(max_attempts=1))
    assert execute(services, Order(connection_id=store.connection_id, mode="delta")).kind == "gave_up"
    (notice,) = _notices(store.engine)
    assert notice.level == "error" and "the provider did not answer in time" in notice.message
