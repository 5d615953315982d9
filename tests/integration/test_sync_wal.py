"""A sync's use of a SQLite file store's WAL: what a run staged is checkpointed before the apply
begins, so the apply writes over the WAL from its start instead of after the staged pages; and
when a reader of the store keeps the WAL from starting over, the run applies all the same."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import pytest

from rostersync.sandbox.district import generate
from rostersync.store import staging
from rostersync.sync.testing import FakeReader


@pytest.fixture
def store_url(tmp_path) -> str:  # SQLite files only: the WAL is what is tested
    return f"sqlite:///{tmp_path / 'store.db'}"


def _wal(harness) -> Path:
    return Path(harness.engine.url.database + "-wal")


def _wal_generation(path: Path) -> tuple[int, bytes]:
    """(checkpoint sequence, salts) of a WAL's header: both change whenever SQLite starts the WAL over."""
    header = path.read_bytes()[:32]
    assert len(header) == 32, "no WAL header"
    return struct.unpack(">I", header[12:16])[0], header[16:24]


def test_the_apply_starts_the_wal_over_instead_of_appending_to_the_staged_pages(harness, monkeypatch):
    reader = FakeReader.from_district(generate(seed=5, students=400))
    harness.add()
    sync = harness.sync_engine(reader)
    seen = {}
    fetch, clear_run = sync._fetch, staging.clear_run

    def fetched(*args, **kwargs):
        fetch(*args, **kwargs)
        seen["staged"] = _wal_generation(_wal(harness)), _wal(harness).stat().st_size

    def applied(*, db, run_id):  # called once the apply has committed
        seen["applied"] = _wal_generation(_wal(harness)), _wal(harness).stat().st_size
        clear_run(db=db, run_id=run_id)

    monkeypatch.setattr(sync, "_fetch", fetched)
    monkeypatch.setattr(staging, "clear_run", applied)

    result = sync.run("district")

    assert result.state == "applied"
    (staged_generation, staged_bytes), (applied_generation, applied_bytes) = seen["staged"], seen["applied"]
    assert staged_bytes > 1_000_000  # the staging writer commits without checkpoints
    assert applied_generation != staged_generation  # the apply's pages went in from the WAL's start
    # appending would have made the WAL hold both (the apply writes more than was staged);
    # starting over, it holds about the larger of the two
    assert applied_bytes < 2 * staged_bytes
    live = harness.live()
    assert sum(map(len, live.values())) == result.total.created


def test_a_reader_holding_the_wal_only_makes_the_apply_append(harness, monkeypatch):
    district = generate(seed=5, students=120)
    reader = FakeReader.from_district(district)
    harness.add()
    sync = harness.sync_engine(reader)
    seen = {}
    fetch, clear_run = sync._fetch, staging.clear_run
    other = sqlite3.connect(harness.engine.url.database, isolation_level=None)

    def fetched(*args, **kwargs):  # a reader takes a snapshot that includes what was staged
        fetch(*args, **kwargs)
        other.execute("BEGIN")
        other.execute("SELECT count(*) FROM staged_users").fetchone()
        seen["staged"] = _wal_generation(_wal(harness))

    def applied(*, db, run_id):
        seen["applied"] = _wal_generation(_wal(harness))
        clear_run(db=db, run_id=run_id)

    monkeypatch.setattr(sync, "_fetch", fetched)
    monkeypatch.setattr(staging, "clear_run", applied)
    try:
        result = sync.run("district")
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert seen["applied"] == seen["staged"]  # the WAL could not start over: the apply appended
    assert result.state == "applied"
    assert result.total.created == sum(len(items) for items in reader.collections.values())
    assert harness.staged_count() == 0
    again = harness.sync_engine(FakeReader.from_district(district)).run("district")
    assert again.state == "applied"
    assert (again.total.created, again.total.updated, again.total.deleted) == (0, 0, 0)
