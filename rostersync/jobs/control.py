"""What a person does to a schedule: pause, resume, retry, change the window, run now.

Used by the CLI (``rostersync schedules ...``) and the dashboard. Each
function opens its own write transaction on the store's ``engine``, except
:func:`change_schedule`, which works in the caller's (``db``) so that the
dashboard writes its audit entry in the same transaction.
"""

from __future__ import annotations

from datetime import date

from procrastinate import App
from sqlalchemy import Connection, Engine

from ..errors import ConfigError
from ..schedule import (
    Mode,
    Policy,
    ScheduleError,
    check_each,
    parse_hhmm,
    parse_night,
    parse_weekday,
)
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
        raise ScheduleError(f"sync window {text!r} is not START-END", fix="Write it as 22:30-05:00.",
                            field="window") from None
    return window_times(start, end)


def window_times(start: str, end: str) -> tuple[str, str]:
    """A window's start and end as typed -> ``("HH:MM", "HH:MM")``, each checked."""
    start_t, end_t = check_each(lambda: parse_hhmm(start, what="window start", field="window_start"),
                                lambda: parse_hhmm(end, what="window end", field="window_end"))
    return f"{start_t:%H:%M}", f"{end_t:%H:%M}"


def parse_summer_pause(text: str) -> tuple[date, date]:
    """``"2026-06-10..2026-08-15"`` -> the first and last paused nights."""
    try:
        first, last = text.split("..")
    except ValueError:
        raise ScheduleError(f"summer pause {text!r} is not FIRST..LAST", fix="Write it as 2026-06-10..2026-08-15.",
                            field="summer_pause") from None
    return summer_nights(first, last)


def summer_nights(first: str | date, last: str | date) -> tuple[date, date]:
    """The first and last paused nights (dates, or YYYY-MM-DD as typed), each checked."""
    first_d, last_d = check_each(lambda: parse_night(first, what="summer pause first night", field="summer_first"),
                                 lambda: parse_night(last, what="summer pause last night", field="summer_last"))
    return first_d, last_d


def change_schedule(
    *,
    db: Connection,
    name: str,
    window: str | tuple[str, str] | None | object = _UNSET,
    full_day: str | int | None | object = _UNSET,
    summer_pause: str | tuple[str | date, str | date] | None | object = _UNSET,
) -> Policy:
    """Change a connection's schedule in the caller's transaction (never commits); ``None`` puts a
    setting back to the house default, a setting left out stays as it is.

    ``window`` is ``"22:30-05:00"`` or ``("22:30", "05:00")``; ``full_day`` ``"sat"``, ``"Saturday"``
    or 5; ``summer_pause`` ``"2026-06-10..2026-08-15"`` or its two nights (dates or YYYY-MM-DD).
    Every setting is checked, then the schedule as a whole with the connection's time zone; a
    :class:`~rostersync.schedule.ScheduleError` (``ScheduleErrors`` for several) names each bad
    setting in its ``field``. The CLI and the dashboard both change schedules through here.
    """
    conn = get_connection(db=db, name=name)
    row = schedule_row(db=db, connection_id=conn.id)

    def new_window() -> tuple[str | None, str | None]:
        if window is _UNSET:
            return (row.window_start, row.window_end) if row else (None, None)
        if not window:
            return None, None
        return parse_window(window) if isinstance(window, str) else window_times(*window)  # type: ignore[misc]

    def new_weekday() -> int | None:
        if full_day is _UNSET:
            return row.full_weekday if row else None
        return None if full_day is None else parse_weekday(full_day)  # type: ignore[arg-type]

    def new_summer() -> tuple[date, date] | None:
        if summer_pause is _UNSET:
            return (row.summer_pause_start, row.summer_pause_end) if row and row.summer_pause_start else None
        if not summer_pause:
            return None
        if isinstance(summer_pause, str):
            return parse_summer_pause(summer_pause)
        return summer_nights(*summer_pause)  # type: ignore[misc]

    (start, end), weekday, summer = check_each(new_window, new_weekday, new_summer)
    policy = Policy(
        timezone=conn.timezone,
        **({"window_start": parse_hhmm(start), "window_end": parse_hhmm(end)} if start and end else {}),
        **({"full_weekday": weekday} if weekday is not None else {}),
        summer_pause=summer,
    )
    set_policy(db=db, connection_id=conn.id, window_start=start, window_end=end,
               full_weekday=weekday, summer_pause=summer)
    return policy


def set_schedule(engine: Engine, name: str, **changes: object) -> Policy:
    """:func:`change_schedule` (``window=``, ``full_day=``, ``summer_pause=``) in a write transaction
    of its own (``rostersync schedules set``)."""
    with begin_write(engine) as db:
        return change_schedule(db=db, name=name, **changes)


def enqueue_run(app: App, connection_id: int, mode: Mode = "delta") -> int | None:
    """Queue a manual run (app opened synchronously); None if a manual run already waits."""
    if mode not in ("full", "delta"):
        raise ConfigError(f"sync mode must be full or delta, got {mode!r}")
    return enqueue_order(app, Order(connection_id=connection_id, mode=mode))
