"""``rostersync demo``: the whole job on a fresh machine, in about ten seconds.

Starts the sandbox (a simulated Infinite Campus district, fixed seed) on a
free loopback port, saves it as the connection ``demo`` (replacing an earlier
one; plain http is allowed for the sandbox only), checks it, runs a full sync
into the store (``./rostersync.db`` by default), plays one school day in the
district, runs a delta sync and shows what changed. Nothing to configure;
running it again starts over.
"""

from __future__ import annotations

import time
from typing import Optional

import typer

from .common import console, database_url_option, fail, json_option, open_services, print_json, safe_url
from .report import CollectionProgress, exit_code, render_result, result_json
from .roster import change_json, change_table

DEMO_CONNECTION = "demo"
DEMO_STUDENTS = 2_000
DEMO_SEED = 1
CHANGES_SHOWN = 12


def demo(
    students: int = typer.Option(DEMO_STUDENTS, "--students", min=30, max=200_000,
                                 envvar="ROSTERSYNC_DEMO_STUDENTS", help="Size of the simulated district."),
    seed: int = typer.Option(DEMO_SEED, "--seed", envvar="ROSTERSYNC_DEMO_SEED",
                             help="Same seed, same district."),
    as_json: bool = json_option("Print both runs and the changes as JSON (no progress bars)."),
    database_url: Optional[str] = database_url_option(),
) -> None:
    """Sync a simulated Infinite Campus district into the store, then sync its next school day."""
    from ..errors import RostersyncError
    from ..sandbox.server import start_sandbox
    from ..source.check import run_check
    from ..store.feed import changes
    from .check import render as render_check

    started = time.monotonic()
    out = console()
    quiet = as_json
    with open_services(database_url, as_json=as_json) as services:
        try:
            box = start_sandbox(students=students, seed=seed, port=0, host="127.0.0.1")
        except (OSError, RuntimeError, ValueError) as exc:
            raise fail(f"the sandbox could not start ({exc})", "Check that 127.0.0.1 can listen on a free port.",
                       as_json=as_json) from None
        try:
            summary = box.district.summary()
            if not quiet:
                out.print(f"[bold]rostersync demo[/]: a simulated Infinite Campus district, "
                          f"[bold]{summary.get('name')}[/] ({students:,} students, seed {seed}), served at "
                          f"{box.url}; the store is {safe_url(services.settings.database_url)}.\n")
            spec = _demo_spec(box.credentials)
            report = run_check(spec, timeout=15.0)
            if not report.ok:
                if not quiet:
                    render_check(report, out)
                raise fail("the sandbox connection did not pass its check", "Run `rostersync demo` again.",
                           as_json=as_json)
            _save(services, spec)
            if not quiet:
                counted = sum(report.counts.values())
                out.print(f"Connection [bold]{DEMO_CONNECTION}[/] saved (secrets encrypted) and checked: "
                          f"token, Base URL and {len(report.counts)} collections OK, {counted:,} records shared.\n")
                out.rule("Day 1: full sync")
            full = _run(services, "full", out, quiet)
            if full.state != "applied":
                if quiet:
                    print_json({"connection": DEMO_CONNECTION, "full": result_json(full)})
                raise typer.Exit(exit_code(full) or 1)
            day = box.advance(1)
            if not quiet:
                out.print(f"\nThe district lived one school day (now {day.get('now', '?')}): students enrolled "
                          "and withdrew, schedules and names changed.\n")
                out.rule("Day 2: delta sync")
            delta = _run(services, "delta", out, quiet)
            with services.engine.connect() as db:
                from ..store.connections import get_connection

                conn = get_connection(db=db, name=DEMO_CONNECTION)
                shown = sample_changes(changes(db=db, connection_id=conn.id, run_id=delta.run_id, limit=2_000),
                                       CHANGES_SHOWN)
        except RostersyncError as exc:
            raise fail(exc.message, exc.fix, as_json=as_json) from None
        finally:
            box.stop()
    elapsed = time.monotonic() - started
    if as_json:
        print_json({"connection": DEMO_CONNECTION, "full": result_json(full), "delta": result_json(delta),
                    "changes": [change_json(c) for c in shown], "seconds": round(elapsed, 2)})
    else:
        total = delta.total.changes
        out.print()
        if shown:
            out.print(change_table(shown, title=f"What changed on day 2: {len(shown)} of {total:,} changes "
                                                  "(field names only)", run_column=False))
        _explore(out, elapsed)
    if exit_code(delta):
        raise typer.Exit(exit_code(delta))


def sample_changes(items: list, n: int) -> list:
    """Up to ``n`` changes, taken in turn from each (kind, action) so the sample shows every sort; feed order."""
    groups: dict[tuple, list] = {}
    for change in items:
        groups.setdefault((change.kind, change.action), []).append(change)
    picked: list = []
    queues = [list(reversed(g)) for g in groups.values()]
    while len(picked) < n and any(queues):
        for queue in queues:
            if queue and len(picked) < n:
                picked.append(queue.pop())
    return sorted(picked, key=lambda c: c.id)


def _demo_spec(creds):
    from ..source.connection import ConnectionSpec, OAuth2Credentials

    return ConnectionSpec(
        credentials=OAuth2Credentials(client_id=creds.client_id, client_secret=creds.client_secret,
                                      token_url=creds.token_url, base_url=creds.base_url),
        profile="infinite_campus",
    )


def _save(services, spec) -> None:
    """Save the sandbox as the ``demo`` connection, replacing an earlier demo with its roster."""
    from ..store.connections import add_connection, get_connection, remove_connection
    from ..store.engine import begin_write
    from ..store.errors import ConnectionNotFound

    with begin_write(services.engine) as db:
        try:
            get_connection(db=db, name=DEMO_CONNECTION)
            remove_connection(db=db, name=DEMO_CONNECTION)
        except ConnectionNotFound:
            pass
        add_connection(db=db, vault=services.vault, name=DEMO_CONNECTION, display_name="Sandbox district (demo)",
                       settings=spec.to_dict(), secrets=spec.secrets(), profile=spec.profile,
                       version=spec.resolved_version.value, timezone=spec.timezone)


def _run(services, mode: str, out, quiet: bool):
    if quiet:
        return services.sync.run(DEMO_CONNECTION, mode=mode)
    with CollectionProgress(out) as progress:
        result = services.sync.run(DEMO_CONNECTION, mode=mode, progress=progress)
    render_result(result, out)
    return result


def _explore(out, elapsed: float) -> None:
    from rich.table import Table

    out.print(f"\n[bold green]Demo done in {elapsed:.1f} s.[/] The roster is in the store; explore it:")
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column()
    for command, what in (
        (f"rostersync roster {DEMO_CONNECTION} students", "the students, as your app reads them"),
        (f"rostersync roster {DEMO_CONNECTION} classes --search math", "search the classes"),
        (f"rostersync changes {DEMO_CONNECTION}", "the change feed of the last sync"),
        ("rostersync runs list", "every sync run, with its counts"),
        ("rostersync serve", "the dashboard, in a browser"),
    ):
        grid.add_row("  " + command, what)
    out.print(grid)
    out.print("The sandbox stopped with the demo; `rostersync sandbox serve` keeps one running.")
