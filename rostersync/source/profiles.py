"""Vendor profiles: how hard, and how, a provider may be read.

A profile is data (page sizes, concurrency off-peak and at peak, the peak
window, retry limits, the hard page bound), so another vendor is one more
entry in :data:`PROFILES`, with no change to the client.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclass(frozen=True)
class Profile:
    name: str
    label: str  # what a person calls the vendor
    page_size: int = 1_000  # records asked for per page
    max_page_size: int = 1_000  # the provider's cap
    max_in_flight: int = 2  # concurrent requests off-peak
    peak_in_flight: int = 1  # concurrent requests during peak hours
    peak_start: datetime.time | None = None  # district-local peak window, weekdays
    peak_end: datetime.time | None = None
    max_pages: int = 100_000  # hard upper bound per collection read
    max_attempts: int = 6  # per request, the first one included
    backoff_base: float = 0.5  # seconds; doubles per attempt, with full jitter
    backoff_cap: float = 30.0  # longest single backoff
    retry_budget: float = 300.0  # most seconds one request may spend waiting to retry
    max_read_passes: int = 3  # re-reads of a collection whose total shifted

    def __post_init__(self) -> None:
        if not 1 <= self.page_size <= self.max_page_size:
            raise ValueError(f"profile {self.name}: page_size must be between 1 and {self.max_page_size}")
        if self.max_in_flight < 1 or self.peak_in_flight < 1:
            raise ValueError(f"profile {self.name}: concurrency must be at least 1")
        if self.max_attempts < 1 or self.max_pages < 1:
            raise ValueError(f"profile {self.name}: max_attempts and max_pages must be at least 1")

    def is_peak(self, now: datetime.datetime, timezone: str) -> bool:
        """True when ``now`` (aware, any zone) falls in the district's weekday peak window."""
        if self.peak_start is None or self.peak_end is None:
            return False
        try:
            local = now.astimezone(ZoneInfo(timezone))
        except (ZoneInfoNotFoundError, ValueError):
            local = now.astimezone(ZoneInfo("America/Chicago"))
        if local.weekday() >= 5:
            return False
        return self.peak_start <= local.time() < self.peak_end

    def concurrency(self, *, peak: bool) -> int:
        return self.peak_in_flight if peak else self.max_in_flight


INFINITE_CAMPUS = Profile(
    name="infinite_campus",
    label="Infinite Campus",
    page_size=10_000,
    max_page_size=50_000,
    max_in_flight=5,
    peak_in_flight=1,
    # Infinite Campus asks for one request at a time during the school day.
    peak_start=datetime.time(6, 0),
    peak_end=datetime.time(18, 0),
)

GENERIC = Profile(
    name="generic",
    label="OneRoster provider",
    page_size=1_000,
    max_page_size=1_000,
    max_in_flight=2,
    peak_in_flight=1,
)

PROFILES: dict[str, Profile] = {p.name: p for p in (INFINITE_CAMPUS, GENERIC)}


def get_profile(name: str) -> Profile:
    """The profile called ``name`` (``infinite_campus``, ``generic``); ValueError names the choices."""
    key = (name or "").strip().lower().replace("-", "_").replace(" ", "_")
    if key in ("ic", "campus"):
        key = "infinite_campus"
    try:
        return PROFILES[key]
    except KeyError:
        raise ValueError(f"unknown vendor profile {name!r}; choose one of {', '.join(PROFILES)}") from None
