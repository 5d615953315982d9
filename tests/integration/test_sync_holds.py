"""The guard: a run that would change too much is held, then approved or discarded; dry runs."""

from __future__ import annotations

import pytest

from rostersync.oneroster.kinds import Kind
from rostersync.sandbox.district import generate
from rostersync.store import begin_write, changes, update_connection
from rostersync.sync import RunNotHeld, StoreMoved
from rostersync.sync.testing import FakeReader


@pytest.fixture
def reader() -> FakeReader:
    return FakeReader.from_district(generate(seed=5, students=60))


def drop_enrollments(reader: FakeReader, share: float) -> set[str]:
    items = reader.collections["enrollments"]
    cut = int(len(items) * share)
    gone = {r["sourcedId"] for r in items[:cut]}
    reader.replace("enrollments", items[cut:])
    return gone


def test_a_run_deleting_too_much_is_held_and_its_approval_applies_exactly_the_staged_diff(harness, reader):
    harness.add()
    sync = harness.sync_engine(reader)
    sync.run("district")
    before = harness.live()
    gone = drop_enrollments(reader, 0.2)

    held = sync.run("district")

    assert held.state == "held" and held.held
    assert held.counts[Kind.ENROLLMENT].deleted == len(gone)
    assert any("enrollments" in reason and "would be deleted" in reason for reason in held.hold_reasons)
    assert harness.live() == before  # nothing applied
    assert harness.staged_count() > 0  # the diff is kept for review

    # the provider moves on meanwhile; approval applies the reviewed diff, not a new read
    reader.inject("students", {**reader.collections["students"][0], "sourcedId": "s-new-after-review"})
    approved = sync.approve(held.run_id)

    assert approved.state == "applied"
    live = harness.live()
    assert set(before[Kind.ENROLLMENT]) - set(live[Kind.ENROLLMENT]) == gone
    assert "s-new-after-review" not in live[Kind.USER]
    with harness.engine.connect() as db:
        feed = changes(db=db, connection_id=harness.connection().id, run_id=held.run_id)
    assert {c.sourced_id for c in feed} == gone and {c.action for c in feed} == {"deleted"}
    assert harness.staged_count() == 0
    with pytest.raises(RunNotHeld):
        sync.approve(held.run_id)  # only once


def test_a_discarded_run_changes_nothing_and_keeps_nothing(harness, reader):
    harness.add()
    sync = harness.sync_engine(reader)
    sync.run("district")
    before = harness.snapshot()
    drop_enrollments(reader, 0.5)
    held = sync.run("district")
    assert held.state == "held"

    discarded = sync.discard(held.run_id)

    assert discarded.state == "discarded"
    assert harness.snapshot() == before
    assert harness.staged_count() == 0
    with pytest.raises(RunNotHeld) as info:
        sync.approve(held.run_id)
    assert "discarded" in str(info.value) and info.value.fix


def test_approval_is_refused_once_another_run_has_been_applied(harness, reader):
    harness.add()
    sync = harness.sync_engine(reader)
    sync.run("district")
    original = list(reader.collections["enrollments"])
    drop_enrollments(reader, 0.3)
    held = sync.run("district")
    reader.replace("enrollments", original)
    later = sync.run("district")  # the provider is back to normal: applied
    assert later.state == "applied"
    before = harness.snapshot()

    with pytest.raises(StoreMoved) as info:
        sync.approve(held.run_id)

    assert f"run {later.run_id} was applied" in str(info.value)
    assert "discard" in info.value.fix.lower()
    assert harness.snapshot() == before
    assert sync.result(held.run_id).state == "held"
    assert sync.discard(held.run_id).state == "discarded"


def test_updating_most_records_is_held(harness, reader):
    harness.add()
    sync = harness.sync_engine(reader)
    sync.run("district")
    reader.replace("students", [{**r, "familyName": r["familyName"] + "-renamed"} for r in reader.collections["students"]])

    held = sync.run("district")

    assert held.state == "held"
    assert any("users" in r and "would be updated" in r for r in held.hold_reasons)


def test_a_tiny_district_is_not_held_for_a_few_records(harness):
    small = generate(seed=2, students=4)
    reader = FakeReader.from_district(small)
    harness.add()
    sync = harness.sync_engine(reader)
    sync.run("district")
    students = reader.collections["students"]
    reader.replace("students", students[:1])  # 75% of the students leave, but only 3 records

    result = sync.run("district")

    assert result.state == "applied"
    assert result.counts[Kind.USER].deleted == len(students) - 1


def test_thresholds_are_per_connection(harness, reader):
    harness.add()
    with begin_write(harness.engine) as db:
        update_connection(db=db, name="district", hold_delete_percent=50)
    sync = harness.sync_engine(reader)
    sync.run("district")
    gone = drop_enrollments(reader, 0.2)

    result = sync.run("district")

    assert result.state == "applied" and result.counts[Kind.ENROLLMENT].deleted == len(gone)


def test_a_dry_run_reports_the_diff_and_applies_and_keeps_nothing(harness, reader):
    harness.add()
    sync = harness.sync_engine(reader)
    first = sync.run("district", dry_run=True)
    assert first.state == "discarded" and first.dry_run
    assert first.total.created > 0
    assert harness.live() == {kind: {} for kind in Kind}

    sync.run("district")
    before = harness.snapshot()
    gone = drop_enrollments(reader, 0.25)
    preview = sync.run("district", dry_run=True)

    assert preview.state == "discarded" and preview.dry_run
    assert preview.counts[Kind.ENROLLMENT].deleted == len(gone)
    assert preview.hold_reasons  # it says it would be held
    assert harness.snapshot() == before
    assert harness.staged_count() == 0
