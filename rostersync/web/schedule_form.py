"""The district page's schedule form: what it shows, and which changes a submission asks for.

It shows the settings ``rostersync schedules set`` changes: the nightly sync
window, the night of the weekly full sync and the summer pause, in the
connection's time zone. Nothing is validated here: the route hands what was
typed to :func:`rostersync.jobs.control.change_schedule`, the CLI's code, and
shows each :class:`~rostersync.schedule.ScheduleError` next to the field it names.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from ..errors import ConfigError
from ..jobs.planner import policy_for
from ..schedule import (
    DEFAULT_FULL_WEEKDAY,
    DEFAULT_WINDOW_END,
    DEFAULT_WINDOW_START,
    WEEKDAYS,
    Policy,
    ScheduleError,
    ScheduleErrors,
)
from ..store.connections import StoredConnection
from ..store.schedule_tables import ScheduleRow

DAYS = tuple(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")))
HOUSE = f"{DEFAULT_WINDOW_START:%H:%M}-{DEFAULT_WINDOW_END:%H:%M}, full sync on {DAYS[DEFAULT_FULL_WEEKDAY][1]} night"
FIELDS = ("window_start", "window_end", "full_day", "summer_first", "summer_last")


@dataclass(frozen=True)
class ScheduleForm:
    """The form's values (as typed, or as stored), and its errors by field (``""`` for the whole form)."""

    window_start: str
    window_end: str
    full_day: str  # mon..sun
    summer_first: str = ""
    summer_last: str = ""
    timezone: str = ""
    summary: str = ""  # the schedule in one line, as the CLI prints it
    custom: bool = False  # differs from the house schedule
    errors: dict[str, str] = field(default_factory=dict)


def current(connection: StoredConnection, row: ScheduleRow | None) -> ScheduleForm:
    """The connection's schedule as the form shows it."""
    form = ScheduleForm(
        window_start=(row and row.window_start) or f"{DEFAULT_WINDOW_START:%H:%M}",
        window_end=(row and row.window_end) or f"{DEFAULT_WINDOW_END:%H:%M}",
        full_day=WEEKDAYS[DEFAULT_FULL_WEEKDAY if row is None or row.full_weekday is None else row.full_weekday],
        summer_first=row.summer_pause_start.isoformat() if row and row.summer_pause_start else "",
        summer_last=row.summer_pause_end.isoformat() if row and row.summer_pause_end else "",
        timezone=connection.timezone,
        custom=bool(row and (row.window_start or row.full_weekday is not None or row.summer_pause_start)),
    )
    try:
        policy = policy_for(row) if row is not None else Policy(timezone=connection.timezone)
    except ConfigError as exc:  # a schedule that cannot be used: say why, keep the form usable
        return dataclasses.replace(form, errors={"": f"The saved schedule cannot be used: {exc.message}"})
    return dataclasses.replace(form, summary=policy.describe())


def submitted(shown: ScheduleForm, **values: str) -> ScheduleForm:
    """What the person sent (``window_start=``, ..., ``summer_last=``), in place of what was shown."""
    return dataclasses.replace(shown, errors={}, **{name: (values.get(name) or "").strip()[:40] for name in FIELDS})


def changes(shown: ScheduleForm, sent: ScheduleForm) -> dict[str, object]:
    """The settings to change (``change_schedule`` keywords): only those edited; a window or a summer
    pause whose fields were all emptied goes back to the house default (no summer pause)."""
    out: dict[str, object] = {}
    window = (sent.window_start, sent.window_end)
    if window != (shown.window_start, shown.window_end):
        out["window"] = window if any(window) else None
    if sent.full_day != shown.full_day:
        out["full_day"] = sent.full_day or None
    summer = (sent.summer_first, sent.summer_last)
    if summer != (shown.summer_first, shown.summer_last):
        out["summer_pause"] = summer if any(summer) else None
    return out


def with_errors(sent: ScheduleForm, exc: ScheduleError) -> ScheduleForm:
    """``sent`` with each error of ``exc`` under its field (those naming no field, under ``""``)."""
    errors: dict[str, str] = {}
    for error in exc.errors if isinstance(exc, ScheduleErrors) else [exc]:
        text = error.message[:1].upper() + error.message[1:] + "." + (f" {error.fix}" if error.fix else "")
        key = error.field or ""
        errors[key] = f"{errors[key]} {text}" if key in errors else text
    return dataclasses.replace(sent, errors=errors)
