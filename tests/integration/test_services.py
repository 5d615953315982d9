"""One place wires the store, the vault and the sync engine: the CLI's, the workers' and the web's services."""

from __future__ import annotations

import pytest

from rostersync.jobs.services import build_job_services
from rostersync.oneroster.kinds import Kind, Version
from rostersync.sandbox.district import generate
from rostersync.services import build_services
from rostersync.settings import Settings
from rostersync.store import add_connection, begin_write, count_records, needs_migration
from rostersync.sync.testing import FakeReader
from rostersync.vault import KeyMissing
from rostersync.web.services import build_web_services


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'store.db'}", secret_key=None,
                    key_file=tmp_path / "rostersync.key")


def test_a_worker_never_creates_the_key_and_syncs_with_the_shared_wiring(settings):
    with pytest.raises(KeyMissing):
        build_job_services(settings)
    assert not settings.key_file.exists()
    district = generate(seed=8, students=5)
    with build_services(settings) as core:  # the CLI's: migrates the store and creates the key
        assert settings.key_file.exists() and not needs_migration(core.engine)
        with begin_write(core.engine) as db:
            cid = add_connection(db=db, vault=core.vault, name="district", settings={"base_url": "https://x.test"},
                                 secrets={"client_secret": "services-secret-1234"}).id
        jobs = build_job_services(settings, engine=core.engine,
                                  reader_factory=FakeReader.from_district(district).factory)
        assert jobs.run_sync(cid, "full").state == "applied"
        jobs.close()  # the engine was passed in: still open
        with core.engine.connect() as db:
            users = count_records(db=db, connection_id=cid)[Kind.USER]
    assert users == len(district.records(Kind.USER, Version.V1P1))


def test_web_services_close_only_what_they_built(settings):
    with build_services(settings) as core:
        web = build_web_services(settings, shared=core)
        assert (web.engine, web.vault, web.runs) == (core.engine, core.vault, core.sync)
        web.close()
        with core.engine.connect() as db:  # still usable: the server closes it last
            assert count_records(db=db, connection_id=1) == dict.fromkeys(Kind, 0)
    own = build_web_services(settings)
    pool = own.engine.pool
    own.close()
    assert own.engine.pool is not pool  # disposed with the web services
