"""``rostersync serve`` (the dashboard and intake pages) and ``rostersync users`` (staff accounts).

Registered in :mod:`rostersync.cli` as the command ``serve`` (:func:`serve`)
and the group ``users`` (:data:`users_app`).
"""

from __future__ import annotations

import sys
from typing import Optional

import typer

users_app = typer.Typer(help="Staff accounts for the dashboard.", no_args_is_help=True)


def _settings(database_url: str | None, **overrides):
    from ..settings import Settings

    values = {k: v for k, v in overrides.items() if v is not None}
    if database_url:
        values["database_url"] = database_url
    return Settings(**values)


def _fail(exc) -> None:
    typer.secho(f"error: {exc.message}", fg="red", err=True)
    if getattr(exc, "fix", None):
        typer.echo(f"fix: {exc.fix}", err=True)
    raise typer.Exit(1)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _open_store(settings):
    from ..store.engine import create_engine_for, migrate

    engine = create_engine_for(settings.database_url)
    migrate(engine)
    return engine


@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="The staff member's user name (no spaces)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="ROSTERSYNC_DATABASE_URL",
                                               help="The store (default sqlite:///./rostersync.db)."),
) -> None:
    """Create a staff account (the password is asked for twice, or read from stdin)."""
    from ..errors import RostersyncError
    from ..store.engine import begin_write
    from ..web.accounts import create_user

    settings = _settings(database_url)
    password = _read_password(password_stdin)
    engine = _open_store(settings)
    try:
        with begin_write(engine) as conn:
            user = create_user(username, password, conn=conn)
    except RostersyncError as exc:
        _fail(exc)
    finally:
        engine.dispose()
    typer.echo(f"Created staff user {user.username}. Sign in at the dashboard (rostersync serve).")


@users_app.command("password")
def users_password(
    username: str = typer.Argument(..., help="The staff member's user name."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="ROSTERSYNC_DATABASE_URL"),
) -> None:
    """Set a new password for a staff account (its sessions end)."""
    from ..errors import RostersyncError
    from ..store.engine import begin_write
    from ..web.accounts import set_password

    settings = _settings(database_url)
    password = _read_password(password_stdin)
    engine = _open_store(settings)
    try:
        with begin_write(engine) as conn:
            set_password(username, password, conn=conn)
    except RostersyncError as exc:
        _fail(exc)
    finally:
        engine.dispose()
    typer.echo(f"Changed the password of {username.strip().lower()}.")


@users_app.command("list")
def users_list(
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="ROSTERSYNC_DATABASE_URL"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List staff accounts."""
    import orjson

    from ..web.accounts import list_users

    engine = _open_store(_settings(database_url))
    try:
        with engine.connect() as conn:
            users = list_users(conn=conn)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(orjson.dumps(users, default=str).decode())
        return
    for u in users:
        last = u["last_login_at"].isoformat(timespec="minutes") if u["last_login_at"] else "never"
        typer.echo(f"{u['username']}\tlast sign-in {last}{'  (disabled)' if u['disabled'] else ''}")


def serve(
    host: str = typer.Option("127.0.0.1", "--host", envvar="ROSTERSYNC_HOST", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", envvar="ROSTERSYNC_PORT", help="Port to listen on."),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="ROSTERSYNC_DATABASE_URL",
                                               help="The store (default sqlite:///./rostersync.db)."),
    vendor_name: str = typer.Option("rostersync", "--vendor-name", envvar="ROSTERSYNC_VENDOR_NAME",
                                    help="Your app's name, as districts see it in Infinite Campus."),
    allow_http: Optional[bool] = typer.Option(None, "--allow-http/--https-only", envvar="ROSTERSYNC_ALLOW_HTTP",
                                              help="Let intake fetch plain-http URLs (sandboxes, tests only)."),
    allowed_host: Optional[list[str]] = typer.Option(None, "--allowed-host",
                                                     help="A host intake may reach even on a private address "
                                                          "(repeatable; env ROSTERSYNC_ALLOWED_HOSTS as a JSON list)."),
    scheduler: bool = typer.Option(True, "--scheduler/--no-scheduler", envvar="ROSTERSYNC_EMBEDDED_SCHEDULER",
                                   help="Run scheduled and manual syncs in this process (off: PostgreSQL workers)."),
    forwarded_allow_ips: str = typer.Option("127.0.0.1", "--forwarded-allow-ips",
                                            envvar="ROSTERSYNC_FORWARDED_ALLOW_IPS",
                                            help="Proxies trusted for X-Forwarded-Proto (https: Secure cookies)."),
) -> None:
    """Serve the dashboard and the district intake pages."""
    import uvicorn

    from ..errors import RostersyncError
    from ..log import configure_logging
    from ..web.app import create_app
    from ..web.server import build_server_services

    settings = _settings(database_url, allow_http=allow_http, allowed_hosts=allowed_host or None)
    configure_logging(settings.log_level, as_json=settings.log_json)
    try:
        services = build_server_services(settings, vendor_name=vendor_name, scheduler=scheduler)
    except RostersyncError as exc:
        _fail(exc)
    app = create_app(settings, services=services)
    typer.echo(f"rostersync dashboard on http://{host}:{port}/ (store: {_safe_url(settings.database_url)})")
    try:
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, proxy_headers=True,
                    forwarded_allow_ips=forwarded_allow_ips)
    finally:
        services.close()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for display
        return "(invalid URL)"
