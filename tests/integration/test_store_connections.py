"""Connections in the store: secrets sealed at rest, names unique, removal takes the roster along."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import func, select

from rostersync.errors import ConfigError
from rostersync.sandbox.district import generate
from rostersync.settings import Settings
from rostersync.store import (
    ConnectionExists,
    ConnectionNotFound,
    add_connection,
    begin_write,
    get_connection,
    list_connections,
    remove_connection,
    update_connection,
)
from rostersync.store.connections import ConnectionLabel, list_connection_labels
from rostersync.store.tables import ROSTER_TABLES, connections, sync_runs
from rostersync.sync import SyncEngine
from rostersync.sync.testing import FakeReader
from rostersync.vault import KeyMissing, Vault, WrongKey, generate_key

SECRET = "client-secret-DO-NOT-LEAK-42"


@pytest.fixture
def store_url(tmp_path) -> str:
    """SQLite only: connections are plain rows; every PostgreSQL sync test adds them too."""
    return f"sqlite:///{tmp_path / 'store.db'}"


def add(db, vault, name="springfield", **options):
    return add_connection(db=db, vault=vault, name=name, settings={"client_id": "abc", "base_url": "https://x.test"},
                          secrets={"client_secret": SECRET}, **options)


def test_secrets_are_encrypted_at_rest_and_come_back_only_through_the_vault(db_engine, vault):
    with begin_write(db_engine) as db:
        conn = add(db, vault, display_name="Springfield Public Schools", version="1.2")
    with db_engine.connect() as db:
        stored = db.execute(select(connections)).one()._mapping
    assert SECRET not in str(dict(stored))
    assert SECRET not in repr(conn)
    assert conn.secrets(vault) == {"client_secret": SECRET}
    assert conn.settings == {"client_id": "abc", "base_url": "https://x.test"}
    assert (conn.display_name, conn.version, conn.hold_delete_percent, conn.hold_update_percent,
            conn.hold_min_records, conn.paused) == ("Springfield Public Schools", "1.2", 10.0, 75.0, 10, False)
    other = Vault.from_key_text(generate_key())
    with pytest.raises(WrongKey) as info:
        conn.secrets(other)
    assert SECRET not in str(info.value) and info.value.fix


def test_connection_names_are_unique_and_validated(db_engine, vault):
    with begin_write(db_engine) as db:
        add(db, vault)
    with pytest.raises(ConnectionExists), begin_write(db_engine) as db:
        add(db, vault)
    with pytest.raises(ConfigError, match="not valid"), begin_write(db_engine) as db:
        add(db, vault, name="no spaces/slashes")
    with pytest.raises(ConfigError, match="between 0 and 100"), begin_write(db_engine) as db:
        add(db, vault, name="other", hold_delete_percent=150)
    with db_engine.connect() as db:
        assert [c.name for c in list_connections(db=db)] == ["springfield"]
        assert list_connection_labels(db=db) == [ConnectionLabel("springfield", "springfield", "America/Chicago")]
        with pytest.raises(ConnectionNotFound) as info:
            get_connection(db=db, name="shelbyville")
    assert "shelbyville" in str(info.value) and info.value.fix


def test_updating_a_connection_re_seals_new_secrets(db_engine, vault):
    with begin_write(db_engine) as db:
        add(db, vault)
        updated = update_connection(db=db, name="springfield", vault=vault, secrets={"client_secret": "new-one-1234"},
                                    paused=True, hold_min_records=3)
    assert updated.secrets(vault) == {"client_secret": "new-one-1234"}
    assert updated.paused and updated.hold_min_records == 3
    assert updated.updated_at >= updated.created_at


def test_removing_a_connection_removes_its_roster_runs_and_changes(db_engine, vault):
    with begin_write(db_engine) as db:
        add(db, vault, name="keep")
        add(db, vault, name="drop")
    reader = FakeReader.from_district(generate(seed=9, students=10))
    sync = SyncEngine(engine=db_engine, vault=vault, reader_factory=reader.factory)
    sync.run("keep")
    sync.run("drop")

    with begin_write(db_engine) as db:
        remove_connection(db=db, name="drop")
    with db_engine.connect() as db:
        keep = get_connection(db=db, name="keep")
        owners = {cid for table in ROSTER_TABLES.values()
                  for cid in db.execute(select(table.c.connection_id).distinct()).scalars()}
        assert owners == {keep.id}
        assert [c.name for c in list_connections(db=db)] == ["keep"]
        assert db.execute(select(func.count()).select_from(sync_runs)).scalar() == 1


def test_the_key_file_is_created_once_with_owner_only_permissions(tmp_path):
    settings = Settings(key_file=tmp_path / "keys" / "rostersync.key", secret_key=None)
    with pytest.raises(KeyMissing) as info:
        Vault.from_settings(settings)
    assert info.value.fix

    vault = Vault.from_settings(settings, create=True)
    mode = stat.S_IMODE(os.stat(settings.key_file).st_mode)
    assert mode == 0o600
    token = vault.encrypt({"client_secret": SECRET})
    again = Vault.from_settings(settings)  # the same key, read back
    assert again.decrypt(token) == {"client_secret": SECRET}
    assert SECRET not in settings.key_file.read_text()


def test_the_environment_key_wins_over_the_key_file(tmp_path):
    key = generate_key()
    settings = Settings(key_file=tmp_path / "absent.key", secret_key=key)
    vault = Vault.from_settings(settings, create=True)
    assert not settings.key_file.exists()
    assert Vault.from_key_text(key).decrypt(vault.encrypt({"a": "b"})) == {"a": "b"}
