"""``rostersync schedules ...`` and ``rostersync worker`` as a person uses them (SQLite store)."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from rostersync.cli.jobs import scheduler, schedules_app, worker
from rostersync.store import add_connection, begin_write, create_engine_for, migrate
from rostersync.vault import Vault, generate_key


@pytest.fixture
def cli(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_engine_for(url)
    migrate(engine)
    with begin_write(engine) as db:
        add_connection(db=db, vault=Vault.from_key_text(generate_key()), name="springfield",
                       settings={"base_url": "https://ic.example"}, secrets={"client_secret": "s3cret-value"},
                       timezone="America/New_York")
    engine.dispose()
    monkeypatch.setenv("ROSTERSYNC_DATABASE_URL", url)
    app = typer.Typer()
    app.add_typer(schedules_app, name="schedules")
    app.command("worker")(worker)
    app.command("scheduler")(scheduler)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def _listing(cli) -> dict:
    result = cli("schedules", "list", "--json")
    assert result.exit_code == 0, result.output
    (line,) = json.loads(result.output)
    return line


def test_a_new_connection_has_the_house_schedule_in_its_own_time_zone(cli):
    line = _listing(cli)
    assert line["connection"] == "springfield"
    assert line["schedule"] == "22:30-05:00 America/New_York, full on sat"
    assert line["state"] in ("Scheduled", "Due") and line["next_run_at"]


def test_changing_pausing_and_resuming_a_schedule(cli):
    result = cli("schedules", "set", "springfield", "--window", "01:00-04:00", "--full-day", "wed",
                 "--summer-pause", "2026-06-10..2026-08-15")
    assert result.exit_code == 0, result.output
    assert "01:00-04:00 America/New_York, full on wed, summer pause 2026-06-10..2026-08-15" in result.output
    assert cli("schedules", "pause", "springfield").exit_code == 0
    paused = _listing(cli)
    assert paused["state"] == "Paused" and paused["next_run_at"] is None
    assert cli("schedules", "resume", "springfield").exit_code == 0
    assert _listing(cli)["state"] != "Paused"
    assert "22:30-05:00" in cli("schedules", "set", "springfield", "--default").output


def test_bad_input_is_refused_with_what_and_how_to_fix(cli):
    result = cli("schedules", "set", "springfield", "--window", "late")
    assert result.exit_code == 1
    assert "sync window 'late' is not START-END" in result.output and "22:30-05:00" in result.output
    missing = cli("schedules", "pause", "shelbyville")
    assert missing.exit_code == 1 and "there is no connection named 'shelbyville'" in missing.output


def test_retrying_takes_a_connection_out_of_error(cli):
    result = cli("schedules", "retry", "springfield")
    assert result.exit_code == 0 and "out of Error" in result.output


def test_workers_need_postgresql_and_say_so(cli):
    result = cli("worker")
    assert result.exit_code == 1
    assert "queued syncs need PostgreSQL, but the store is sqlite" in result.output
    assert "rostersync serve" in result.output
    assert "queued syncs need PostgreSQL" in cli("scheduler", "--once").output
