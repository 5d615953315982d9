"""``rostersync runs list|show|approve|discard``: the history of syncs, and held runs' review.

A held run keeps its staged diff: ``approve`` applies exactly that diff
(refused when another run was applied since), ``discard`` drops it.
``approve`` exits 0 once applied; ``show`` exits like the run's sync did
(0 applied, 2 held, 1 failed) so scripts can wait on a review.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from .common import console, database_url_option, iso, json_option, open_services, print_json
from .report import STATE_STYLE, exit_code, nothing_read, render_result, result_json

if TYPE_CHECKING:
    from ..sync.result import RunResult

app = typer.Typer(help="Sync runs: list them, show one, approve or discard a held run.", no_args_is_help=True)

_STATES = ("running", "held", "applied", "discarded", "failed")


def _short_duration(seconds: float) -> str:
    if seconds < 100:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def _summary(result: RunResult) -> dict:
    t = result.total
    return {
        "run_id": result.run_id, "connection": result.connection, "mode": result.mode, "dry_run": result.dry_run,
        "state": result.state, "started_at": iso(result.started_at), "finished_at": iso(result.finished_at),
        "duration_seconds": round(result.duration, 3) if result.finished_at else None,
        "records_read": result.records_read, "total": t.to_dict(),
        "warnings": len(result.warnings), "errors": [e.to_dict() for e in result.errors],
        "hold_reasons": list(result.hold_reasons),
    }


@app.command("list")
def list_runs(
    connection: Optional[str] = typer.Argument(None, help="Only this connection's runs."),
    state: Optional[str] = typer.Option(None, "--state", envvar="ROSTERSYNC_RUN_STATE",
                                        help="Only runs in this state: " + ", ".join(_STATES) + "."),
    limit: int = typer.Option(20, "--limit", min=1, envvar="ROSTERSYNC_LIMIT", help="Newest runs shown."),
    as_json: bool = json_option(),
    database_url: Optional[str] = database_url_option(),
) -> None:
    """The newest runs, newest first (held runs wait for `runs approve` or `runs discard`)."""
    from ..store.connections import get_connection
    from ..store.runs import list_runs as stored_runs
    from ..sync.result import RunResult

    if state is not None and state not in _STATES:
        raise typer.BadParameter(f"{state!r} is not a run state; use one of {', '.join(_STATES)}",
                                 param_hint="--state")
    with open_services(database_url, as_json=as_json) as services, services.engine.connect() as db:
        connection_id = get_connection(db=db, name=connection).id if connection else None
        results = [RunResult.from_run(r) for r in stored_runs(
            db=db, connection_id=connection_id, states=(state,) if state else None, limit=limit)]
    if as_json:
        print_json([_summary(r) for r in results])
        return
    out = console()
    if not results:
        out.print("No sync runs yet." + (" Start one with: rostersync sync NAME" if not state else ""))
        return
    table = Table(title="Sync runs", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  show_edge=False, collapse_padding=True)
    for name, justify in (("Run", "right"), ("Connection", "left"), ("Mode", "left"), ("State", "left"),
                          ("Started", "left"), ("Took", "right"), ("Read", "right"), ("Changes", "right"),
                          ("Note", "left")):
        wraps = name in ("Connection", "Note")
        table.add_column(name, justify=justify, overflow="fold", no_wrap=not wraps, min_width=(10 if name == "Connection" else 8) if wraps else None)
    for r in results:
        t = r.total
        note = ""
        if r.held:
            note = f"runs approve/discard {r.run_id}"
        elif nothing_read(r):
            note = "nothing could be read"
        elif r.errors:
            note = r.errors[0].message[:80]
        elif r.warnings:
            note = f"{len(r.warnings)} warning{'s' if len(r.warnings) != 1 else ''}"
        table.add_row(
            str(r.run_id), r.connection, r.mode + (" dry" if r.dry_run else ""),
            Text(r.state, style=STATE_STYLE.get(r.state, "")), r.started_at.astimezone().strftime("%m-%d %H:%M"),
            _short_duration(r.duration) if r.finished_at else "-", f"{r.records_read:,}",
            f"+{t.created:,} ~{t.updated:,} -{t.deleted:,}", note,
        )
    out.print(table)
    out.print("Changes: +created ~updated -deleted. Details: rostersync runs show RUN")


@app.command("show")
def show(
    run_id: int = typer.Argument(..., help="The run's number (see `rostersync runs list`)."),
    as_json: bool = json_option("Print the run's whole result as JSON."),
    database_url: Optional[str] = database_url_option(),
) -> None:
    """One run: counts per kind, speed, warnings and errors with their fixes, and what to do next."""
    with open_services(database_url, as_json=as_json) as services:
        result = services.sync.result(run_id)
    _print(result, as_json)
    code = exit_code(result)
    if code:
        raise typer.Exit(code)


@app.command("approve")
def approve(
    run_id: int = typer.Argument(..., help="The held run to apply."),
    as_json: bool = json_option(),
    database_url: Optional[str] = database_url_option(),
) -> None:
    """Apply a held run's staged changes exactly as they were reviewed."""
    with open_services(database_url, as_json=as_json) as services:
        result = services.sync.approve(run_id)
    _print(result, as_json)


@app.command("discard")
def discard(
    run_id: int = typer.Argument(..., help="The held run to drop."),
    as_json: bool = json_option(),
    database_url: Optional[str] = database_url_option(),
) -> None:
    """Drop a held run's staged changes; the store stays as it is."""
    with open_services(database_url, as_json=as_json) as services:
        result = services.sync.discard(run_id)
    if as_json:
        print_json(result_json(result))
    else:
        console().print(f"Run {run_id} discarded: nothing was applied. The next sync of "
                        f"{result.connection} reads the district again.")


def _print(result: RunResult, as_json: bool) -> None:
    if as_json:
        print_json(result_json(result))
    else:
        render_result(result, console())
