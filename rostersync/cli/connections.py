"""``rostersync connections add|list|show|remove``: the districts rostersync reads.

``add`` takes the very credential options of ``rostersync check`` (imported
from :mod:`rostersync.cli.check`, not repeated), runs the connection check and
saves nothing when a finding is an error. Secrets are stored encrypted by the
vault and never printed back: ``show`` gives at most their last 4 characters.
Plain-http URLs are refused unless ``--allow-http`` (sandboxes, tests).
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.table import Table
from rich.text import Text

from ..errors import ConfigError
from .check import check as _check_command
from .check import render as render_check
from .common import (
    console,
    database_url_option,
    fail,
    fmt_time,
    iso,
    json_option,
    open_services,
    print_json,
)

if TYPE_CHECKING:
    from ..source.connection import ConnectionSpec
    from ..store.connections import StoredConnection

app = typer.Typer(help="District connections: add (checked first), list, show, remove.", no_args_is_help=True)

# The credential options of `rostersync check`, reused as they are defined there.
_CHECK_OPTIONS = inspect.signature(_check_command).parameters
CREDENTIAL_FIELDS = ("client_id", "client_secret", "token_url", "base_url", "scope", "consumer_key",
                     "consumer_secret", "oneroster_url", "signature_method", "expires_on", "version", "profile")
OAUTH2_REQUIRED = {"client_id": "--client-id", "client_secret": "--client-secret", "token_url": "--token-url",
                   "base_url": "--base-url"}
OAUTH1_REQUIRED = {"consumer_key": "--consumer-key", "consumer_secret": "--consumer-secret",
                   "oneroster_url": "--oneroster-url"}
SECRET_FIELDS = ("client_secret", "consumer_secret")
GUARD = "Safety thresholds"


def _check_option(name: str):
    return _CHECK_OPTIONS[name].default


def spec_from_inputs(inputs: dict[str, Any]) -> ConnectionSpec:
    """A ConnectionSpec from the typed options, validated offline; ConfigError names what is wrong."""
    text = {k: v.strip() for k, v in inputs.items() if isinstance(v, str) and v.strip()}
    oauth1 = sum(k in text for k in OAUTH1_REQUIRED) > sum(k in text for k in OAUTH2_REQUIRED)
    required = OAUTH1_REQUIRED if oauth1 else OAUTH2_REQUIRED
    missing = [flag for key, flag in required.items() if key not in text]
    if not text.keys() & (OAUTH1_REQUIRED.keys() | OAUTH2_REQUIRED.keys()):
        raise ConfigError("no credentials were given",
                          fix="Pass --client-id, --client-secret, --token-url and --base-url (OAuth 2.0), or "
                              "--consumer-key, --consumer-secret and --oneroster-url (OAuth 1.0a).")
    if missing:
        raise ConfigError(f"{', '.join(missing)} {'is' if len(missing) == 1 else 'are'} missing",
                          fix="Pass " + ", ".join(missing) + " (or their ROSTERSYNC_* environment variables).")
    from ..source.connection import ConnectionSpec

    data: dict[str, Any] = {"auth": "oauth1" if oauth1 else "oauth2", **text}
    if "token_url" in data:
        data["token_url"] = "".join(data["token_url"].split())
    if "scope" in data:
        data["scopes"] = [s for s in data.pop("scope").replace(",", " ").split() if s]
    try:
        spec = ConnectionSpec.from_dict(data)
        spec.api_root  # noqa: B018 - validates the Base URL / OneRoster URL
        from ..source.profiles import get_profile

        get_profile(spec.profile)
    except ValueError as exc:
        raise ConfigError(f"the connection settings are not valid: {exc}",
                          fix="Correct the option named, or run `rostersync check` with the same options.") from None
    check_timezone(spec.timezone)
    return spec


def check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"time zone {name!r} is not known",
                          fix="Use an IANA time zone such as America/Chicago.") from None


def _plain_http(inputs: dict[str, Any]) -> list[str]:
    labels = {"token_url": "--token-url", "base_url": "--base-url", "oneroster_url": "--oneroster-url"}
    return [flag for key, flag in labels.items()
            if isinstance(inputs.get(key), str) and inputs[key].strip().lower().startswith("http://")]


def mask(value: Any) -> str:
    """A stored secret as shown to people: at most its last 4 characters."""
    if not isinstance(value, str) or not value:
        return "(empty)"
    return "****" + value[-4:] if len(value) >= 16 else "**** (set)"


def connection_view(conn: StoredConnection, *, secrets: dict[str, Any] | None = None,
                    secrets_error: str | None = None) -> dict[str, Any]:
    """What may be shown of a connection: its settings, never a secret (at most the last 4 characters)."""
    settings = {k: v for k, v in conn.settings.items() if k not in SECRET_FIELDS and v not in (None, [], "")}
    out: dict[str, Any] = {
        "name": conn.name, "display_name": conn.display_name, "auth": conn.settings.get("auth"),
        "version": conn.version, "profile": conn.profile, "timezone": conn.timezone, "settings": settings,
        "hold_delete_percent": conn.hold_delete_percent, "hold_update_percent": conn.hold_update_percent,
        "hold_min_records": conn.hold_min_records, "paused": conn.paused,
        "last_applied_run_id": conn.last_applied_run_id,
        "created_at": iso(conn.created_at), "updated_at": iso(conn.updated_at),
    }
    if secrets is not None:
        out["secrets"] = {k: mask(v) for k, v in secrets.items()}
    elif secrets_error is not None:
        out["secrets"] = {"error": secrets_error}
    return out


def _url(conn: StoredConnection) -> str:
    return str(conn.settings.get("base_url") or conn.settings.get("oneroster_url") or "")


def _auth_label(conn: StoredConnection) -> str:
    return "OAuth 1.0a" if conn.settings.get("auth") == "oauth1" else "OAuth 2.0"


@app.command("add")
def add(
    name: str = typer.Argument(..., help="A short name for the district: letters, digits, . _ -"),
    client_id: Optional[str] = _check_option("client_id"),
    client_secret: Optional[str] = _check_option("client_secret"),
    token_url: Optional[str] = _check_option("token_url"),
    base_url: Optional[str] = _check_option("base_url"),
    scope: Optional[str] = _check_option("scope"),
    consumer_key: Optional[str] = _check_option("consumer_key"),
    consumer_secret: Optional[str] = _check_option("consumer_secret"),
    oneroster_url: Optional[str] = _check_option("oneroster_url"),
    signature_method: Optional[str] = _check_option("signature_method"),
    expires_on: Optional[str] = _check_option("expires_on"),
    version: Optional[str] = _check_option("version"),
    profile: Optional[str] = _check_option("profile"),
    timezone: Optional[str] = typer.Option(None, "--timezone", envvar="ROSTERSYNC_TIMEZONE", show_default=False,
                                           help="The district's time zone (default America/Chicago)."),
    display_name: Optional[str] = typer.Option(None, "--display-name", envvar="ROSTERSYNC_DISPLAY_NAME",
                                               help="The district's name as people read it (default: NAME)."),
    hold_delete_percent: Optional[float] = typer.Option(
        None, "--hold-delete-percent", min=0, max=100, envvar="ROSTERSYNC_HOLD_DELETE_PERCENT", show_default=False,
        help="Hold a sync that would delete more than this % of any record kind (default 10).", rich_help_panel=GUARD),
    hold_update_percent: Optional[float] = typer.Option(
        None, "--hold-update-percent", min=0, max=100, envvar="ROSTERSYNC_HOLD_UPDATE_PERCENT", show_default=False,
        help="Hold a sync that would update more than this % of any record kind (default 75).", rich_help_panel=GUARD),
    hold_min_records: Optional[int] = typer.Option(
        None, "--hold-min-records", min=0, envvar="ROSTERSYNC_HOLD_MIN_RECORDS", show_default=False,
        help="Never hold for fewer changed records than this (default 10).", rich_help_panel=GUARD),
    skip_check: bool = typer.Option(False, "--skip-check", envvar="ROSTERSYNC_SKIP_CHECK",
                                    help="Save without checking the connection (offline use)."),
    allow_http: bool = typer.Option(False, "--allow-http", envvar="ROSTERSYNC_ALLOW_HTTP",
                                    help="Accept plain-http URLs (sandboxes and tests only)."),
    replace: bool = typer.Option(False, "--replace", envvar="ROSTERSYNC_REPLACE",
                                 help="Replace the settings and secrets of an existing connection (its roster stays)."),
    timeout: float = _check_option("timeout"),
    as_json: bool = json_option("Print the saved connection and the check's findings as JSON."),
    database_url: Optional[str] = database_url_option(),
) -> None:
    """Check a district's OneRoster credentials, then save them (secrets encrypted)."""
    from ..source.check import run_check
    from ..store.connections import add_connection, get_connection, update_connection, validate_name
    from ..store.engine import begin_write
    from ..store.errors import ConnectionExists, ConnectionNotFound

    local = locals()
    inputs = {k: local[k] for k in CREDENTIAL_FIELDS if local[k] is not None}
    if timezone:
        inputs["timezone"] = timezone
    http = _plain_http(inputs)
    if http and not allow_http:
        raise fail(f"{', '.join(http)} use{'s' if len(http) == 1 else ''} plain http, which would send the "
                   "credentials and student data unencrypted",
                   "Use the https:// address; for a local sandbox or a test pass --allow-http.", as_json=as_json)
    with open_services(database_url, as_json=as_json) as services:
        validate_name(name)
        if timezone:
            check_timezone(timezone)
        if skip_check:
            spec_from_inputs(inputs)  # offline: at least the options must make sense
        with services.engine.connect() as db:
            try:
                get_connection(db=db, name=name)
                exists = True
            except ConnectionNotFound:
                exists = False
        if exists and not replace:
            raise ConnectionExists(name)
        report = None
        if not skip_check:
            report = run_check(inputs, timeout=timeout)
            if not report.ok:
                if as_json:
                    print_json({"saved": False, "connection": None, "check": report.to_dict()})
                else:
                    render_check(report, console())
                raise fail(f"connection {name!r} was not saved: the check found "
                           f"{len(report.errors)} problem{'s' if len(report.errors) != 1 else ''}",
                           "Correct what the table above says, then run the command again "
                           "(or --skip-check to save it unchecked).")
        spec = spec_from_inputs(inputs)
        values: dict[str, Any] = dict(settings=spec.to_dict(), secrets=spec.secrets(), profile=spec.profile,
                                      version=spec.resolved_version.value, timezone=spec.timezone)
        for key, value in (("hold_delete_percent", hold_delete_percent), ("hold_update_percent", hold_update_percent),
                           ("hold_min_records", hold_min_records), ("display_name", display_name)):
            if value is not None:
                values[key] = value
        with begin_write(services.engine) as db:
            if exists:
                conn = update_connection(db=db, vault=services.vault, name=name, **values)
            else:
                conn = add_connection(db=db, vault=services.vault, name=name, **values)
    view = connection_view(conn)
    if as_json:
        print_json({"saved": True, "replaced": exists, "connection": view,
                    "check": report.to_dict() if report else None})
        return
    out = console()
    if report is not None:
        render_check(report, out)
    else:
        out.print("[yellow]Not checked (--skip-check):[/] the credentials were saved as given. "
                  f"Try them with: rostersync sync {name} --dry-run")
    out.print(f"[green]{'Replaced' if exists else 'Saved'} connection {name!r}[/] "
              f"({_auth_label(conn)}, OneRoster {conn.version}, profile {conn.profile}); "
              "its secrets are stored encrypted.")
    out.print(f"Next: rostersync sync {name}")


