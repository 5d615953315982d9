"""When a connection's sync is due: pure functions of a policy, a state and "now".

No I/O and no clock: every function takes ``now`` (an aware datetime) so the
same code serves the procrastinate scheduler, the embedded scheduler, the
dashboard's "next run" column and the tests.

Vocabulary:

* A **night** is named by the district-local date on which its off-peak
  window opens. With the default window (22:30 to 05:00, after Infinite
  Campus's 22:10 cache refresh) the night of Saturday 2026-09-05 runs from
  Saturday 22:30 to Sunday 05:00 local time. Windows that do not cross
  midnight (for example 01:00 to 05:00) work the same way.
* Local times are turned into instants with :mod:`zoneinfo`, so a night that
  crosses a DST change is an hour shorter or longer. A window edge that falls
  in the spring-forward gap moves later by the gap; a window edge that falls
  in the repeated autumn hour is taken at its first occurrence for the start
  and its second for the end (the window never shrinks by the ambiguity).
* Each night a due connection gets one scheduled run: a **full** sync on the
  policy's weekday (and whenever the last full sync is missing or more than a
  week old, e.g. after a pause or a failed weekly run), a **delta** sync on
  every other night.
* Nothing is due while the connection is paused, inside its summer pause
  (both dates inclusive, in local nights), held for review, or in Error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .errors import ConfigError

Mode = Literal["full", "delta"]

UTC = timezone.utc
DEFAULT_TIMEZONE = "America/Chicago"
DEFAULT_WINDOW_START = time(22, 30)
DEFAULT_WINDOW_END = time(5, 0)
DEFAULT_FULL_WEEKDAY = 5  # Saturday night
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FULL_SYNC_MAX_AGE = timedelta(days=7)
_SEARCH_NIGHTS = 800  # how far next_run_at looks ahead (covers any summer pause)


def _aware(now: datetime, what: str = "now") -> datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {now.isoformat()}")
    return now.astimezone(UTC)


class ScheduleError(ConfigError):
    """The schedule is not valid.

    ``field`` names the setting at fault, for forms to show the error next to it:
    ``window_start``, ``window_end``, ``window`` (the two together), ``full_day``,
    ``summer_first``, ``summer_last``, ``summer_pause`` (the two together) or ``timezone``.
    """

    def __init__(self, message: str | None = None, *, fix: str | None = None, field: str | None = None) -> None:
        super().__init__(message, fix=fix)
        self.field = field


class ScheduleErrors(ScheduleError):
    """Several settings of the schedule are not valid; ``errors`` has each one."""

    def __init__(self, errors: list[ScheduleError]) -> None:
        self.errors = list(errors)
        fixes = dict.fromkeys(e.fix for e in self.errors if e.fix)
        super().__init__("; ".join(e.message for e in self.errors), fix=" ".join(fixes) or None,
                         field=self.errors[0].field)


def check_each(*checks: Callable[[], Any]) -> list[Any]:
    """Run every check and return their results; when any raised :class:`ScheduleError`,
    raise them all together (a :class:`ScheduleErrors`), so a form can mark every bad field."""
    results, errors = [], []
    for check in checks:
        try:
            results.append(check())
        except ScheduleErrors as exc:
            errors.extend(exc.errors)
        except ScheduleError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ScheduleErrors(errors)
    return results


def parse_hhmm(text: str, *, what: str = "time", field: str | None = None) -> time:
    """``"22:30"`` -> ``time(22, 30)``; a clear :class:`ScheduleError` otherwise."""
    if isinstance(text, str) and not text.strip():
        raise ScheduleError(f"{what} is missing", fix="Write it as HH:MM, for example 22:30.", field=field)
    try:
        hours, minutes = text.strip().split(":")
        return time(int(hours), int(minutes))
    except (ValueError, AttributeError):
        raise ScheduleError(
            f"{what} {text!r} is not a time of day", fix="Write it as HH:MM, for example 22:30.", field=field
        ) from None


def parse_night(text: str | date, *, what: str, field: str | None = None) -> date:
    """``"2026-06-10"`` -> ``date(2026, 6, 10)``; a clear :class:`ScheduleError` otherwise."""
    if isinstance(text, date):
        return text
    if not str(text).strip():
        raise ScheduleError(f"{what} is missing", fix="Give both nights, or neither for no summer pause.",
                            field=field)
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise ScheduleError(
            f"{what} {text!r} is not a date", fix="Write it as YYYY-MM-DD, for example 2026-06-10.", field=field
        ) from None


def parse_weekday(text: str | int) -> int:
    """``"sat"``/``"Saturday"``/``5`` -> 5 (Monday is 0)."""
    if isinstance(text, int) and 0 <= text <= 6:
        return text
    key = str(text).strip().lower()[:3]
    if key.isdigit() and 0 <= int(key) <= 6:
        return int(key)
    if key in WEEKDAYS:
        return WEEKDAYS.index(key)
    raise ScheduleError(
        f"full-sync day {text!r} is not a weekday", fix="Use mon, tue, wed, thu, fri, sat or sun.", field="full_day"
    )


@dataclass(frozen=True)
class RetryPolicy:
    """How failed runs are retried.

    Transient failures (throttling, timeouts, 5xx) are retried after
    ``base_delay * 2**(attempt-1)`` seconds, capped at ``max_delay``, at most
    ``max_attempts`` attempts in all, and never past the night's window.
    Terminal failures (refused credentials, forbidden) get
    ``terminal_attempts`` attempts (default 1: no retry) and then put the
    connection in Error.
    """

    max_attempts: int = 4
    base_delay: float = 300.0
    max_delay: float = 3600.0
    terminal_attempts: int = 1

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.terminal_attempts < 1:
            raise ConfigError("retry attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ConfigError("retry delays must satisfy 0 <= base_delay <= max_delay")

    def delay(self, attempt: int) -> timedelta:
        """The wait after failed attempt number ``attempt`` (1-based)."""
        seconds = self.base_delay * (2 ** max(attempt - 1, 0))
        return timedelta(seconds=min(seconds, self.max_delay))


@dataclass(frozen=True)
class Policy:
    """One connection's schedule. Every field has the house default."""

    timezone: str = DEFAULT_TIMEZONE
    window_start: time = DEFAULT_WINDOW_START
    window_end: time = DEFAULT_WINDOW_END
    full_weekday: int = DEFAULT_FULL_WEEKDAY
    summer_pause: tuple[date, date] | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(
                f"time zone {self.timezone!r} is unknown",
                fix="Use an IANA name such as America/Chicago or America/New_York.", field="timezone",
            ) from None
        if self.window_start == self.window_end:
            raise ScheduleError(
                f"sync window {self.window_start:%H:%M}-{self.window_end:%H:%M} is empty",
                fix="Give different start and end times, e.g. 22:30-05:00.", field="window",
            )
        if not 0 <= self.full_weekday <= 6:
            raise ScheduleError(f"full-sync weekday {self.full_weekday} is not 0 (Mon) to 6 (Sun)", field="full_day")
        if self.summer_pause is not None:
            start, end = self.summer_pause
            if end < start:
                raise ScheduleError(
                    f"summer pause ends ({end}) before it starts ({start})",
                    fix="Give the first paused night, then the last.", field="summer_pause",
                )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def crosses_midnight(self) -> bool:
        return self.window_end <= self.window_start

    def describe(self) -> str:
        """One line for people: ``22:30-05:00 America/Chicago, full on sat``."""
        text = (
            f"{self.window_start:%H:%M}-{self.window_end:%H:%M} {self.timezone}, "
            f"full on {WEEKDAYS[self.full_weekday]}"
        )
        if self.summer_pause:
            text += f", summer pause {self.summer_pause[0]}..{self.summer_pause[1]}"
        return text


