"""``rostersync sandbox``: serve a simulated Infinite Campus district on this machine.

``serve`` prints what a district admin would copy from Infinite Campus (or
one JSON line with ``--json``) and serves until Ctrl-C; ``kill -USR1 PID``
or ``rostersync sandbox advance`` moves it to the next school day.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading

import typer

app = typer.Typer(
    help="A simulated Infinite Campus district (OneRoster 1.1 and 1.2) for demos, tests and benchmarks.",
    no_args_is_help=True,
)

_ENV = "ROSTERSYNC_SANDBOX_"


def _fail(message: str, fix: str | None = None) -> typer.Exit:
    typer.echo(f"Error: {message}" + (f"\nFix: {fix}" if fix else ""), err=True)
    return typer.Exit(2)


def _panel(creds, *, box_info: dict, json_keys: dict) -> None:
    from rich.console import Console, Group
    from rich.panel import Panel
    from rich.table import Table

    def table(rows: list[tuple[str, str]]) -> Table:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold cyan", no_wrap=True)
        grid.add_column(no_wrap=True)
        for label, value in rows:
            grid.add_row(label, value)
        return grid

    labels = json_keys
    new_look = table([(labels[k], getattr(creds, k)) for k in
                      ("client_id", "client_secret", "token_url", "base_url", "base_url_v1p2")])
    classic = table([(labels[k], getattr(creds, k)) for k in ("consumer_key", "consumer_secret", "oneroster_url")])
    admin = table([
        ("District", f"{box_info['name']}: {box_info['students']} students, seed {box_info['seed']}, "
                     f"school day {box_info['day']}"),
        ("Admin URL", creds.admin_url),
        ("Admin Token", creds.admin_token),
        ("Next day", f"kill -USR1 {os.getpid()}  (or: rostersync sandbox advance --admin-url URL --admin-token T)"),
    ])
    # Never fold a URL or a secret: a district copies them whole. Widen past the terminal if needed.
    widest = max(len(v) for v in (*(getattr(creds, k) for k in labels), creds.admin_url, creds.admin_token))
    console = Console()
    console = Console(width=max(console.width, widest + 34))
    console.print(Panel(Group(
        "[bold]OneRoster Connections[/] (New Look, OAuth 2.0 client credentials)", new_look, "",
        "[bold]OneRoster Provisioning[/] (Classic, OAuth 1.0a signed requests, OneRoster 1.1)", classic, "",
        "[bold]Sandbox[/]", admin,
    ), title="Infinite Campus sandbox", subtitle="Ctrl-C stops it", expand=False))


@app.command()
def serve(
    students: int = typer.Option(1000, "--students", envvar=_ENV + "STUDENTS", help="District size in students."),
    seed: int = typer.Option(1, "--seed", envvar=_ENV + "SEED", help="Same seed, same district."),
    day: int = typer.Option(0, "--day", envvar=_ENV + "DAY", help="Serve the district after this many school days."),
    port: int = typer.Option(8765, "--port", envvar=_ENV + "PORT", help="TCP port; 0 picks a free one."),
    host: str = typer.Option("127.0.0.1", "--host", envvar=_ENV + "HOST", help="Address to listen on."),
    app_name: str = typer.Option("rostersync", "--app-name", envvar=_ENV + "APP_NAME",
                                 help="The appName in the Token URL and Base URLs."),
    demographics: bool = typer.Option(True, "--demographics/--no-demographics", envvar=_ENV + "DEMOGRAPHICS",
                                      help="Share Demographics (without: /demographics answers 403)."),
    token_ttl: float = typer.Option(3600, "--token-ttl", envvar=_ENV + "TOKEN_TTL", help="Access token lifetime, s."),
    client_auth: str = typer.Option("basic,form", "--client-auth", envvar=_ENV + "CLIENT_AUTH",
                                    help="OAuth 2 client authentication the Token URL accepts: basic, form or both."),
    max_limit: int = typer.Option(50_000, "--max-limit", envvar=_ENV + "MAX_LIMIT", help="Page size cap."),
    fault: list[str] = typer.Option([], "--fault", envvar=_ENV + "FAULTS",
                                    help="Misbehave: rate_limit=0.1, fail_once=503, delay=2, drop=0.05, "
                                         "expire_tokens_after=100, no_total_count, no_link, insert_record "
                                         "(repeatable)."),
    client_id: str = typer.Option("", "--client-id", envvar=_ENV + "CLIENT_ID", help="Fixed Client ID."),
    client_secret: str = typer.Option("", "--client-secret", envvar=_ENV + "CLIENT_SECRET",
                                      help="Fixed Client Secret.", show_default=False),
    consumer_key: str = typer.Option("", "--consumer-key", envvar=_ENV + "CONSUMER_KEY", help="Fixed Consumer Key."),
    consumer_secret: str = typer.Option("", "--consumer-secret", envvar=_ENV + "CONSUMER_SECRET",
                                        help="Fixed Consumer Secret.", show_default=False),
    admin_token: str = typer.Option("", "--admin-token", envvar=_ENV + "ADMIN_TOKEN",
                                    help="Fixed admin token.", show_default=False),
    as_json: bool = typer.Option(False, "--json", envvar=_ENV + "JSON",
                                 help="Print one JSON object line with the credentials instead of a panel."),
) -> None:
    """Serve a simulated Infinite Campus district until Ctrl-C (random credentials unless given)."""
    from rostersync.errors import RostersyncError
    from rostersync.sandbox.faults import Faults, parse_fault_specs
    from rostersync.sandbox.server import IC_LABELS, start_sandbox

    try:
        faults = Faults(parse_fault_specs(fault))
    except RostersyncError as exc:
        raise _fail(f"--fault: {exc.message}", exc.fix) from None
    try:
        box = start_sandbox(
            students=students, seed=seed, day=day, port=port, host=host, app_name=app_name, faults=faults,
            demographics=demographics, token_ttl=token_ttl, client_auth=client_auth.replace(" ", "").split(","),
            max_limit=max_limit, client_id=client_id or None, client_secret=client_secret or None,
            consumer_key=consumer_key or None, consumer_secret=consumer_secret or None,
            admin_token=admin_token or None,
        )
    except RostersyncError as exc:
        raise _fail(exc.message, exc.fix) from None
    except (ValueError, OSError) as exc:
        raise _fail(str(exc)) from None

    creds = box.credentials
    if as_json:
        line = {k: getattr(creds, k) for k in IC_LABELS}
        line.update(admin_url=creds.admin_url, admin_token=creds.admin_token, pid=os.getpid())
        sys.stdout.write(json.dumps(line) + "\n")
        sys.stdout.flush()
    else:
        summary = box.district.summary()
        _panel(creds, box_info={"name": summary.get("name"), "students": students, "seed": seed,
                                "day": box.district.day}, json_keys=IC_LABELS)
    _serve_until_stopped(box, quiet=as_json)


def _serve_until_stopped(box, *, quiet: bool) -> None:
    wake = threading.Event()
    pending = {"advance": 0, "stop": False}

    def on_usr1(signum, frame) -> None:
        pending["advance"] += 1
        wake.set()

    def on_term(signum, frame) -> None:
        pending["stop"] = True
        wake.set()

    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)  # also when started in the background with SIGINT ignored
    try:
        while box.running and not pending["stop"]:
            wake.wait(0.5)
            wake.clear()
            while pending["advance"]:
                pending["advance"] -= 1
                try:
                    summary = box.advance(1)
                except Exception as exc:  # past the last school day
                    typer.echo(f"cannot advance: {exc}", err=True)
                    continue
                typer.echo(f"advanced to school day {summary['day']} ({summary['now']})", err=quiet)
    except KeyboardInterrupt:
        pass
    finally:
        box.stop()


@app.command()
def advance(
    admin_url: str = typer.Option(..., "--admin-url", envvar=_ENV + "ADMIN_URL",
                                  help="The sandbox's Admin URL (printed by serve)."),
    admin_token: str = typer.Option(..., "--admin-token", envvar=_ENV + "ADMIN_TOKEN",
                                    help="The sandbox's admin token (printed by serve)."),
    days: int = typer.Option(1, "--days", envvar=_ENV + "ADVANCE_DAYS", help="School days to play."),
) -> None:
    """Move a running sandbox to a later school day, without restarting it."""
    import httpx

    try:
        response = httpx.post(admin_url.rstrip("/") + "/advance", params={"days": days},
                              headers={"Authorization": f"Bearer {admin_token}"}, timeout=600)
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach the sandbox at {admin_url} ({type(exc).__name__})",
                    "Check the Admin URL and that `rostersync sandbox serve` is running.") from None
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status_code != 200:
        raise _fail(f"the sandbox refused (HTTP {response.status_code}): {body.get('imsx_description', '')}")
    typer.echo(f"school day {body.get('day')} ({body.get('now')}), revision {body.get('revision')}")
