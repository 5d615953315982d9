"""``rostersync sync``, ``runs``, ``changes`` and ``roster`` against the sandbox; the store in tmp_path
(and, for full/delta and held runs, in a fresh PostgreSQL database too)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rostersync.cli import app
from rostersync.oneroster.kinds import Kind
from rostersync.sandbox.server import start_sandbox

STUDENTS = 300


@pytest.fixture
def box():
    with start_sandbox(students=STUDENTS, seed=11) as sandbox:
        yield sandbox


@pytest.fixture
def env(tmp_path):
    return {"ROSTERSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
            "ROSTERSYNC_KEY_FILE": str(tmp_path / "store.key"), "ROSTERSYNC_SECRET_KEY": None,
            "COLUMNS": "200", "ROSTERSYNC_JSON": None, "ROSTERSYNC_SYNC_FULL": None}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_env(request, env):
    """The CLI's environment on SQLite, then on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return env
    return dict(env, ROSTERSYNC_DATABASE_URL=request.getfixturevalue("pg_url"))


def run(env, *args):
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def run_json(env, *args, code=0):
    result = run(env, *args, "--json")
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def add(env, box, *extra):
    c = box.credentials
    result = CliRunner().invoke(app, ["connections", "add", "d", "--client-id", c.client_id, "--token-url",
                                      c.token_url, "--base-url", c.base_url, "--allow-http", "--skip-check", *extra],
                                env=dict(env, ROSTERSYNC_CLIENT_SECRET=c.client_secret))
    assert result.exit_code == 0, result.output


def counts(district) -> dict[str, int]:
    return district.summary()["counts"]


def test_full_then_delta_match_the_sandbox(box, any_env):
    env = any_env
    add(env, box)
    full = run_json(env, "sync", "d")  # never synced: a full run
    assert full["mode"] == "full" and full["state"] == "applied" and full["exit_code"] == 0
    assert {kind: c["created"] for kind, c in full["counts"].items()} == counts(box.district)
    assert full["records_read"] >= sum(counts(box.district).values())

    box.advance(1)
    day = box.district.changes(1)
    delta = run_json(env, "sync", "d")  # synced before: a delta run
    assert delta["mode"] == "delta" and delta["state"] == "applied"
    for kind in (Kind.USER, Kind.ENROLLMENT, Kind.DEMOGRAPHICS):
        assert delta["counts"][kind.value]["created"] == len(day[kind]["created"])
        assert delta["counts"][kind.value]["updated"] == len(day[kind]["updated"])

    feed = run_json(env, "changes", "d", "--kind", "users")  # the latest run's changes by default
    assert feed["run_id"] == delta["run_id"]
    assert {c["sourcedId"] for c in feed["changes"] if c["action"] == "created"} == set(day[Kind.USER]["created"])

    # a full run catches what vanished (withdrawals), then the store equals the sandbox
    run_json(env, "sync", "d", "--full")
    for name, kind in (("students", Kind.USER), ("enrollments", Kind.ENROLLMENT)):
        stored = run_json(env, "roster", "d", name, "--limit", 100_000)["records"]
        served = [r["sourcedId"] for r in box.district.records(kind, "1.1")
                  if r.get("status") == "active" and (name != "students" or r.get("role") == "student")]
        assert sorted(r["sourcedId"] for r in stored) == sorted(served)

    again = run_json(env, "sync", "d", "--full")  # nothing changed upstream: nothing changes
    assert again["total"]["created"] == again["total"]["updated"] == again["total"]["deleted"] == 0


def test_the_human_summary_has_a_table_speed_and_next_step(box, env):
    add(env, box)
    result = run(env, "sync", "d", "--full")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for text in ("enrollments", "Created", "Unchanged", "Total", "records/s", "rostersync changes d"):
        assert text in out
    assert f"{counts(box.district)['enrollment']:,}" in out


