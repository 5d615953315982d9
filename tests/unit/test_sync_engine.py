"""The sync engine over an in-memory store and a fake reader: what a caller of the API sees."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from rostersync.oneroster.kinds import Kind
from rostersync.sandbox.district import generate
from rostersync.store import (
    SyncAlreadyRunning,
    add_connection,
    begin_write,
    create_engine_for,
    migrate,
    update_connection,
)
from rostersync.store.tables import ROSTER_TABLES
from rostersync.sync import ConnectionPaused, RunNotHeld, SyncEngine
from rostersync.sync.testing import FakeReader
from rostersync.vault import Vault, generate_key


def _store():
    """An in-memory store holding one connection, "district", and its vault."""
    engine = create_engine_for("sqlite://")
    migrate(engine)
    vault = Vault.from_key_text(generate_key())
    with begin_write(engine) as db:
        add_connection(db=db, vault=vault, name="district", settings={}, secrets={"client_secret": "unit-secret-1"})
    return engine, vault


@pytest.fixture
def setup():
    engine, vault = _store()
    reader = FakeReader.from_district(generate(seed=6, students=15))
    yield engine, vault, reader
    engine.dispose()


def make(setup, **options) -> SyncEngine:
    engine, vault, reader = setup
    return SyncEngine(engine=engine, vault=vault, reader_factory=reader.factory, **options)


def test_a_full_run_reports_counts_per_kind_timing_and_progress(setup):
    seen: list[tuple[str, int, int | None]] = []
    result = make(setup).run("district", progress=lambda name, done, total: seen.append((name, done, total)))

    reader = setup[2]
    assert result.state == "applied" and result.mode == "full" and not result.dry_run
    assert result.counts[Kind.ENROLLMENT].created == len(reader.collections["enrollments"])
    assert result.counts[Kind.USER].created == len(reader.collections["students"]) + len(reader.collections["teachers"])
    assert result.records_read == sum(len(v) for v in reader.collections.values())
    assert result.duration > 0 and result.records_per_second > 0
    assert [name for name, _, _ in seen] == list(reader.collections)  # one report per collection at least
    assert seen[-1] == ("enrollments", len(reader.collections["enrollments"]), None)
    as_json = result.to_dict()
    assert as_json["counts"]["enrollment"]["created"] == result.counts[Kind.ENROLLMENT].created
    assert as_json["state"] == "applied" and as_json["records_per_second"] > 0


def test_a_paused_connection_is_not_synced(setup):
    engine, vault, _ = setup
    with begin_write(engine) as db:
        update_connection(db=db, name="district", paused=True)
    with pytest.raises(ConnectionPaused) as info:
        make(setup).run("district")
    assert info.value.fix


def test_bad_arguments_are_refused_clearly(setup):
    sync = make(setup)
    with pytest.raises(ValueError, match="'full' or 'delta'"):
        sync.run("district", mode="weekly")
    applied = sync.run("district")
    with pytest.raises(RunNotHeld, match="applied, not held"):
        sync.approve(applied.run_id)
    with pytest.raises(RunNotHeld):
        sync.discard(applied.run_id)


def test_a_second_sync_in_another_thread_fails_fast(setup):
    inside, release = threading.Event(), threading.Event()
    reader = setup[2]

    def hold(resource: str, n: int) -> None:
        if resource == "orgs" and n == 0:
            inside.set()
            release.wait(10)

    reader.on_record = hold
    sync = make(setup)
    outcome: list = []
    first = threading.Thread(target=lambda: outcome.append(sync.run("district")))
    first.start()
    try:
        assert inside.wait(10)
        reader.on_record = None
        with pytest.raises(SyncAlreadyRunning):
            sync.run("district")
    finally:
        release.set()
        first.join(10)
    assert outcome[0].state == "applied"


def test_a_provider_that_answers_nothing_fails_the_run_instead_of_applying_nothing(setup):
    from rostersync.source.errors import ProviderUnavailable

    reader = setup[2]
    for name in list(reader.collections):
        reader.fail(name, ProviderUnavailable("the provider answered 503", fix="Try again later."))
    result = make(setup).run("district")
    assert result.state == "failed"
    assert result.errors and "no collection could be read" in result.errors[0].message
    assert "503" in result.errors[0].message and result.errors[0].fix == "Try again later."
    reader.heal()
    assert make(setup).run("district").state == "applied"  # and the next run still works


def test_a_provider_that_cannot_be_reached_is_given_up_after_the_first_collection(setup):
    from rostersync.source.errors import ConnectionDropped

    reader = setup[2]
    for name in list(reader.collections):
        reader.fail(name, ConnectionDropped("could not connect to https://x.test/orgs", fix="Check the URL."))
    result = make(setup).run("district")
    assert result.state == "failed"
    assert [name for name, _ in reader.calls] == ["orgs"]  # not every collection's retries over again
    assert "could not connect" in result.errors[0].message and result.errors[0].fix == "Check the URL."
    assert all(c["state"] == "failed" for c in result.collections.values())


def test_a_provider_lost_midway_leaves_the_rest_unread_and_nothing_deleted(setup):
    from rostersync.source.errors import Timeout

    reader = setup[2]
    first = make(setup).run("district")
    reader.replace("orgs", reader.collections["orgs"][:-1])  # would be a deletion if reconciled
    for name in ("students", "teachers", "courses", "classes", "enrollments"):
        reader.fail(name, Timeout("https://x.test/students did not answer in time"))
    result = make(setup).run("district")
    read = [name for name, _ in reader.calls[len(first.collections):]]
    assert read[-1] == "students" and "teachers" not in read
    assert result.collections["teachers"]["state"] == "failed"
    notes = [w for w in result.warnings if w.code == "collection_not_read"]
    assert {w.message.split()[0] for w in notes} == {"teachers", "courses", "classes", "enrollments"}
    assert result.counts[Kind.USER].deleted == result.counts[Kind.ENROLLMENT].deleted == 0


def test_a_connection_lost_after_some_records_fails_that_collection_only(setup):
    from rostersync.source.errors import ConnectionDropped

    reader = setup[2]
    reader.fail("students", ConnectionDropped("the connection to https://x.test/students failed or was cut"),
                after=3)
    result = make(setup).run("district")
    assert result.collections["students"]["state"] == "failed" and result.collections["students"]["records"] == 3
    assert "enrollments" in [name for name, _ in reader.calls]  # the collections after it are still read
    assert all(c["state"] != "failed" for name, c in result.collections.items() if name != "students")


class _PagedReader(FakeReader):
    """The same records as FakeReader, handed over in pages of a few (as the client does)."""

    def read_pages(self, resource, *, since=None):
        page = []
        for obj in self.read_objects(resource, since=since):
            page.append(obj)
            if len(page) == 4:
                yield page
                page = []
        if page:
            yield page


def _stored(engine):
    with engine.connect() as db:
        return {kind: sorted(db.execute(select(t.c.sourced_id, t.c.status, t.c.raw, t.c.content_hash)).all())
                for kind, t in ROSTER_TABLES.items()}


def test_pages_of_records_give_the_store_and_report_that_records_one_by_one_give():
    collections = FakeReader.from_district(generate(seed=6, students=15)).collections
    students = collections["students"]
    students[1] = {k: v for k, v in students[1].items() if k != "sourcedId"}  # malformed: reported, dropped
    students[2] = {**students[2], "role": "wizard"}  # an invalid enum: the general route decides
    students[5] = {**students[5], "metadata": {"ext:house": "Blue"}}  # irregular: the general route
    students.append(dict(students[6]))  # read twice
    results = []
    for reader in (FakeReader(collections), _PagedReader(collections)):
        engine, vault = _store()
        result = SyncEngine(engine=engine, vault=vault, reader_factory=reader.factory).run("district")
        results.append((result.state, result.records_read, result.counts, result.to_dict()["warnings"],
                        _stored(engine)))
        engine.dispose()
    assert results[0] == results[1]
    state, read, counts, warnings, stored = results[1]
    assert state == "applied" and read == sum(len(v) for v in collections.values())
    assert any("sourcedId" in w["message"] for w in warnings)
    assert len(stored[Kind.USER]) == len(students) - 2 + len(collections["teachers"])
