"""Syncs against the sandbox (a simulated Infinite Campus) over loopback HTTP, with the real
client, on SQLite and PostgreSQL: the store equals the district, day after day."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rostersync.oneroster.kinds import Kind, Version
from rostersync.sandbox.server import Sandbox, start_sandbox
from rostersync.store import changes, get_checkpoints, get_record

# seed 18, 100 students, from school day 3: records marked tobedeleted are served, and the next
# day a student enrolls, another withdraws (absent from then on), enrollments come and go
SEED, STUDENTS, START_DAY = 18, 100, 3


@pytest.fixture
def box() -> Iterator[Sandbox]:
    with start_sandbox(students=STUDENTS, seed=SEED, day=START_DAY) as sandbox:
        yield sandbox


def served(box: Sandbox) -> dict[Kind, dict[str, dict]]:
    """What the district serves now, that is not marked tobedeleted: {kind: {sourcedId: record}}."""
    return {
        kind: {r["sourcedId"]: dict(r) for r in box.district.records(kind, Version.V1P1) if r["status"] == "active"}
        for kind in Kind
    }


def test_day_one_full_sync_equals_the_district_exactly(harness, box, connect):
    sync = connect(box, "district")
    result = sync.run("district", mode="full")

    assert result.state == "applied"
    assert harness.live("district") == served(box)
    total = sum(len(v) for v in served(box).values())
    marked = sum(1 for kind in Kind for r in box.district.records(kind, Version.V1P1) if r["status"] != "active")
    assert marked, "the sandbox's district should serve records marked tobedeleted"
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


def test_day_two_delta_and_day_two_full_give_the_same_store(harness, box, connect):
    by_delta = connect(box, "by-delta")
    by_full = connect(box, "by-full")
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

    # a withdrawal is soft-deleted: the time, the run, and the last known record are kept
    with harness.engine.connect() as db:
        gone = get_record(db=db, connection_id=harness.connection("by-full").id, kind=Kind.USER,
                          sourced_id=withdrawn[0])
    assert gone.deleted and gone.deleted_by_run == full.run_id and gone.deleted_at == full.finished_at
    assert gone.status == "tobedeleted" and gone.raw["sourcedId"] == withdrawn[0] and gone.raw["givenName"]

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


def test_delta_checkpoint_is_the_providers_newest_date_and_overlap_rereads_are_harmless(harness, box, connect):
    sync = connect(box, "district")
    sync.run("district")
    box.advance()
    first = sync.run("district", mode="delta")
    second = sync.run("district", mode="delta")  # nothing new: only the overlap window is read again

    assert second.total.changes == 0
    assert second.records_read == second.total.unchanged  # re-read records are recognised as unchanged
    with harness.engine.connect() as db:
        marks = get_checkpoints(db=db, connection_id=harness.connection("district").id)
    newest = max(r["dateLastModified"] for r in box.district.records(Kind.ENROLLMENT, Version.V1P1))
    assert marks["enrollments"].isoformat(timespec="milliseconds").replace("+00:00", "Z") == newest
    assert first.collections["enrollments"]["since"] is not None