def test_a_dry_run_changes_nothing(box, env):
    add(env, box)
    dry = run_json(env, "sync", "d", "--full", "--dry-run")
    assert dry["dry_run"] is True and dry["state"] == "discarded" and dry["exit_code"] == 0
    assert dry["counts"]["user"]["created"] == counts(box.district)["user"]
    assert run_json(env, "roster", "d", "users")["records"] == []
    assert run_json(env, "changes", "d")["changes"] == []
    assert run_json(env, "connections", "show", "d")["last_applied_run_id"] is None


def test_a_held_run_is_approved_or_discarded_from_the_cli(box, any_env):
    env = any_env
    add(env, box, "--hold-delete-percent", "0", "--hold-update-percent", "0", "--hold-min-records", "1")
    run_json(env, "sync", "d", "--full")  # an empty store: nothing to hold
    box.advance(2)
    held = run_json(env, "sync", "d", "--delta", code=2)
    assert held["state"] == "held" and held["hold_reasons"]
    human = run(env, "runs", "show", held["run_id"])
    assert human.exit_code == 2
    assert f"rostersync runs approve {held['run_id']}" in human.stdout
    listed = run_json(env, "runs", "list", "d", "--state", "held")
    assert [r["run_id"] for r in listed] == [held["run_id"]]
    assert run_json(env, "changes", "d", "--run", held["run_id"])["changes"] == []  # nothing applied yet

    approved = run_json(env, "runs", "approve", held["run_id"])
    assert approved["state"] == "applied"
    applied = run_json(env, "changes", "d", "--run", held["run_id"], "--limit", 10_000)["changes"]
    assert len(applied) == approved["total"]["created"] + approved["total"]["updated"] + approved["total"]["deleted"]
    again = run(env, "runs", "approve", held["run_id"])
    assert again.exit_code == 1 and "not held" in again.stderr

    box.advance(1)
    second = run_json(env, "sync", "d", "--delta", code=2)
    before = run_json(env, "roster", "d", "enrollments", "--limit", 100_000)["records"]
    discarded = run_json(env, "runs", "discard", second["run_id"])
    assert discarded["state"] == "discarded"
    assert run_json(env, "roster", "d", "enrollments", "--limit", 100_000)["records"] == before


def test_roster_lists_searches_and_pages(box, env):
    add(env, box)
    run_json(env, "sync", "d")
    schools = run_json(env, "roster", "d", "schools")["records"]
    assert schools and all(r["fields"]["type"] == "school" for r in schools)
    assert {r["sourcedId"] for r in schools} == set(box.district.schools)
    first = run_json(env, "roster", "d", "students", "--limit", 5)
    assert len(first["records"]) == 5 and first["next_after"] == first["records"][-1]["sourcedId"]
    second = run_json(env, "roster", "d", "students", "--limit", 5, "--after", first["next_after"])
    assert second["records"][0]["sourcedId"] > first["next_after"]
    someone = first["records"][0]["fields"]
    found = run_json(env, "roster", "d", "students", "--search", someone["family_name"])["records"]
    assert someone["family_name"] in {r["fields"]["family_name"] for r in found}
    table = run(env, "roster", "d", "teachers", "--limit", 3)
    assert table.exit_code == 0 and "Given name" in table.stdout and "More follow" in table.stdout
    wrong = run(env, "roster", "d", "wizards")
    assert wrong.exit_code != 0 and "is not a record kind" in wrong.output


def test_changes_since_and_bad_time(box, env):
    add(env, box)
    run_json(env, "sync", "d")
    recent = run_json(env, "changes", "d", "--since", "1h", "--kind", "orgs")
    assert {c["sourcedId"] for c in recent["changes"]} == {o["sourcedId"] for o in box.district.records("org", "1.1")}
    assert run_json(env, "changes", "d", "--since", "2999-01-01")["changes"] == []
    bad = run(env, "changes", "d", "--since", "last tuesday")
    assert bad.exit_code != 0 and "is not a time" in bad.output


def test_syncing_an_unknown_connection_is_a_one_line_error(env):
    result = run(env, "sync", "nowhere")
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "no connection named 'nowhere'" in result.stderr and "Fix:" in result.stderr
