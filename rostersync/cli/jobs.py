"""``rostersync worker``, ``rostersync scheduler`` and ``rostersync schedules ...``.

Registered in :mod:`rostersync.cli` as the commands ``worker`` (:func:`worker`)
and ``scheduler`` (:func:`scheduler`) and the group ``schedules``
(:data:`schedules_app`).
"""

from __future__ import annotations

import json
from typing import Optional

import typer

schedules_app = typer.Typer(help="When each connection syncs: list, change, pause, resume, retry, run now.",
                            no_args_is_help=True)

_DB_HELP = "The store (default sqlite:///./rostersync.db; workers need postgresql+psycopg://...)."


def _settings(database_url: str | None):
    from ..settings import Settings

    return Settings(database_url=database_url) if database_url else Settings()


def _fail(exc) -> None:
    typer.secho(f"error: {exc.message}", fg="red", err=True)
    if getattr(exc, "fix", None):
        typer.echo(f"fix: {exc.fix}", err=True)
    raise typer.Exit(1)


def _engine(settings):
    from ..store.engine import create_engine_for, migrate

    engine = create_engine_for(settings.database_url)
    migrate(engine)
    return engine


def worker(
    concurrency: int = typer.Option(1, "--concurrency", min=1, envvar="ROSTERSYNC_WORKER_CONCURRENCY",
                                    help="Syncs this worker runs at once (threads)."),
    name: Optional[str] = typer.Option(None, "--name", envvar="ROSTERSYNC_WORKER_NAME",
                                       help="A name for this worker in the logs."),
    heartbeat: float = typer.Option(10.0, "--heartbeat", min=0.1, envvar="ROSTERSYNC_WORKER_HEARTBEAT",
                                    help="Seconds between heartbeats."),
    stalled_after: float = typer.Option(60.0, "--stalled-after", min=1.0, envvar="ROSTERSYNC_WORKER_STALLED_AFTER",
                                        help="Seconds without a heartbeat after which a worker's jobs are requeued."),
    tick: int = typer.Option(60, "--tick", envvar="ROSTERSYNC_SCHEDULER_TICK",
                             help="Seconds between scheduler ticks (60 or a divisor of 60)."),
    schedule: bool = typer.Option(True, "--schedule/--no-schedule", envvar="ROSTERSYNC_WORKER_SCHEDULE",
                                  help="Also queue due syncs (periodic task); off when `rostersync scheduler` runs."),
    burst: bool = typer.Option(False, "--burst", help="Stop when the queue is empty."),
    retry_attempts: int = typer.Option(4, "--retry-attempts", min=1, envvar="ROSTERSYNC_RETRY_ATTEMPTS",
                                       help="Attempts of a run failing with a temporary error."),
    retry_delay: float = typer.Option(300.0, "--retry-delay", min=0, envvar="ROSTERSYNC_RETRY_DELAY",
                                      help="Seconds before the first retry (doubled each time)."),
    retry_max_delay: float = typer.Option(3600.0, "--retry-max-delay", min=0, envvar="ROSTERSYNC_RETRY_MAX_DELAY",
                                          help="Longest wait between retries."),
    terminal_attempts: int = typer.Option(1, "--terminal-attempts", min=1, envvar="ROSTERSYNC_TERMINAL_ATTEMPTS",
                                          help="Attempts before refused credentials put a connection in Error."),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="ROSTERSYNC_DATABASE_URL",
                                               help=_DB_HELP),
) -> None:
    """Run queued syncs (PostgreSQL). Start as many as you like, on as many machines."""
    from ..errors import RostersyncError
    from ..jobs.services import build_job_services
    from ..jobs.pg import conninfo_from_url
    from ..jobs.worker import WorkerOptions, run_worker
    from ..schedule import RetryPolicy

    settings = _settings(database_url)
    try:
        conninfo_from_url(settings.database_url)  # PostgreSQL or a clear error, before anything else
        retry = RetryPolicy(max_attempts=retry_attempts, base_delay=retry_delay, max_delay=retry_max_delay,
                            terminal_attempts=terminal_attempts)
        engine = _engine(settings)
        services = build_job_services(settings, engine=engine, retry=retry)
        options = WorkerOptions(concurrency=concurrency, name=name, heartbeat=heartbeat,
                                stalled_after=stalled_after, reap_every=max(1.0, min(15.0, stalled_after / 2)),
                                tick_seconds=tick if schedule else None, burst=burst)
        run_worker(settings, options, services=services)
    except RostersyncError as exc:
        _fail(exc)
    except ValueError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(2) from None


def scheduler(
    every: int = typer.Option(60, "--every", min=1, envvar="ROSTERSYNC_SCHEDULER_TICK",
                              help="Seconds between looks at what is due."),
    once: bool = typer.Option(False, "--once", help="Queue what is due now, then exit (for cron)."),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="ROSTERSYNC_DATABASE_URL",
                                               help=_DB_HELP),
) -> None:
    """Queue the syncs that are due (PostgreSQL); an alternative to the workers' periodic tick."""
    from ..errors import RostersyncError
    from ..jobs.services import build_job_services
    from ..jobs.pg import conninfo_from_url
    from ..jobs.worker import run_scheduler

    settings = _settings(database_url)
    try:
        conninfo_from_url(settings.database_url)
        engine = _engine(settings)
        queued = run_scheduler(settings, every=every, once=once,
                               services=build_job_services(settings, engine=engine))
    except RostersyncError as exc:
        _fail(exc)
    typer.echo(f"Queued {queued} scheduled sync(s).")