@dataclass(frozen=True)
class State:
    """What the scheduler knows about one connection right now."""

    paused: bool = False
    held: bool = False  # a run waits for a person to approve or discard it
    error: bool = False  # a Terminal failure not yet cleared
    last_full_at: datetime | None = None  # when the last full sync succeeded
    claimed_night: date | None = None  # the last night a scheduled run was enqueued for


@dataclass(frozen=True)
class Due:
    """A scheduled run to enqueue now."""

    night: date
    mode: Mode
    reason: str
    window_end: datetime  # UTC; scheduled retries stop here


@dataclass(frozen=True)
class NotDue:
    """Why nothing is due now, and when something next will be (None: not until a person acts)."""

    reason: str
    next_at: datetime | None


def _local_instant(zone: ZoneInfo, day: date, at: time, *, fold: int) -> datetime:
    """The UTC instant of local wall time ``day at`` (gap times move forward)."""
    naive = datetime.combine(day, at)
    local = naive.replace(tzinfo=zone, fold=fold)
    instant = local.astimezone(UTC)
    # A wall time inside a spring-forward gap does not exist: its round trip
    # lands elsewhere. Use the instant the clocks jump to (later by the gap).
    if instant.astimezone(zone).replace(tzinfo=None) != naive:
        before = naive.replace(tzinfo=zone, fold=0).astimezone(UTC)
        after = naive.replace(tzinfo=zone, fold=1).astimezone(UTC)
        instant = max(before, after)
    return instant


