"""The ``rostersync`` command line (Typer). Thin: each command builds what it
needs from one :class:`~rostersync.settings.Settings` and calls the library.

Every option that matters has an environment twin (``ROSTERSYNC_*``).
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="rostersync",
    help="Sync OneRoster rosters from school districts (Infinite Campus first) into a store your app reads.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)

# (module, attribute, name): sub-command groups and single commands, registered
# when their module exists so the CLI grows with the package.
_GROUPS = (
    ("rostersync.cli.sandbox", "app", "sandbox"),
    ("rostersync.cli.connections", "app", "connections"),
    ("rostersync.cli.runs", "app", "runs"),
    ("rostersync.cli.web", "users_app", "users"),
    ("rostersync.cli.jobs", "schedules_app", "schedules"),
)
_COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("rostersync.cli.demo", "demo", "demo"),
    ("rostersync.cli.sync", "sync", "sync"),
    ("rostersync.cli.roster", "changes", "changes"),
    ("rostersync.cli.roster", "roster", "roster"),
    ("rostersync.cli.check", "check", "check"),
    ("rostersync.cli.web", "serve", "serve"),
    ("rostersync.cli.jobs", "worker", "worker"),
    ("rostersync.cli.jobs", "scheduler", "scheduler"),
)


def _register() -> None:
    for module_name, attr, name in _GROUPS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        app.add_typer(getattr(module, attr), name=name)
    for module_name, attr, name in _COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        app.command(name=name)(getattr(module, attr))


_register()


@app.callback()
def _root(
    log_level: str = typer.Option("WARNING", envvar="ROSTERSYNC_LOG_LEVEL", help="Logging level."),
) -> None:
    """rostersync: OneRoster rostering sync."""
    from ..log import configure_logging

    configure_logging(log_level)


def main() -> None:
    app()
