"""What the dashboard reads about runs: latest runs, connections syncing now, a held run's changes."""

from __future__ import annotations

from sqlalchemy import insert

from rostersync.oneroster.kinds import Kind, Version
from rostersync.sandbox.district import generate
from rostersync.store import begin_write
from rostersync.store.dashboard import latest_runs, staged_changes, syncing_connection_ids
from rostersync.store.runs import create_run, update_run
from rostersync.store.tables import STAGED_TABLES
from rostersync.sync.testing import FakeReader


def _run(harness, connection_id: int, state: str, *, dry_run: bool = False) -> int:
    with begin_write(harness.engine) as db:
        run_id = create_run(db=db, connection_id=connection_id, mode="full", dry_run=dry_run, base_run_id=None)
        update_run(db=db, run_id=run_id, state=state)
    return run_id


def test_latest_runs_leave_out_dry_runs_and_syncing_lists_running_ones(harness):
    a, b, idle = harness.add("a").id, harness.add("b").id, harness.add("idle").id
    applied = _run(harness, a, "applied")
    _run(harness, a, "discarded", dry_run=True)
    _run(harness, b, "failed")
    running = _run(harness, b, "running")
    with harness.engine.connect() as db:
        latest = latest_runs(db=db)
        syncing = syncing_connection_ids(db=db)
    assert {cid: run.id for cid, run in latest.items()} == {a: applied, b: running}
    assert latest[a].connection_name == "a" and latest[a].state == "applied"
    assert syncing == {b} and idle not in latest


def test_a_held_runs_changes_count_each_operation_with_examples(harness):
    district = generate(seed=8, students=20)
    harness.add()
    harness.sync_engine(FakeReader.from_district(district)).run("district")
    cid = harness.connection().id
    users = sorted(district.records(Kind.USER, Version.V1P1), key=lambda u: u["sourcedId"])
    run_id = _run(harness, cid, "held")
    staged = STAGED_TABLES[Kind.USER]
    rows = ([{"sourced_id": "new-1", "op": "create", "given_name": "Ada", "family_name": "Lovelace"},
             {"sourced_id": "new-2", "op": "create", "given_name": "Alan", "family_name": "Turing"},
             {"sourced_id": users[1]["sourcedId"], "op": "same"}]
            + [{"sourced_id": u["sourcedId"], "op": "absent"} for u in users[2:5]])
    with begin_write(harness.engine) as db:
        for row in rows:
            db.execute(insert(staged).values(run_id=run_id, skip=False, dup_count=1, **row))
    with harness.engine.connect() as db:
        (changes,) = staged_changes(db=db, run_id=run_id, connection_id=cid, examples=2)
    assert changes.kind is Kind.USER and changes.counts == {"create": 2, "absent": 3}
    assert [e["given_name"] for e in changes.examples["create"]] == ["Ada", "Alan"]
    # nothing was read for an absent record: the example is the stored one, names included
    assert [(e["sourced_id"], e["family_name"]) for e in changes.examples["absent"]] == [
        (u["sourcedId"], u["familyName"]) for u in users[2:4]]