def window_of(policy: Policy, night: date) -> tuple[datetime, datetime]:
    """The UTC ``[start, end)`` of ``night``'s off-peak window."""
    zone = policy.zone
    end_day = night + timedelta(days=1) if policy.crosses_midnight else night
    start = _local_instant(zone, night, policy.window_start, fold=0)
    end = _local_instant(zone, end_day, policy.window_end, fold=1)
    return start, end


def local_date(policy: Policy, now: datetime) -> date:
    return _aware(now).astimezone(policy.zone).date()


def current_night(policy: Policy, now: datetime) -> date | None:
    """The night whose window contains ``now``, or None outside every window."""
    now = _aware(now)
    today = local_date(policy, now)
    for night in (today - timedelta(days=1), today):
        start, end = window_of(policy, night)
        if start <= now < end:
            return night
    return None


def in_summer_pause(policy: Policy, night: date) -> bool:
    if policy.summer_pause is None:
        return False
    start, end = policy.summer_pause
    return start <= night <= end


def mode_for(policy: Policy, night: date, last_full_at: datetime | None) -> tuple[Mode, str]:
    """Full or delta for ``night``, with the reason a person would read."""
    if last_full_at is None:
        return "full", "first full sync"
    if night.weekday() == policy.full_weekday:
        return "full", "weekly full sync"
    start, _ = window_of(policy, night)
    if _aware(last_full_at, "last_full_at") < start - FULL_SYNC_MAX_AGE:
        return "full", "last full sync is over a week old"
    return "delta", "nightly delta sync"


def _blocked(state: State) -> str | None:
    if state.error:
        return "in Error: fix the credentials or retry"
    if state.held:
        return "held for review: approve or discard the held run"
    if state.paused:
        return "paused"
    return None


def decide(policy: Policy, state: State, now: datetime) -> Due | NotDue:
    """Whether a scheduled run is due at ``now``, and which."""
    now = _aware(now)
    blocked = _blocked(state)
    if blocked:
        return NotDue(blocked, None)
    night = current_night(policy, now)
    if night is None:
        return NotDue("outside the sync window", next_run_at(policy, state, now))
    if in_summer_pause(policy, night):
        return NotDue("summer pause", next_run_at(policy, state, now))
    if state.claimed_night is not None and state.claimed_night >= night:
        return NotDue("already scheduled tonight", next_run_at(policy, state, now))
    mode, reason = mode_for(policy, night, state.last_full_at)
    return Due(night=night, mode=mode, reason=reason, window_end=window_of(policy, night)[1])


def next_run_at(policy: Policy, state: State, now: datetime) -> datetime | None:
    """When the next scheduled run can start (``now`` if one is due), None while blocked."""
    now = _aware(now)
    if _blocked(state):
        return None
    night = local_date(policy, now) - timedelta(days=1)
    for _ in range(_SEARCH_NIGHTS):
        start, end = window_of(policy, night)
        usable = (
            end > now
            and not in_summer_pause(policy, night)
            and not (state.claimed_night is not None and state.claimed_night >= night)
        )
        if usable:
            return max(start, now)
        night += timedelta(days=1)
    return None


@dataclass(frozen=True)
class RetryAt:
    """Try again at ``at`` (UTC)."""

    at: datetime


@dataclass(frozen=True)
class GiveUp:
    """Stop retrying. ``error``: put the connection in Error (a Terminal failure)."""

    reason: str
    error: bool


def after_failure(
    retry: RetryPolicy,
    *,
    terminal: bool,
    attempts: int,
    now: datetime,
    deadline: datetime | None,
) -> RetryAt | GiveUp:
    """What to do after attempt number ``attempts`` (1-based) failed.

    ``deadline`` is the end of the night's window for scheduled runs (retries
    never spill out of off-peak hours) and None for manual runs.
    """
    now = _aware(now)
    if terminal:
        if attempts >= retry.terminal_attempts:
            return GiveUp(f"failed permanently after {attempts} attempt(s)", error=True)
    elif attempts >= retry.max_attempts:
        return GiveUp(f"gave up after {attempts} attempts; the next night tries again", error=False)
    at = now + retry.delay(attempts)
    if deadline is not None and at >= _aware(deadline, "deadline"):
        if terminal:
            return GiveUp("failed permanently and the sync window closed", error=True)
        return GiveUp("the sync window closes before the next retry", error=False)
    return RetryAt(at)
