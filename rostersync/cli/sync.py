"""``rostersync sync CONNECTION``: read a district, diff it against the store, guard, apply.

A progress bar per collection while it reads, then a summary table. Exit
code: 0 applied (or a dry run), 2 held for review, 1 failed.
"""

from __future__ import annotations

from typing import Optional

import typer

from .common import console, database_url_option, json_option, open_services, print_json
from .report import CollectionProgress, exit_code, render_result, result_json


def sync(
    connection: str = typer.Argument(..., help="The connection's name (see `rostersync connections list`)."),
    full: Optional[bool] = typer.Option(
        None, "--full/--delta", envvar="ROSTERSYNC_SYNC_FULL", show_default=False,
        help="Full: read everything and delete what is gone. Delta: read what changed since the last sync. "
             "Default: full for a connection never synced, delta afterwards."),
    dry_run: bool = typer.Option(False, "--dry-run", envvar="ROSTERSYNC_DRY_RUN",
                                 help="Show what the sync would change; apply nothing."),
    as_json: bool = json_option("Print the run's result as JSON (no progress bars)."),
    database_url: Optional[str] = database_url_option(),
) -> None:
    """Sync a connection: a progress bar per collection, then what changed."""
    from ..store.connections import get_connection

    with open_services(database_url, as_json=as_json) as services:
        if full is None:
            with services.engine.connect() as db:
                conn = get_connection(db=db, name=connection)
            mode = "full" if conn.last_applied_run_id is None else "delta"
        else:
            mode = "full" if full else "delta"
        if as_json:
            result = services.sync.run(connection, mode=mode, dry_run=dry_run)
        else:
            out = console()
            with CollectionProgress(out) as progress:
                result = services.sync.run(connection, mode=mode, dry_run=dry_run, progress=progress)
    if as_json:
        print_json(result_json(result))
    else:
        render_result(result, out)
    code = exit_code(result)
    if code:
        raise typer.Exit(code)
