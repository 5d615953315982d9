"""What the store commands share: the store option, opening the services, errors, JSON, kinds, times.

Errors never show a traceback: :func:`errors_as_exit` turns a
``RostersyncError`` (or a database failure) into ``error: <message> Fix:
<fix>`` on stderr (and ``{"error": ...}`` on stdout with ``--json``), exit 1.
"""

from __future__ import annotations

import contextlib
import datetime
import re
import sys
from collections.abc import Iterator
from typing import Any

import orjson
import typer
from rich.console import Console

from ..errors import RostersyncError
from ..oneroster.kinds import Kind

DEFAULT_DATABASE_URL = "sqlite:///./rostersync.db"


def database_url_option():
    return typer.Option(None, "--database-url", envvar="ROSTERSYNC_DATABASE_URL", show_default=False,
                        help=f"The store: sqlite:///path or postgresql+psycopg://user@host/db "
                             f"(default {DEFAULT_DATABASE_URL}).")


def json_option(help: str = "Print JSON instead of tables."):
    return typer.Option(False, "--json", envvar="ROSTERSYNC_JSON", help=help)


def settings_for(database_url: str | None, **values: Any):
    from ..settings import Settings

    given = {k: v for k, v in values.items() if v is not None}
    if database_url:
        given["database_url"] = database_url
    return Settings(**given)


def safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - only for display
        return "(an invalid URL)"


def fail(message: str, fix: str | None = None, *, as_json: bool = False, code: int = 1) -> typer.Exit:
    """Print the one-line error (and its JSON twin) and return the Exit to raise."""
    if as_json:
        sys.stdout.write(orjson.dumps({"error": {"message": message, "fix": fix}}).decode() + "\n")
    line = f"error: {message.rstrip('.')}." + (f" Fix: {fix}" if fix else "")
    Console(stderr=True, highlight=False, soft_wrap=True).print(line, style="red", markup=False)
    return typer.Exit(code)


@contextlib.contextmanager
def errors_as_exit(*, as_json: bool = False, database_url: str | None = None) -> Iterator[None]:
    """Turn the errors a person can act on into a one-line message and exit code 1."""
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    try:
        yield
    except RostersyncError as exc:
        raise fail(exc.message, exc.fix, as_json=as_json) from None
    except DBAPIError as exc:
        where = safe_url(database_url or DEFAULT_DATABASE_URL)
        first = str(getattr(exc, "orig", exc)).strip().splitlines()[0:1]
        detail = f" ({type(getattr(exc, 'orig', exc)).__name__}: {first[0][:200]})" if first else ""
        raise fail(f"the store at {where} cannot be used{detail}",
                   "Check ROSTERSYNC_DATABASE_URL (or --database-url) and that the database is reachable.",
                   as_json=as_json) from None
    except SQLAlchemyError as exc:
        raise fail(f"the store failed ({type(exc).__name__})",
                   "Check ROSTERSYNC_DATABASE_URL (or --database-url).", as_json=as_json) from None
    except KeyboardInterrupt:
        raise fail("interrupted", as_json=as_json, code=130) from None


@contextlib.contextmanager
def open_services(database_url: str | None, *, as_json: bool = False, **settings_values: Any):
    """The shared services (:func:`rostersync.services.build_services`) with CLI error handling."""
    from ..services import build_services

    with errors_as_exit(as_json=as_json, database_url=database_url):
        services = build_services(settings_for(database_url, **settings_values))
        try:
            yield services
        finally:
            services.close()


def print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value, default=_json_default, option=orjson.OPT_INDENT_2).decode() + "\n")
    sys.stdout.flush()


def _json_default(value: Any) -> Any:
    if isinstance(value, Kind):
        return value.value
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def console() -> Console:
    return Console(highlight=False)


# -- kinds ---------------------------------------------------------------------

# name -> (kind, selection on typed columns); plural and singular spellings, case-insensitive
_KIND_NAMES: dict[str, tuple[Kind, dict[str, str] | None]] = {
    "orgs": (Kind.ORG, None), "schools": (Kind.ORG, {"type": "school"}),
    "academicsessions": (Kind.ACADEMIC_SESSION, None), "terms": (Kind.ACADEMIC_SESSION, {"type": "term"}),
    "gradingperiods": (Kind.ACADEMIC_SESSION, {"type": "gradingPeriod"}),
    "courses": (Kind.COURSE, None), "classes": (Kind.CLASS, None), "users": (Kind.USER, None),
    "students": (Kind.USER, {"role": "student"}), "teachers": (Kind.USER, {"role": "teacher"}),
    "enrollments": (Kind.ENROLLMENT, None), "demographics": (Kind.DEMOGRAPHICS, None),
}
_SINGULAR = {"org": "orgs", "school": "schools", "academicsession": "academicsessions", "term": "terms",
             "gradingperiod": "gradingperiods", "course": "courses", "class": "classes", "user": "users",
             "student": "students", "teacher": "teachers", "enrollment": "enrollments"}
ROSTER_KIND_NAMES = ("orgs", "schools", "academicSessions", "terms", "gradingPeriods", "courses", "classes",
                     "users", "students", "teachers", "enrollments", "demographics")
CHANGE_KIND_NAMES = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments", "demographics")


def parse_kind(text: str, *, selections: bool = True) -> tuple[Kind, dict[str, str] | None]:
    """``"students"`` -> (Kind.USER, {"role": "student"}); BadParameter naming the choices otherwise."""
    key = (text or "").strip().replace("_", "").replace("-", "").lower()
    key = _SINGULAR.get(key, key)
    found = _KIND_NAMES.get(key)
    names = ROSTER_KIND_NAMES if selections else CHANGE_KIND_NAMES
    if found is None or (not selections and found[1] is not None):
        raise typer.BadParameter(f"{text!r} is not a record kind; use one of {', '.join(names)}")
    return found


# -- times -----------------------------------------------------------------------

_RELATIVE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|min|h|d|w)\s*$", re.IGNORECASE)
_UNITS = {"m": "minutes", "min": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, *, now: datetime.datetime | None = None) -> datetime.datetime:
    """An aware UTC time from ``2026-09-01``, ``2026-09-01T10:00:00Z`` or a duration ago (``90m``,
    ``24h``, ``7d``, ``2w``); BadParameter otherwise. Times without a zone are UTC."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    match = _RELATIVE.match(text or "")
    if match:
        amount, unit = float(match.group(1)), _UNITS[match.group(2).lower()]
        return now - datetime.timedelta(**{unit: amount})
    cleaned = (text or "").strip()
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        value = datetime.datetime.fromisoformat(cleaned)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a time; use 2026-09-01, 2026-09-01T10:00:00Z or a duration ago like 24h or 7d"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc)


def fmt_time(value: datetime.datetime | None) -> str:
    """A stored UTC time in local time, to the second."""
    if value is None:
        return "-"
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def fmt_duration(seconds: float | None) -> str:
    """``3.2 s``, ``1 min 05 s``; ``-`` when unknown (the dashboard's wording)."""
    from ..web.formatting import duration

    return duration(seconds) if seconds is not None else "-"


def iso(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
