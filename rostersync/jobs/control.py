"""What a person does to a schedule: pause, resume, retry, change the window, run now.

Used by the CLI (``rostersync schedules ...``) and the dashboard. Each
function opens its own write transaction on the store's ``engine``.
"""

from __future__ import annotations

from datetime import date

from procrastinate import App
from sqlalchemy import Engine

from ..errors import ConfigError
from ..schedule import Mode, Policy, parse_hhmm, parse_weekday
from ..store.connections import StoredConnection, get_connection, update_connection
from ..store.engine import begin_write
from ..store.schedule_tables import clear_error, schedule_row, set_policy
from .app import enqueue_order
from .model import Order

_UNSET: object = object()


def pause(engine: Engine, name: str) -> StoredConnection:
    """Stop the connection's scheduled runs until :func:`resume`."""
    with begin_write(engine) as db:
        return update_connection(db=db, name=name, paused=True)


def resume(engine: Engine, name: str) -> StoredConnection:
    with begin_write(engine) as db:
        return update_connection(db=db, name=name, paused=False)


def retry_connection(engine: Engine, name: str) -> StoredConnection:
    """A person retries a connection in Error: the schedule takes it again from its next window."""
    with begin_write(engine) as db:
        conn = get_connection(db=db, name=name)
        clear_error(db=db, connection_id=conn.id)
        return conn


def parse_window(text: str) -> tuple[str, str]:
    """``"22:30-05:00"`` -> ``("22:30", "05:00")``, checked."""
    try:
        start, end = text.split("-")
    except ValueError:
        raise ConfigError(f"sync window {text!r} is not START-END", fix="Write it as 22:30-05:00.") from None
    start_t, end_t = parse_hhmm(start, what="window start"), parse_hhmm(end, what="window end")
    return f"{start_t:%H:%M}", f"{end_t:%H:%M}"


def parse_summer_pause(text: str) -> tuple[date, date]:
    """``"2026-06-10..2026-08-15"`` -> the first and last paused nights."""
    try:
        first, last = (date.fromisoformat(part.strip()) for part in text.split(".."))
    except ValueError:
        raise ConfigError(
            f"summer pause {text!r} is not FIRST..LAST", fix="Write it as 2026-06-10..2026-08-15."
        ) from None
    return first, last


def set_schedule(
    engine: Engine,
    name: str,
    *,
    window: str | None | object = _UNSET,
    full_day: str | int | None | object = _UNSET,
    summer_pause: str | tuple[date, date] | None | object = _UNSET,
) -> Policy:
    """Change a connection's schedule; ``None`` puts a setting back to the house default.

    The result is checked as a whole (with the connection's time zone) before it is saved.
    """
    with begin_write(engine) as db:
        conn = get_connection(db=db, name=name)
        row = schedule_row(db=db, connection_id=conn.id)
        start, end = (row.window_start, row.window_end) if row else (None, None)
        weekday = row.full_weekday if row else None
        summer = (row.summer_pause_start, row.summer_pause_end) if row and row.summer_pause_start else None
        if window is not _UNSET:
            start, end = parse_window(window) if window else (None, None)  # type: ignore[arg-type]
        if full_day is not _UNSET:
            weekday = None if full_day is None else parse_weekday(full_day)  # type: ignore[arg-type]
        if summer_pause is not _UNSET:
            summer = parse_summer_pause(summer_pause) if isinstance(summer_pause, str) else summer_pause  # type: ignore[assignment]
        policy = Policy(
            timezone=conn.timezone,
            **({"window_start": parse_hhmm(start), "window_end": parse_hhmm(end)} if start and end else {}),
            **({"full_weekday": weekday} if weekday is not None else {}),
            summer_pause=summer,
        )
        set_policy(db=db, connection_id=conn.id, window_start=start, window_end=end,
                   full_weekday=weekday, summer_pause=summer)
        return policy


def enqueue_run(app: App, connection_id: int, mode: Mode = "delta") -> int | None:
    """Queue a manual run (app opened synchronously); None if a manual run already waits."""
    if mode not in ("full", "delta"):
        raise ConfigError(f"sync mode must be full or delta, got {mode!r}")
    return enqueue_order(app, Order(connection_id=connection_id, mode=mode))
