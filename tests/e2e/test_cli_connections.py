"""``rostersync connections``: checked before saving, secrets encrypted and never printed back."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rostersync.cli import app
from rostersync.sandbox.server import start_sandbox


@pytest.fixture
def box():
    with start_sandbox(students=40, seed=5) as sandbox:
        yield sandbox


@pytest.fixture
def env(tmp_path):
    return {"ROSTERSYNC_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
            "ROSTERSYNC_KEY_FILE": str(tmp_path / "store.key"), "ROSTERSYNC_SECRET_KEY": None,
            "COLUMNS": "200", "ROSTERSYNC_CLIENT_SECRET": None, "ROSTERSYNC_JSON": None}


def run(env, *args, secret=None):
    extra = dict(env, ROSTERSYNC_CLIENT_SECRET=secret) if secret else env
    return CliRunner().invoke(app, [str(a) for a in args], env=extra)


def creds_args(box):
    c = box.credentials
    return ["--client-id", c.client_id, "--token-url", c.token_url, "--base-url", c.base_url, "--allow-http"]


def test_a_wrong_secret_is_refused_with_the_fix_and_nothing_is_saved(box, env):
    result = run(env, "connections", "add", "springfield", *creds_args(box), secret="not-the-secret-at-all")
    assert result.exit_code == 1
    assert "Client Secret was refused" in result.output
    assert "Copy the Client ID and Client Secret again" in result.output  # the fix, in the district's terms
    assert "was not saved" in result.stderr
    assert "Traceback" not in result.output
    listed = run(env, "connections", "list", "--json")
    assert json.loads(listed.stdout) == []


def test_plain_http_is_refused_unless_allowed(box, env):
    args = [a for a in creds_args(box) if a != "--allow-http"]
    result = run(env, "connections", "add", "springfield", *args, secret=box.credentials.client_secret)
    assert result.exit_code == 1
    assert "plain http" in result.stderr and "--allow-http" in result.stderr


def test_a_good_connection_is_saved_and_its_secret_never_printed(box, env, tmp_path):
    secret = box.credentials.client_secret
    added = run(env, "connections", "add", "springfield", *creds_args(box), "--json", secret=secret)
    assert added.exit_code == 0, added.output
    body = json.loads(added.stdout)
    assert body["saved"] is True and body["check"]["ok"] is True
    assert body["connection"]["settings"]["client_id"] == box.credentials.client_id

    outputs = [added.output]
    for args in (("connections", "list"), ("connections", "list", "--json"), ("connections", "show", "springfield"),
                 ("connections", "show", "springfield", "--json")):
        result = run(env, *args)
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    assert all(secret not in out and secret[:-4] not in out for out in outputs)
    shown = json.loads(outputs[-1])
    assert shown["secrets"]["client_secret"] == "****" + secret[-4:]  # at most the last 4 characters
    assert "springfield" in outputs[1]
    assert secret.encode() not in (tmp_path / "store.db").read_bytes()  # encrypted at rest


def test_a_taken_name_is_refused_and_replace_updates_it(box, env):
    secret = box.credentials.client_secret
    assert run(env, "connections", "add", "d", *creds_args(box), "--skip-check", secret=secret).exit_code == 0
    again = run(env, "connections", "add", "d", *creds_args(box), "--skip-check", secret=secret)
    assert again.exit_code == 1
    assert "already exists" in again.stderr and "Fix:" in again.stderr
    replaced = run(env, "connections", "add", "d", *creds_args(box), "--replace", "--hold-delete-percent", "5",
                   "--json", secret=secret)
    assert replaced.exit_code == 0, replaced.output
    assert json.loads(replaced.stdout)["connection"]["hold_delete_percent"] == 5.0


def test_skip_check_saves_offline_but_still_validates_the_options(env):
    args = ["--client-id", "abc", "--token-url", "https://ic.example.org/campus/oauth2/token?appName=x",
            "--base-url", "https://ic.example.org/campus/api/oneroster/v1p1/x"]
    missing = run(env, "connections", "add", "offline", *args, "--skip-check")
    assert missing.exit_code == 1 and "--client-secret is missing" in missing.stderr
    saved = run(env, "connections", "add", "offline", *args, "--skip-check", secret="offline-secret-1234567")
    assert saved.exit_code == 0, saved.output
    assert "Not checked" in saved.stdout
    bad_name = run(env, "connections", "add", "no spaces", *args, "--skip-check", secret="x" * 20)
    assert bad_name.exit_code == 1 and "not valid" in bad_name.stderr


def test_remove_asks_first_and_removes_with_yes(box, env):
    secret = box.credentials.client_secret
    run(env, "connections", "add", "gone", *creds_args(box), "--skip-check", secret=secret)
    kept = run(env, "connections", "remove", "gone")
    assert kept.exit_code == 1 and "not removed" in kept.stderr
    assert run(env, "connections", "remove", "gone", "--yes").exit_code == 0
    shown = run(env, "connections", "show", "gone")
    assert shown.exit_code == 1
    assert "no connection named 'gone'" in shown.stderr and "connections list" in shown.stderr


def test_an_unreachable_store_is_a_one_line_error(env):
    bad = dict(env, ROSTERSYNC_DATABASE_URL="postgresql+psycopg://nobody:pw@127.0.0.1:1/none")
    result = run(bad, "connections", "list")
    assert result.exit_code == 1
    assert "cannot be used" in result.stderr and "pw@" not in result.stderr
    assert "Traceback" not in result.output
