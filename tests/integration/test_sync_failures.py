"""Bad collections and bad records: nothing is deleted because a fetch failed, malformed records
are reported with their kind and sourcedId and never stop the run."""

from __future__ import annotations

import pytest

from rostersync.oneroster.kinds import Kind
from rostersync.sandbox.district import generate
from rostersync.source.errors import CredentialsRefused, ProviderUnavailable
from rostersync.store import get_checkpoints
from rostersync.sync.testing import FakeReader


@pytest.fixture
def store_url(tmp_path) -> str:
    """SQLite only: what is tested here does not depend on the database."""
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
def reader() -> FakeReader:
    return FakeReader.from_district(generate(seed=3, students=40))


@pytest.fixture
def synced(harness, reader):
    """A connection synced once from ``reader``; returns its SyncEngine."""
    harness.add()
    sync = harness.sync_engine(reader)
    assert sync.run("district").state == "applied"
    return sync


def codes(result) -> list[str]:
    return [w.code for w in result.warnings]


def test_an_empty_collection_is_not_reconciled(harness, reader, synced):
    before = harness.live()
    reader.replace("students", [])

    result = synced.run("district")

    assert result.state == "applied"
    assert result.collections["students"]["state"] == "empty"
    (warning,) = [w for w in result.warnings if w.code == "collection_empty"]
    assert "students" in warning.message and warning.fix
    assert result.counts[Kind.USER].deleted == 0
    assert harness.live()[Kind.USER] == before[Kind.USER]


def test_a_failed_collection_is_neither_applied_nor_reconciled(harness, reader, synced):
    teachers, students = reader.collections["teachers"], reader.collections["students"]
    reader.replace("teachers", [{**t, "familyName": "Changed"} for t in teachers])
    reader.replace("students", [{**s, "givenName": "Renamed"} if i == 0 else s for i, s in enumerate(students[:-1])])
    reader.fail("teachers", ProviderUnavailable("the provider answered 503"), after=1)
    with harness.engine.connect() as db:
        marks_before = get_checkpoints(db=db, connection_id=harness.connection().id)

    result = synced.run("district")

    assert result.state == "applied"
    assert result.collections["teachers"]["state"] == "failed"
    (warning,) = [w for w in result.warnings if w.code == "collection_failed"]
    assert "teachers" in warning.message and warning.fix
    users = harness.live()[Kind.USER]
    assert all(users[t["sourcedId"]]["familyName"] != "Changed" for t in teachers)  # nothing from teachers
    assert users[students[0]["sourcedId"]]["givenName"] == "Renamed"  # students were read fine
    assert students[-1]["sourcedId"] in users  # users are not reconciled without every collection of users
    assert result.counts[Kind.USER].deleted == 0
    with harness.engine.connect() as db:
        marks = get_checkpoints(db=db, connection_id=harness.connection().id)
    assert marks["teachers"] == marks_before["teachers"]


def test_a_terminal_error_fails_the_run_with_its_fix_and_changes_nothing(harness, reader, synced):
    before = harness.snapshot()
    reader.replace("students", reader.collections["students"][:-5])
    reader.fail("enrollments", CredentialsRefused(), after=10)

    result = synced.run("district")

    assert result.state == "failed" and result.failed
    (error,) = result.errors
    assert error.message == "The OneRoster provider refused the credentials."
    assert error.fix == CredentialsRefused.default_fix
    assert harness.snapshot() == before
    assert harness.staged_count() == 0


def test_malformed_records_are_reported_and_never_stop_the_run(harness, reader, synced):
    students = reader.collections["students"]
    existing = students[0]
    conflicting = students[1]
    good_new = {**students[2], "sourcedId": "s-fresh"}
    reader.inject(
        "students",
        {**existing, "sourcedId": None},                                   # no sourcedId
        ["not", "an", "object"],                                          # not a record at all
        {**existing, "givenName": "x" * 20_000},                          # a giant string (copy of a stored id)
        {**conflicting, "familyName": "Other"},                           # duplicate, different content
        good_new, dict(good_new),                                         # duplicate, identical
        {**students[3], "sourcedId": "s-odd-role", "role": "wizard"},     # an invalid enum: stored as sent
    )
    stored = harness.live()[Kind.USER]

    result = synced.run("district")

    assert result.state == "applied"
    users = harness.live()[Kind.USER]
    assert users[existing["sourcedId"]] == stored[existing["sourcedId"]]  # unusable copy: kept as it was
    assert users[conflicting["sourcedId"]] == stored[conflicting["sourcedId"]]
    assert users["s-fresh"] == good_new
    assert users["s-odd-role"]["role"] == "wizard"
    malformed = [w for w in result.warnings if w.code == "malformed"]
    assert any(w.kind == "user" and w.sourced_id is None and "sourcedId" in w.message for w in malformed)
    assert any(w.kind == "user" and w.sourced_id == existing["sourcedId"] and "givenName" in w.message
               for w in malformed)
    duplicates = {w.sourced_id: w.message for w in result.warnings if w.code == "duplicate"}
    assert "different content" in duplicates[conflicting["sourcedId"]]
    assert "identical" in duplicates["s-fresh"]
    assert any(w.code == "problems" and "role" in w.message for w in result.warnings)
    assert result.counts[Kind.USER].skipped == 2
    assert result.counts[Kind.USER].deleted == 0
