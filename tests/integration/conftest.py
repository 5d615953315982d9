"""Integration fixtures: a migrated store on SQLite (tmp_path) and on PostgreSQL.

* ``store_url``: parametrized, every test using it runs on SQLite and on
  PostgreSQL (``postgres`` marked).
* ``db_engine``: a migrated engine for ``store_url``.
* ``vault``: a vault with a fresh key.
* ``harness``: the store, a vault and helpers to add connections, build a
  :class:`SyncEngine` around any reader, and snapshot what the store holds.
* ``connect``: add a connection that reads a running sandbox (``start_sandbox``)
  with the real OneRoster client; returns its :class:`SyncEngine`.

A module whose tests do not depend on the database overrides ``store_url``
with a SQLite-only fixture, to keep the suite fast.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from rostersync.oneroster.kinds import Kind
from rostersync.source.connection import ConnectionSpec, OAuth2Credentials
from rostersync.store import add_connection, begin_write, create_engine_for, get_connection, migrate
from rostersync.store.tables import ROSTER_TABLES, STAGED_TABLES, changes, checkpoints
from rostersync.sync import SyncEngine, client_reader_factory
from rostersync.vault import Vault, generate_key


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> str:
    """A store URL: a SQLite file in tmp_path, or a fresh migrated PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def db_engine(store_url: str):
    engine = create_engine_for(store_url)
    migrate(engine)  # a no-op on the migrated PostgreSQL template copy
    yield engine
    engine.dispose()


@pytest.fixture
def vault() -> Vault:
    return Vault.from_key_text(generate_key())


class Harness:
    """A store with helpers for sync tests."""

    def __init__(self, engine, vault: Vault, url: str) -> None:
        self.engine = engine
        self.vault = vault
        self.url = url

    def add(self, name: str = "district", **options: Any):
        """Add a connection with dummy settings and a secret; returns the StoredConnection."""
        with begin_write(self.engine) as db:
            return add_connection(db=db, vault=self.vault, name=name, settings={"base_url": "https://x.test"},
                                  secrets={"client_secret": "harness-secret-1234"}, **options)

    def sync_engine(self, reader, **options: Any) -> SyncEngine:
        """A SyncEngine reading from ``reader`` (anything with ``read(resource, since=)``)."""
        return SyncEngine(engine=self.engine, vault=self.vault, reader_factory=lambda c, s: reader, **options)

    def connection(self, name: str = "district"):
        with self.engine.connect() as db:
            return get_connection(db=db, name=name)

    def live(self, name: str = "district") -> dict[Kind, dict[str, dict]]:
        """{kind: {sourcedId: raw}} of the records that are not deleted."""
        cid = self.connection(name).id
        out = {}
        with self.engine.connect() as db:
            for kind, table in ROSTER_TABLES.items():
                rows = db.execute(select(table.c.sourced_id, table.c.raw).where(
                    table.c.connection_id == cid, table.c.deleted_at.is_(None)))
                out[kind] = {sid: raw for sid, raw in rows}
        return out

    def snapshot(self, name: str = "district") -> dict[str, Any]:
        """Everything the store holds for a connection's roster: rows, changes, checkpoints."""
        cid = self.connection(name).id
        out: dict[str, Any] = {}
        with self.engine.connect() as db:
            for kind, table in ROSTER_TABLES.items():
                rows = db.execute(select(table).where(table.c.connection_id == cid).order_by(table.c.sourced_id))
                out[kind.value] = [dict(r._mapping) for r in rows]
            out["changes"] = [dict(r._mapping) for r in db.execute(
                select(changes).where(changes.c.connection_id == cid).order_by(changes.c.id))]
            out["checkpoints"] = [dict(r._mapping) for r in db.execute(
                select(checkpoints).where(checkpoints.c.connection_id == cid).order_by(checkpoints.c.collection))]
        return out

    def staged_count(self) -> int:
        with self.engine.connect() as db:
            return sum(len(db.execute(select(t.c.sourced_id)).all()) for t in STAGED_TABLES.values())


@pytest.fixture
def harness(db_engine, vault, store_url) -> Iterator[Harness]:
    yield Harness(db_engine, vault, store_url)


@pytest.fixture
def connect(harness):
    """``connect(sandbox, name, secret=None, **connection_options) -> SyncEngine`` over loopback HTTP."""

    def add(sandbox, name: str, *, secret: str | None = None, **options: Any) -> SyncEngine:
        c = sandbox.credentials
        spec = ConnectionSpec(credentials=OAuth2Credentials(
            client_id=c.client_id, client_secret=secret or c.client_secret, token_url=c.token_url,
            base_url=c.base_url))
        with begin_write(harness.engine) as db:
            add_connection(db=db, vault=harness.vault, name=name, settings=spec.to_dict(),
                           secrets=spec.secrets(), profile=spec.profile, **options)
        return SyncEngine(engine=harness.engine, vault=harness.vault,
                          reader_factory=client_reader_factory(peak=False))

    return add