@app.command("list")
def list_connections(
    as_json: bool = json_option(),
    database_url: Optional[str] = database_url_option(),
) -> None:
    """Every connection with its last sync (no secrets)."""
    from ..store.connections import list_connections as stored
    from ..store.roster import count_records
    from ..store.runs import list_runs

    with open_services(database_url, as_json=as_json) as services, services.engine.connect() as db:
        rows = []
        for conn in stored(db=db):
            last = list_runs(db=db, connection_id=conn.id, limit=1)
            records = sum(count_records(db=db, connection_id=conn.id).values())
            rows.append((conn, last[0] if last else None, records))
    if as_json:
        print_json([dict(connection_view(c), records=n, last_run=_last_run(r)) for c, r, n in rows])
        return
    out = console()
    if not rows:
        out.print("No connections yet. Add one with: rostersync connections add NAME --client-id … "
                  "(or try: rostersync demo)")
        return
    table = Table(title="Connections", title_justify="left")
    for column in ("Name", "Auth", "Version", "URL", "Records", "Last sync"):
        table.add_column(column, justify="right" if column == "Records" else "left", overflow="fold")
    for conn, run, records in rows:
        last = "never" if run is None else f"run {run.id} {run.state}, {fmt_time(run.started_at)}"
        table.add_row(conn.name + (" (paused)" if conn.paused else ""), _auth_label(conn), conn.version,
                      _url(conn), f"{records:,}", last)
    out.print(table)


