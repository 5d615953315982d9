"""Delta syncs: what is read since when, and when the checkpoint moves."""

from __future__ import annotations

import datetime

import pytest

from rostersync.oneroster.kinds import Kind
from rostersync.store import get_checkpoints
from rostersync.sync.testing import FakeReader

UTC = datetime.timezone.utc
T0 = "2026-09-01T08:00:00.000Z"


def student(sid: str, stamp: str = T0, **fields) -> dict:
    return {"sourcedId": sid, "status": "active", "dateLastModified": stamp, "username": sid,
            "givenName": "Ada", "familyName": "Lovelace", "role": "student", "enabledUser": "true",
            "orgs": [{"sourcedId": "school", "type": "org"}], **fields}


@pytest.fixture
def reader() -> FakeReader:
    school = {"sourcedId": "school", "status": "active", "dateLastModified": T0, "name": "School", "type": "school"}
    return FakeReader({"orgs": [school], "students": [student("s1"), student("s2")],
                       "teachers": [student("t1", role="teacher")]})


def checkpoints(harness) -> dict[str, datetime.datetime]:
    with harness.engine.connect() as db:
        return get_checkpoints(db=db, connection_id=harness.connection().id)


def test_the_checkpoint_is_the_providers_clock_not_ours(harness, reader):
    harness.add()
    skewed = datetime.datetime(2031, 1, 1, tzinfo=UTC)  # our clock is years off
    sync = harness.sync_engine(reader, clock=lambda: skewed)
    sync.run("district", mode="full")

    marks = checkpoints(harness)
    assert marks["students"] == datetime.datetime(2026, 9, 1, 8, tzinfo=UTC)
    assert "enrollments" not in marks  # nothing came back: no checkpoint to trust


def test_a_delta_reads_since_the_checkpoint_minus_the_overlap_and_re_reads_are_idempotent(harness, reader):
    harness.add()
    sync = harness.sync_engine(reader, overlap=datetime.timedelta(hours=1))
    sync.run("district", mode="full")
    later = "2026-09-01T08:30:00.000Z"  # inside the overlap window of the next delta
    reader.replace("students", [student("s1"), student("s2", later, familyName="Byron"), student("s3", later)])
    reader.calls.clear()

    first = sync.run("district", mode="delta")

    since = dict(reader.calls)
    assert since["students"] == datetime.datetime(2026, 9, 1, 7, tzinfo=UTC)
    assert since["enrollments"] is None  # never had a checkpoint: read whole
    assert first.counts[Kind.USER].created == 1 and first.counts[Kind.USER].updated == 1
    assert first.counts[Kind.USER].unchanged == 2  # s1 and t1, seen again across the overlap

    second = sync.run("district", mode="delta")
    assert dict(reader.calls[-8:])["students"] == datetime.datetime(2026, 9, 1, 7, 30, tzinfo=UTC)
    assert second.total.changes == 0
    assert second.counts[Kind.USER].unchanged == 4  # s1, s2, s3 and t1 read again, all unchanged


def test_a_delta_deletes_tobedeleted_records_but_never_from_absence(harness, reader):
    harness.add()
    sync = harness.sync_engine(reader)
    sync.run("district", mode="full")
    later = "2026-09-02T09:00:00.000Z"
    reader.replace("students", [student("s2", later, status="tobedeleted")])  # s1 silently absent

    result = sync.run("district", mode="delta")

    live = harness.live()[Kind.USER]
    assert "s2" not in live and "s1" in live
    assert result.counts[Kind.USER].deleted == 1


def test_held_and_dry_runs_do_not_move_the_checkpoint_approval_does(harness, reader):
    harness.add(hold_min_records=1, hold_update_percent=50)
    sync = harness.sync_engine(reader)
    sync.run("district", mode="full")
    before = checkpoints(harness)
    later = "2026-09-03T10:00:00.000Z"
    reader.replace("students", [student(s, later, familyName="Changed") for s in ("s1", "s2")])

    preview = sync.run("district", mode="delta", dry_run=True)
    assert preview.state == "discarded" and checkpoints(harness) == before
    held = sync.run("district", mode="delta")
    assert held.state == "held" and checkpoints(harness) == before

    sync.approve(held.run_id)
    assert checkpoints(harness)["students"] == datetime.datetime(2026, 9, 3, 10, tzinfo=UTC)
    assert checkpoints(harness)["teachers"] == before["teachers"]
