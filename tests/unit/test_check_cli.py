"""``rostersync check`` without a network: input mistakes, env twins, JSON, the table."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from typer.testing import CliRunner

from rostersync.cli.check import check, render
from rostersync.source.check import CheckReport, Finding


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("check")(check)

    @app.command("noop")
    def _noop() -> None:  # a second command keeps "check" a sub-command, as in the real CLI
        pass

    return app


def test_nothing_given_is_an_error_exit():
    result = CliRunner().invoke(cli(), ["check"], env={})
    assert result.exit_code == 1
    assert "No credentials were given" in result.output


def test_options_are_read_from_environment_twins_and_json_is_printed():
    env = {"ROSTERSYNC_CLIENT_ID": "the-id", "ROSTERSYNC_CLIENT_SECRET": "env-secret-value",
           "ROSTERSYNC_TOKEN_URL": "https://ic.example.org/campus/oauth2/token?appName=d"}
    result = CliRunner().invoke(cli(), ["check", "--json", "--base-url", "ftp://nowhere"], env=env)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [f["code"] for f in report["findings"]] == ["base_url_invalid"]  # the env values were used
    assert "env-secret-value" not in result.output


def test_the_table_shows_findings_fixes_and_counts():
    report = CheckReport(findings=[
        Finding("ok", "token_ok", "Got an access token"),
        Finding("error", "demographics_not_shared", "Demographics are not shared", "HTTP 403",
                'select Demographics under "Data to Share"'),
    ], counts={"students": 1234, "demographics": 0})
    console = Console(record=True, width=120)
    render(report, console)
    text = console.export_text()
    assert "Demographics are not shared" in text and "Data to Share" in text
    assert "1,234" in text and "1 problem to fix" in text