@schedules_app.command("list")
def schedules_list(
    as_json: bool = typer.Option(False, "--json", help="One JSON object per connection, in a list."),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="ROSTERSYNC_DATABASE_URL",
                                               help=_DB_HELP),
) -> None:
    """Every connection's schedule, state, next run and last outcome."""
    from rich.console import Console
    from rich.table import Table

    from ..jobs.model import JobServices
    from ..jobs.planner import overview

    settings = _settings(database_url)
    engine = _engine(settings)
    try:
        lines = overview(JobServices(engine=engine, run_sync=_no_sync))
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(lines, indent=2))
        return
    table = Table("connection", "schedule", "state", "next run (UTC)", "last outcome", "fix")
    for line in lines:
        table.add_row(line["connection"], line["schedule"] or "-", line["state"],
                      (line["next_run_at"] or "-")[:16].replace("T", " "),
                      f"{line['last_outcome'] or '-'}: {line['last_message'] or ''}".rstrip(": "),
                      line["fix"] or "")
    Console().print(table)


def _no_sync(connection_id, mode):  # listing never syncs
    raise RuntimeError("not available")


@schedules_app.command("set")
def schedules_set(
    connection: str = typer.Argument(..., help="The connection's name."),
    window: Optional[str] = typer.Option(None, "--window", help="Off-peak window, local time: 22:30-05:00."),
    full_day: Optional[str] = typer.Option(None, "--full-day", help="Night of the weekly full sync: mon..sun."),
    summer_pause: Optional[str] = typer.Option(None, "--summer-pause",
                                               help="No scheduled syncs these nights: 2026-06-10..2026-08-15."),
    no_summer_pause: bool = typer.Option(False, "--no-summer-pause", help="Remove the summer pause."),
    default: bool = typer.Option(False, "--default", help="Back to the house schedule (22:30-05:00, full on sat)."),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="ROSTERSYNC_DATABASE_URL",
                                               help=_DB_HELP),
) -> None:
    """Change when a connection syncs (in the district's own time zone)."""
    from ..errors import RostersyncError
    from ..jobs.control import set_schedule

    changes: dict[str, object] = {}
    if default:
        changes = {"window": None, "full_day": None, "summer_pause": None}
    if window is not None:
        changes["window"] = window
    if full_day is not None:
        changes["full_day"] = full_day
    if summer_pause is not None:
        changes["summer_pause"] = summer_pause
    if no_summer_pause:
        changes["summer_pause"] = None
    engine = _engine(_settings(database_url))
    try:
        policy = set_schedule(engine, connection, **changes)
    except RostersyncError as exc:
        _fail(exc)
    finally:
        engine.dispose()
    typer.echo(f"{connection}: {policy.describe()}")


def _simple(action: str, connection: str, database_url: str | None) -> None:
    from ..errors import RostersyncError
    from ..jobs import control

    engine = _engine(_settings(database_url))
    try:
        getattr(control, action)(engine, connection)
    except RostersyncError as exc:
        _fail(exc)
    finally:
        engine.dispose()


@schedules_app.command("pause")
def schedules_pause(
    connection: str = typer.Argument(..., help="The connection's name."),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="ROSTERSYNC_DATABASE_URL",
                                               help=_DB_HELP),
) -> None:
    """Stop a connection's scheduled syncs until it is resumed."""
    _simple("pause", connection, database_url)
    typer.echo(f"{connection} is paused.")


@schedules_app.command("resume")
def schedules_resume(
    connection: str = typer.Argument(..., help="The connection's name."),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="ROSTERSYNC_DATABASE_URL",
                                               help=_DB_HELP),
) -> None:
    """Resume a paused connection's scheduled syncs."""
    _simple("resume", connection, database_url)
    typer.echo(f"{connection} is resumed; it syncs in its next window.")


@schedules_app.command("retry")
def schedules_retry(
    connection: str = typer.Argument(..., help="The connection's name."),
    now: bool = typer.Option(False, "--now", help="Also queue a run now (PostgreSQL with workers)."),
    full: bool = typer.Option(False, "--full", help="With --now: a full sync rather than a delta."),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="ROSTERSYNC_DATABASE_URL",
                                               help=_DB_HELP),
) -> None:
    """Take a connection out of Error (after its credentials were fixed)."""
    _simple("retry_connection", connection, database_url)
    typer.echo(f"{connection} is out of Error; it syncs in its next window.")
    if now:
        _queue(connection, "full" if full else "delta", database_url)


@schedules_app.command("run")
def schedules_run(
    connection: str = typer.Argument(..., help="The connection's name."),
    full: bool = typer.Option(False, "--full", help="A full sync rather than a delta."),
    database_url: Optional[str] = typer.Option(None, "--database-url", envvar="ROSTERSYNC_DATABASE_URL",
                                               help=_DB_HELP),
) -> None:
    """Queue a sync now for the workers (PostgreSQL); on SQLite use `rostersync sync`."""
    _queue(connection, "full" if full else "delta", database_url)


def _queue(connection: str, mode: str, database_url: str | None) -> None:
    from ..errors import RostersyncError
    from ..jobs.app import build_job_app
    from ..jobs.control import enqueue_run
    from ..jobs.pg import conninfo_from_url, ensure_job_schema
    from ..store.connections import get_connection

    settings = _settings(database_url)
    engine = _engine(settings)
    try:
        with engine.connect() as db:
            conn = get_connection(db=db, name=connection)
        ensure_job_schema(conninfo_from_url(settings.database_url))
        app = build_job_app(settings, tick_seconds=None)
        with app.open():
            job_id = enqueue_run(app, conn.id, mode)  # type: ignore[arg-type]
    except RostersyncError as exc:
        _fail(exc)
    finally:
        engine.dispose()
    if job_id is None:
        typer.echo(f"A manual sync of {connection} is already queued.")
    else:
        typer.echo(f"Queued a {mode} sync of {connection} (job {job_id}); a worker picks it up.")