def _last_run(run) -> dict[str, Any] | None:
    if run is None:
        return None
    return {"run_id": run.id, "mode": run.mode, "state": run.state, "dry_run": run.dry_run,
            "started_at": iso(run.started_at), "finished_at": iso(run.finished_at)}


@app.command("show")
def show(
    name: str = typer.Argument(..., help="The connection's name."),
    as_json: bool = json_option(),
    database_url: Optional[str] = database_url_option(),
) -> None:
    """One connection: settings, thresholds, records stored, last sync (secrets masked)."""
    from ..errors import RostersyncError
    from ..oneroster.kinds import SYNC_ORDER
    from ..store.checkpoints import get_checkpoints
    from ..store.connections import get_connection
    from ..store.roster import count_records
    from ..store.runs import list_runs
    from ..sync.result import KIND_LABELS

    with open_services(database_url, as_json=as_json) as services, services.engine.connect() as db:
        conn = get_connection(db=db, name=name)
        try:
            secrets, secrets_error = conn.secrets(services.vault), None
        except RostersyncError as exc:
            secrets, secrets_error = None, exc.message
        counts = count_records(db=db, connection_id=conn.id)
        last = list_runs(db=db, connection_id=conn.id, limit=1)
        checkpoints = get_checkpoints(db=db, connection_id=conn.id)
    view = connection_view(conn, secrets=secrets, secrets_error=secrets_error)
    view["records"] = {kind.value: counts.get(kind, 0) for kind in SYNC_ORDER}
    view["last_run"] = _last_run(last[0] if last else None)
    view["checkpoints"] = {k: iso(v) for k, v in sorted(checkpoints.items())}
    if as_json:
        print_json(view)
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("Name", f"{conn.name} ({conn.display_name})" if conn.display_name != conn.name else conn.name)
    grid.add_row("Auth", f"{_auth_label(conn)}, OneRoster {conn.version}, profile {conn.profile}, "
                         f"time zone {conn.timezone}")
    for key, value in view["settings"].items():
        if key not in ("auth", "version", "profile", "timezone"):
            grid.add_row(key, ", ".join(value) if isinstance(value, list) else str(value))
    for key, value in (view.get("secrets") or {}).items():
        grid.add_row(key, Text(value, style="red" if key == "error" else "dim"))
    grid.add_row("Held when", f"over {conn.hold_delete_percent:g}% deleted or {conn.hold_update_percent:g}% "
                              f"updated of a kind (at least {conn.hold_min_records} records)")
    grid.add_row("State", "paused" if conn.paused else "active")
    grid.add_row("Records", ", ".join(f"{counts.get(k, 0):,} {KIND_LABELS[k]}" for k in SYNC_ORDER))
    run = view["last_run"]
    grid.add_row("Last sync", "never" if run is None else
                 f"run {run['run_id']} ({run['mode']}{', dry run' if run['dry_run'] else ''}) {run['state']}, "
                 f"{fmt_time(last[0].started_at)}")
    out = console()
    out.print(grid)


def _confirm(question: str) -> bool:
    try:
        return typer.confirm(question, default=False)
    except typer.Abort:  # no answer (end of input)
        return False


@app.command("remove")
def remove(
    name: str = typer.Argument(..., help="The connection to remove."),
    yes: bool = typer.Option(False, "--yes", "-y", envvar="ROSTERSYNC_YES",
                             help="Do not ask for confirmation."),
    as_json: bool = json_option(),
    database_url: Optional[str] = database_url_option(),
) -> None:
    """Remove a connection with its stored roster, runs and change history."""
    from ..store.connections import get_connection, remove_connection
    from ..store.engine import begin_write

    with open_services(database_url, as_json=as_json) as services:
        with services.engine.connect() as db:
            get_connection(db=db, name=name)
        if not yes and not _confirm(f"Remove {name!r} with its stored roster and history?"):
            raise fail(f"connection {name!r} was not removed", "Pass --yes to remove it without the question.",
                       as_json=as_json)
        with begin_write(services.engine) as db:
            remove_connection(db=db, name=name)
    if as_json:
        print_json({"removed": name})
    else:
        console().print(f"Removed connection {name!r} with its roster and history.")

