"""``rostersync roster CONNECTION KIND`` (the stored records) and ``rostersync changes CONNECTION``
(the change feed).

``changes`` without ``--since``/``--run``/``--after`` shows what the latest
sync that changed something changed. Both page: ``roster --after SOURCEDID``,
``changes --after ID`` (the ``next_after`` of the JSON output).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.table import Table

from ..oneroster.kinds import Kind
from .common import (
    CHANGE_KIND_NAMES,
    ROSTER_KIND_NAMES,
    console,
    database_url_option,
    fmt_time,
    iso,
    json_option,
    open_services,
    parse_kind,
    parse_since,
    print_json,
)

if TYPE_CHECKING:
    from ..store.feed import Change
    from ..store.roster import StoredRecord

# The typed columns shown per kind (all of them are in --json).
COLUMNS: dict[Kind, tuple[str, ...]] = {
    Kind.ORG: ("name", "type", "identifier", "parent_sourced_id"),
    Kind.ACADEMIC_SESSION: ("title", "type", "start_date", "end_date", "school_year"),
    Kind.COURSE: ("title", "course_code", "org_sourced_id"),
    Kind.CLASS: ("title", "class_code", "class_type", "school_sourced_id", "course_sourced_id"),
    Kind.USER: ("given_name", "family_name", "role", "username", "email", "grades"),
    Kind.ENROLLMENT: ("user_sourced_id", "class_sourced_id", "role", "primary", "begin_date", "end_date"),
    Kind.DEMOGRAPHICS: ("birth_date", "sex"),
}


def _header(column: str) -> str:
    if column.endswith("_sourced_id"):
        column = column[: -len("_sourced_id")]
    return column.replace("_", " ").capitalize()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


def record_json(record: StoredRecord) -> dict[str, Any]:
    return {"sourcedId": record.sourced_id, "status": record.status,
            "dateLastModified": iso(record.date_last_modified), "deletedAt": iso(record.deleted_at),
            "fields": record.fields, "record": record.raw}


def roster(
    connection: str = typer.Argument(..., help="The connection's name."),
    kind: str = typer.Argument(..., help="What to list: " + ", ".join(ROSTER_KIND_NAMES) + "."),
    search: Optional[str] = typer.Option(None, "--search", "-s", envvar="ROSTERSYNC_SEARCH",
                                         help="Only records whose sourcedId is this, or whose names, username, "
                                              "email, title or code contain it."),
    limit: int = typer.Option(50, "--limit", min=1, max=100_000, envvar="ROSTERSYNC_LIMIT",
                              help="Records shown."),
    after: Optional[str] = typer.Option(None, "--after", envvar="ROSTERSYNC_AFTER",
                                        help="Start after this sourcedId (the next page)."),
    include_deleted: bool = typer.Option(False, "--include-deleted", envvar="ROSTERSYNC_INCLUDE_DELETED",
                                         help="Also list deleted records (kept with the time they were deleted)."),
    as_json: bool = json_option("Print the records as JSON (typed fields and the whole OneRoster record)."),
    database_url: Optional[str] = database_url_option(),
) -> None:
    """The stored roster: records of one kind, in sourcedId order."""
    from ..store.connections import get_connection
    from ..store.roster import count_records, records
    from ..store.roster import search as search_records

    record_kind, selection = parse_kind(kind)
    with open_services(database_url, as_json=as_json) as services, services.engine.connect() as db:
        conn = get_connection(db=db, name=connection)
        if search:
            found = search_records(db=db, connection_id=conn.id, text=search, kinds=(record_kind,),
                                   limit=max(limit * 4, 200) if selection else limit + 1)
            found = [r for r in found if all(r.fields.get(k) == v for k, v in (selection or {}).items())]
            found = [r for r in found if after is None or r.sourced_id > after]
        else:
            found = records(db=db, connection_id=conn.id, kind=record_kind, where=selection,
                            include_deleted=include_deleted, after=after, limit=limit + 1)
        stored = count_records(db=db, connection_id=conn.id).get(record_kind, 0)
    more = len(found) > limit
    found = found[:limit]
    next_after = found[-1].sourced_id if more and found else None
    if as_json:
        print_json({"connection": connection, "kind": kind, "records": [record_json(r) for r in found],
                    "next_after": next_after})
        return
    out = console()
    if not found:
        hint = "" if stored else f" Sync it first: rostersync sync {connection}"
        out.print(f"No {kind} found{' matching ' + repr(search) if search else ''} in {connection}.{hint}")
        return
    columns = [c for c in COLUMNS[record_kind] if c not in (selection or {})]
    table = Table(title=f"{kind} of {connection}", title_justify="left")
    table.add_column("sourcedId", no_wrap=True)
    for column in columns:
        table.add_column(_header(column), overflow="fold")
    if include_deleted:
        table.add_column("Deleted")
    for r in found:
        row = [r.sourced_id] + [_cell(r.fields.get(c)) for c in columns]
        if include_deleted:
            row.append(fmt_time(r.deleted_at) if r.deleted else "")
        table.add_row(*row, style="dim" if r.deleted else None)
    out.print(table)
    if next_after:
        out.print(f"More follow: --after {next_after} (or --limit).")


def change_json(change: Change) -> dict[str, Any]:
    return {"id": change.id, "run_id": change.run_id, "kind": change.kind.value, "sourcedId": change.sourced_id,
            "action": change.action, "changed_fields": change.changed_fields, "at": iso(change.at)}


_ACTION_STYLE = {"created": "green", "updated": "yellow", "deleted": "red"}


def change_table(items: list[Change], *, title: str | None = None, run_column: bool = True) -> Table:
    """Changes as a table: kind, sourcedId, action and the names of the fields that changed."""
    table = Table(title=title, title_justify="left")
    if run_column:
        table.add_column("Run", justify="right")
    for column in ("Kind", "sourcedId", "Change", "Fields changed"):
        table.add_column(column, overflow="fold")
    for c in items:
        row = [str(c.run_id or "")] if run_column else []
        row += [c.kind.value, c.sourced_id, f"[{_ACTION_STYLE.get(c.action, '')}]{c.action}[/]",
                ", ".join(c.changed_fields or ()) or "-"]
        table.add_row(*row)
    return table


def latest_changing_run(db, connection_id: int) -> int | None:
    """The newest applied run that changed something."""
    from ..store.runs import APPLIED, list_runs
    from ..sync.result import RunResult

    for run in list_runs(db=db, connection_id=connection_id, states=(APPLIED,), limit=100):
        if RunResult.from_run(run).total.changes:
            return run.id
    return None


def changes(
    connection: str = typer.Argument(..., help="The connection's name."),
    since: Optional[str] = typer.Option(None, "--since", envvar="ROSTERSYNC_SINCE",
                                        help="Changes at or after this time: 2026-09-01, 2026-09-01T10:00:00Z, "
                                             "or a duration ago (90m, 24h, 7d)."),
    run: Optional[int] = typer.Option(None, "--run", envvar="ROSTERSYNC_RUN", help="Changes of this run."),
    after: Optional[int] = typer.Option(None, "--after", envvar="ROSTERSYNC_AFTER",
                                        help="Changes after this change id (what a poller saw last)."),
    kind: Optional[str] = typer.Option(None, "--kind", envvar="ROSTERSYNC_KIND",
                                       help="Only this kind: " + ", ".join(CHANGE_KIND_NAMES) + "."),
    limit: int = typer.Option(50, "--limit", min=1, max=100_000, envvar="ROSTERSYNC_LIMIT", help="Changes shown."),
    as_json: bool = json_option("Print the changes as JSON."),
    database_url: Optional[str] = database_url_option(),
) -> None:
    """The change feed: what syncs created, updated and deleted, oldest first.

    Without --since, --run or --after: the changes of the latest sync that changed something.
    """
    from ..store.connections import get_connection
    from ..store.feed import changes as feed

    kinds = [parse_kind(kind, selections=False)[0]] if kind else None
    since_at = parse_since(since) if since else None
    with open_services(database_url, as_json=as_json) as services, services.engine.connect() as db:
        conn = get_connection(db=db, name=connection)
        run_id = run
        if since_at is None and run is None and after is None:
            run_id = latest_changing_run(db, conn.id)
        items = [] if (run_id is None and since_at is None and after is None) else feed(
            db=db, connection_id=conn.id, since=since_at, after_id=after, kinds=kinds, run_id=run_id,
            limit=limit + 1)
    more = len(items) > limit
    items = items[:limit]
    next_after = items[-1].id if items else after
    if as_json:
        print_json({"connection": connection, "run_id": run_id, "changes": [change_json(c) for c in items],
                    "more": more, "next_after": next_after})
        return
    out = console()
    if not items:
        out.print(f"No changes{' of ' + kind if kind else ''} to show for {connection}." +
                  ("" if run_id or since_at or after else f" Sync it first: rostersync sync {connection}"))
        return
    if since_at is not None:
        title = f"Changes of {connection} since {fmt_time(since_at)}"
    elif after is not None:
        title = f"Changes of {connection} after #{after}"
    else:
        title = f"Changes of {connection} made by run {run_id}"
    out.print(change_table(items, title=title, run_column=run_id is None))
    if more:
        out.print(f"More follow: --after {next_after} (or --limit).")
