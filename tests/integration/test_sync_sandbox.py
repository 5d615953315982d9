"""Syncs against the sandbox (a simulated Infinite Campus) over loopback HTTP, with the real
client, on SQLite and PostgreSQL: the store equals the district, day after day."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rostersync.oneroster.kinds import Kind, Version
from rostersync.sandbox.server import Sandbox, start_sandbox
from rostersync.source.connection import ConnectionSpec, OAuth2Credentials
from rostersync.store import begin_write, changes, records
from rostersync.store.connections import add_connection
from rostersync.sync import SyncEngine, client_reader_factory

# seed 1, 300 students: school day 3 withdraws a student (absent from then on), day 2 marks
# records tobedeleted; both appear in the district's change log
SEED, STUDENTS, START_DAY = 1, 300, 2


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with start_sandbox(students=STUDENTS, seed=SEED, day=START_DAY) as sandbox:
        yield sandbox


def connect(harness, box: Sandbox, name: str, *, secret: str | None = None, **options) -> SyncEngine:
    c = box.credentials
    spec = ConnectionSpec(credentials=OAuth2Credentials(
        client_id=c.client_id, client_secret=secret or c.client_secret, token_url=c.token_url, base_url=c.base_url))
    with begin_write(harness.engine) as db:
        add_connection(db=db, vault=harness.vault, name=name, settings=spec.to_dict(), secrets=spec.secrets(),
                       profile=spec.profile, **options)
    return SyncEngine(engine=harness.engine, vault=harness.vault, reader_factory=client_reader_factory(peak=False))


def served(box: Sandbox) -> dict[Kind, dict[str, dict]]:
    """What the district serves now, that is not marked tobedeleted: {kind: {sourcedId: record}}."""
    return {
        kind: {r["sourcedId"]: dict(r) for r in box.district.records(kind, Version.V1P1) if r["status"] == "active"}
        for kind in Kind
    }


def test_day_one_full_sync_equals_the_district_exactly(harness, box):
    sync = connect(harness, box, "district")
    result = sync.run("district", mode="full")

    assert result.state == "applied"
    assert harness.live("district") == served(box)
    total = sum(len(v) for v in served(box).values())
    marked = sum(1 for kind in Kind for r in box.district.records(kind, Version.V1P1) if r["status"] != "active")
    assert marked, "the sandbox's day 2 should serve records marked tobedeleted"
    assert result.total.created == total and result.total.deleted == 0
    assert result.total.unchanged == marked  # tobedeleted and never stored: nothing to do
    assert result.records_read == total + marked
    assert result.warnings == [] and result.errors == [] and result.unresolved == {}
    assert set(result.collections) == {"orgs", "academicSessions", "demographics", "students", "teachers",
                                       "courses", "classes", "enrollments"}

    again = sync.run("district", mode="full")  # nothing changed at the provider
    assert again.state == "applied"
    assert again.total.changes == 0 and again.total.unchanged == total + marked
    with harness.engine.connect() as db:
        cid = harness.connection("district").id
        assert changes(db=db, connection_id=cid, run_id=again.run_id) == []
        assert len(changes(db=db, connection_id=cid, run_id=result.run_id)) == total


def test_day_two_delta_and_day_two_full_give_the_same_store(harness, box):
    by_delta = connect(harness, box, "by-delta")
    by_full = connect(harness, box, "by-full")
    by_delta.run("by-delta", mode="full")
    by_full.run("by-full", mode="full")

    box.advance()  # the next school day: a student withdraws, enrollments come and go
    day = box.district.day
    log = box.district.changes(day)
    withdrawn = log[Kind.USER]["deleted"]
    assert withdrawn, "the sandbox's day should withdraw a student"

    delta = by_delta.run("by-delta", mode="delta")
    full = by_full.run("by-full", mode="full")
    assert delta.state == full.state == "applied"
    assert delta.records_read < full.records_read / 10  # a delta reads only what changed

    truth = served(box)
    assert harness.live("by-full") == truth
    # a delta cannot see absence: the withdrawn records are still live there, and nothing else differs
    after_delta = harness.live("by-delta")
    for kind in Kind:
        absent = set(log[kind]["deleted"])
        assert set(after_delta[kind]) - set(truth[kind]) == absent
        assert {k: v for k, v in after_delta[kind].items() if k not in absent} == truth[kind]
    # the next full run deletes them, and then both stores are the same
    catch_up = by_delta.run("by-delta", mode="full")
    assert harness.live("by-delta") == truth
    assert catch_up.counts[Kind.USER].deleted == len(withdrawn)

    # the full run's change feed is the district's own log of the day
    with harness.engine.connect() as db:
        feed = changes(db=db, connection_id=harness.connection("by-full").id, run_id=full.run_id)
    for kind in Kind:
        got = {action: {c.sourced_id for c in feed if c.kind is kind and c.action == action}
               for action in ("created", "updated", "deleted")}
        assert got["created"] == set(log[kind]["created"])
        assert got["updated"] == set(log[kind]["updated"])
        assert got["deleted"] == set(log[kind]["deleted"]) | set(log[kind]["tobedeleted"])
    assert all(c.changed_fields for c in feed if c.action == "updated")


def test_withdrawals_are_soft_deleted_by_the_full_run_with_time_and_run(harness, box):
    sync = connect(harness, box, "district")
    sync.run("district")
    box.advance()
    (student,) = box.district.changes(box.district.day)[Kind.USER]["deleted"]

    result = sync.run("district", mode="full")

    with harness.engine.connect() as db:
        cid = harness.connection("district").id
        (row,) = [r for r in records(db=db, connection_id=cid, kind=Kind.USER, include_deleted=True)
                  if r.sourced_id == student]
        live_ids = {r.sourced_id for r in records(db=db, connection_id=cid, kind=Kind.USER)}
    assert row.deleted and row.deleted_by_run == result.run_id
    assert row.deleted_at == result.finished_at
    assert row.raw["sourcedId"] == student and row.raw["givenName"]  # the last known record is kept
    assert student not in live_ids


def test_delta_checkpoint_is_the_providers_newest_date_and_overlap_rereads_are_harmless(harness, box):
    sync = connect(harness, box, "district")
    sync.run("district")
    box.advance()
    first = sync.run("district", mode="delta")
    second = sync.run("district", mode="delta")  # nothing new: only the overlap window is read again

    assert second.total.changes == 0
    assert second.records_read == second.total.unchanged  # re-read records are recognised as unchanged
    with harness.engine.connect() as db:
        from rostersync.store import get_checkpoints

        marks = get_checkpoints(db=db, connection_id=harness.connection("district").id)
    newest = max(r["dateLastModified"] for r in box.district.records(Kind.ENROLLMENT, Version.V1P1))
    assert marks["enrollments"].isoformat(timespec="milliseconds").replace("+00:00", "Z") == newest
    assert first.collections["enrollments"]["since"] is not None


def test_refused_credentials_fail_the_run_with_the_fix_and_change_nothing(harness, box):
    good = connect(harness, box, "district")
    good.run("district")
    before = harness.snapshot("district")
    bad = connect(harness, box, "wrong-secret", secret="not-the-secret-at-all")

    result = bad.run("wrong-secret")

    assert result.state == "failed"
    (error,) = result.errors
    assert "refused" in error.message.lower() and error.fix
    assert harness.live("wrong-secret") == {kind: {} for kind in Kind}
    assert harness.snapshot("district") == before
    assert harness.staged_count() == 0


def test_demographics_not_shared_is_a_terminal_error_naming_the_fix(harness, box):
    sync = connect(harness, box, "district")
    box.demographics = False  # the district did not tick Demographics in "Data to Share"

    result = sync.run("district")

    assert result.state == "failed"
    assert "Demographics" in result.errors[0].fix
    assert harness.live("district") == {kind: {} for kind in Kind}
