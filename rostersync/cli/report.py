"""How a sync run is shown: progress bars while it reads, a summary table after.

Shared by ``rostersync sync``, ``rostersync runs show|approve|discard`` and
``rostersync demo``. :func:`exit_code` maps a run's state to the command's exit
code: 0 applied (or a dry run), 2 held for review, 1 failed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from .common import fmt_duration

if TYPE_CHECKING:
    from ..sync.result import RunResult

EXIT_APPLIED, EXIT_FAILED, EXIT_HELD = 0, 1, 2
MAX_ISSUES_SHOWN = 8
STATE_STYLE = {"applied": "green", "held": "bold yellow", "failed": "bold red", "discarded": "cyan",
                "running": "blue"}


def failed_collections(result: RunResult) -> list[str]:
    return [name for name, c in result.collections.items() if c.get("state") == "failed"]


def nothing_read(result: RunResult) -> bool:
    """Every collection failed: the run changed nothing because the district could not be read."""
    failed = failed_collections(result)
    return bool(failed) and len(failed) == len(result.collections)


def exit_code(result: RunResult) -> int:
    """0 applied (or a dry run), 2 held, 1 failed or nothing could be read."""
    if result.state == "held":
        return EXIT_HELD
    if result.state == "failed" or nothing_read(result):
        return EXIT_FAILED
    return EXIT_APPLIED


class CollectionProgress:
    """The engine's progress callback, drawn as one Rich bar per collection.

    The engine reports ``(collection, records so far, total or None)`` after
    every staged batch; a collection is complete when the next one starts or
    the run ends, and its bar is then filled.
    """

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("{task.description:<18}"), BarColumn(bar_width=30),
            TextColumn("{task.fields[records]:>10,} records"), TimeElapsedColumn(),
            console=console, transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._current: str | None = None

    def __enter__(self) -> CollectionProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._finish_current()
        self._progress.stop()

    def __call__(self, collection: str, count: int, total: int | None) -> None:
        if collection != self._current:
            self._finish_current()
            self._current = collection
            self._tasks[collection] = self._progress.add_task(collection, total=total, records=0)
        self._progress.update(self._tasks[collection], completed=count, total=total, records=count)

    def _finish_current(self) -> None:
        if self._current is not None:
            self._progress.update(self._tasks[self._current], total=1, completed=1)  # fill the bar
            self._current = None


def counts_table(result: RunResult, *, title: str | None = None) -> Table:
    """Created, updated, deleted, unchanged (and skipped, when any) per kind, with a total row."""
    from ..sync.result import KIND_LABELS

    skipped = any(c.skipped for c in result.counts.values())
    table = Table(title=title, title_justify="left", show_footer=False)
    table.add_column("Records")
    for name in ("Created", "Updated", "Deleted", "Unchanged") + (("Skipped",) if skipped else ()):
        table.add_column(name, justify="right")
    for kind, c in result.counts.items():
        row = [KIND_LABELS[kind], c.created, c.updated, c.deleted, c.unchanged] + ([c.skipped] if skipped else [])
        table.add_row(*[_n(v) for v in row])
    t = result.total
    total = ["Total", t.created, t.updated, t.deleted, t.unchanged] + ([t.skipped] if skipped else [])
    table.add_section()
    table.add_row(*[_n(v) for v in total], style="bold")
    return table


def _n(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def render_result(result: RunResult, console: Console, *, headline: str | None = None) -> None:
    """The run's summary: state, counts, speed, warnings and errors with their fixes, and what to do next."""
    style = STATE_STYLE.get(result.state, "")
    what = "dry run" if result.dry_run else f"{result.mode} sync"
    state = "nothing applied (dry run)" if result.dry_run and result.state == "discarded" else result.state
    title = Text(headline or f"Run {result.run_id}: {what} of {result.connection} ")
    title.append(f"[{state}]", style=style)
    console.print(title)
    if result.records_read or any(c.changes or c.unchanged for c in result.counts.values()):
        console.print(counts_table(result))
    speed = f"{result.records_per_second:,.0f} records/s" if result.records_read else "no records"
    console.print(f"Read {result.records_read:,} records in {fmt_duration(result.duration)} ({speed}).")
    _issues(console, "Errors", result.errors, "red")
    _issues(console, "Warnings", result.warnings, "yellow", run_id=result.run_id)
    for line in next_steps(result):
        console.print(line)


def _issues(console: Console, label: str, issues: list, style: str, *, run_id: int | None = None) -> None:
    if not issues:
        return
    console.print(Text(f"{label} ({len(issues)}):", style=f"bold {style}"))
    for issue in issues[:MAX_ISSUES_SHOWN]:
        line = Text("  • ")
        line.append(issue.message, style=style)
        if issue.fix:
            line.append(f"\n    Fix: {issue.fix}", style="dim")
        console.print(line)
    if len(issues) > MAX_ISSUES_SHOWN:
        more = f"  … and {len(issues) - MAX_ISSUES_SHOWN} more"
        if run_id is not None:
            more += f" (rostersync runs show {run_id} --json)"
        console.print(more)


def next_steps(result: RunResult) -> list[str]:
    """What a person does next, as Rich markup lines."""
    rid = result.run_id
    if result.state == "held":
        lines = ["[bold yellow]Held for review:[/] this run would change more than the connection's "
                 "thresholds allow, so nothing was applied."]
        lines += [f"  • {reason}" for reason in result.hold_reasons]
        lines.append(f"Apply exactly these changes: [bold]rostersync runs approve {rid}[/]   "
                     f"or drop them: [bold]rostersync runs discard {rid}[/]")
        return lines
    if result.state == "failed":
        return [f"[bold red]The run failed and changed nothing.[/] Details: rostersync runs show {rid}"]
    failed = failed_collections(result)
    if nothing_read(result):
        return ["[bold red]No collection could be read from the district, so nothing changed.[/] "
                "See the warnings above for the fix."]
    if failed:
        lines = [f"[yellow]{len(failed)} of {len(result.collections)} collections could not be read "
                 f"({', '.join(failed)}):[/] nothing of theirs was applied or deleted; the rest was."]
        if result.state == "applied" and result.total.changes:
            lines.append(f"See the changes with: rostersync changes {result.connection}")
        return lines
    if result.dry_run:
        return ["[cyan]Dry run: nothing was applied.[/] Run it without --dry-run to apply these changes."]
    if result.state == "applied":
        changed = result.total.changes
        if changed:
            return [f"Applied {changed:,} changes. See them with: rostersync changes {result.connection}"]
        return ["Applied: the store already matched the district (no changes)."]
    return []


def result_json(result: RunResult) -> dict[str, Any]:
    """``RunResult.to_dict()`` plus the totals and the exit code."""
    out = result.to_dict()
    out["total"] = result.total.to_dict()
    out["exit_code"] = exit_code(result)
    return out
