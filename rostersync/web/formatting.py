"""Jinja filters: times, durations and counts the way people read them."""

from __future__ import annotations

import datetime

from jinja2 import Environment


def when(value: datetime.datetime | None) -> str:
    """``2026-09-01 22:31 UTC`` (empty for None)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def iso(value: datetime.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.astimezone(datetime.timezone.utc).isoformat(timespec="seconds")


def ago(value: datetime.datetime | None, now: datetime.datetime | None = None) -> str:
    """``5 minutes ago``, ``in 3 hours``."""
    if value is None:
        return ""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    seconds = (now - value).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = int(seconds // size)
            text = f"{n} {unit}{'s' if n != 1 else ''}"
            break
    else:
        return "just now"
    return f"in {text}" if future else f"{text} ago"


def duration(seconds: float | None) -> str:
    """``1 min 05 s``, ``3.2 s``."""
    if seconds is None:
        return ""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def count(value: int | None) -> str:
    return "" if value is None else f"{value:,}"


def install(env: Environment) -> None:
    env.filters.update(when=when, iso=iso, ago=ago, duration=duration, count=count)
