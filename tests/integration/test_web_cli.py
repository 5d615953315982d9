"""``rostersync users`` creates staff accounts that can sign in; bad input is refused clearly."""

from __future__ import annotations

import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rostersync.cli.web import serve, users_app
from rostersync.web.app import create_app
from rostersync.web.testing import FakeRunActions, local_settings, web_test_services

cli = typer.Typer()
cli.add_typer(users_app, name="users")
cli.command("serve")(serve)


def test_users_add_then_sign_in(tmp_path):
    settings = local_settings(tmp_path)
    runner = CliRunner()
    env = {"ROSTERSYNC_DATABASE_URL": settings.database_url}
    result = runner.invoke(cli, ["users", "add", "Dana"], input="a long enough password\na long enough password\n",
                           env=env)
    assert result.exit_code == 0, result.output
    assert "Created staff user dana" in result.output and "a long enough password" not in result.output
    again = runner.invoke(cli, ["users", "add", "dana", "--password-stdin"], input="another long password\n", env=env)
    assert again.exit_code == 1 and "already exists" in again.output
    short = runner.invoke(cli, ["users", "add", "eve", "--password-stdin"], input="short\n", env=env)
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    listed = runner.invoke(cli, ["users", "list"], env=env)
    assert listed.output.splitlines() == ["dana\tlast sign-in never"]

    services = web_test_services(settings, runs=FakeRunActions())
    with TestClient(create_app(settings, services=services)) as client:
        client.get("/login")
        response = client.post("/login", data={"username": "dana", "password": "a long enough password",
                                               "csrf_token": client.cookies["rs_csrf"]})
        assert response.status_code == 200 and "Sign out dana" in response.text
    services.close()


def test_serve_refuses_a_bad_database_url():
    result = CliRunner().invoke(cli, ["serve", "--database-url", "mysql://nope/x"])
    assert result.exit_code == 1 and "SQLite or PostgreSQL" in result.output
