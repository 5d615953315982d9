"""When a district's nightly and weekly syncs are due, in its own time zone."""

from datetime import date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rostersync.errors import ConfigError
from rostersync.schedule import (
    Due,
    GiveUp,
    NotDue,
    Policy,
    RetryAt,
    RetryPolicy,
    State,
    after_failure,
    current_night,
    decide,
    mode_for,
    next_run_at,
    parse_hhmm,
    parse_weekday,
    window_of,
)

UTC = timezone.utc
CHICAGO = Policy(timezone="America/Chicago")
NEW_YORK = Policy(timezone="America/New_York")
RECENT_FULL = datetime(2026, 9, 6, 4, 0, tzinfo=UTC)  # Saturday night's full, Chicago


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- windows -----------------------------------------------------------------


def test_default_window_is_2230_to_0500_local_after_the_ic_cache_refresh():
    start, end = window_of(CHICAGO, date(2026, 9, 8))  # CDT = UTC-5
    assert start == utc(2026, 9, 9, 3, 30)
    assert end == utc(2026, 9, 9, 10, 0)


def test_the_night_is_named_by_the_date_its_window_opens():
    tuesday = date(2026, 9, 8)
    assert current_night(CHICAGO, utc(2026, 9, 9, 3, 30)) == tuesday  # 22:30 Tue
    assert current_night(CHICAGO, utc(2026, 9, 9, 9, 59)) == tuesday  # 04:59 Wed
    assert current_night(CHICAGO, utc(2026, 9, 9, 10, 0)) is None  # 05:00 Wed
    assert current_night(CHICAGO, utc(2026, 9, 9, 3, 29)) is None  # 22:29 Tue


def test_a_window_that_does_not_cross_midnight():
    policy = Policy(timezone="America/Chicago", window_start=time(1), window_end=time(5))
    assert window_of(policy, date(2026, 9, 9)) == (utc(2026, 9, 9, 6), utc(2026, 9, 9, 10))
    assert current_night(policy, utc(2026, 9, 9, 7)) == date(2026, 9, 9)
    assert current_night(policy, utc(2026, 9, 9, 4)) is None  # 23:00 the day before


def test_spring_forward_night_is_an_hour_shorter():
    start, end = window_of(NEW_YORK, date(2026, 3, 7))  # clocks jump 02:00 -> 03:00 on Mar 8
    assert start == utc(2026, 3, 8, 3, 30)  # 22:30 EST
    assert end == utc(2026, 3, 8, 9, 0)  # 05:00 EDT
    assert end - start == timedelta(hours=5, minutes=30)


def test_fall_back_night_is_an_hour_longer():
    start, end = window_of(NEW_YORK, date(2026, 10, 31))  # clocks go 02:00 -> 01:00 on Nov 1
    assert start == utc(2026, 11, 1, 2, 30)  # 22:30 EDT
    assert end == utc(2026, 11, 1, 10, 0)  # 05:00 EST
    assert end - start == timedelta(hours=7, minutes=30)


def test_a_window_edge_in_the_spring_forward_gap_moves_later():
    policy = Policy(timezone="America/New_York", window_start=time(2, 30), window_end=time(5))
    start, end = window_of(policy, date(2026, 3, 8))  # 02:30 does not exist that day
    assert start == utc(2026, 3, 8, 7, 30)  # 03:30 EDT
    assert end == utc(2026, 3, 8, 9, 0)


def test_a_window_ending_in_the_repeated_hour_ends_at_its_second_occurrence():
    policy = Policy(timezone="America/New_York", window_start=time(22), window_end=time(1, 30))
    start, end = window_of(policy, date(2026, 10, 31))
    assert end == utc(2026, 11, 1, 6, 30)  # 01:30 EST, not 01:30 EDT
    assert end - start == timedelta(hours=4, minutes=30)


def test_zones_without_dst_and_in_the_southern_hemisphere():
    honolulu = Policy(timezone="Pacific/Honolulu")
    assert window_of(honolulu, date(2026, 3, 7)) == (utc(2026, 3, 8, 8, 30), utc(2026, 3, 8, 15))
    sydney = Policy(timezone="Australia/Sydney")  # DST ends 03:00 -> 02:00 on 2026-04-05
    start, end = window_of(sydney, date(2026, 4, 4))
    assert end - start == timedelta(hours=7, minutes=30)


# -- what is due -------------------------------------------------------------


def test_a_nightly_delta_is_due_inside_the_window_and_only_once_a_night():
    now = utc(2026, 9, 9, 4)  # Tue 23:00 in Chicago
    state = State(last_full_at=RECENT_FULL)
    due = decide(CHICAGO, state, now)
    assert due == Due(
        night=date(2026, 9, 8), mode="delta", reason="nightly delta sync", window_end=utc(2026, 9, 9, 10)
    )
    again = decide(CHICAGO, State(last_full_at=RECENT_FULL, claimed_night=date(2026, 9, 8)), now)
    assert isinstance(again, NotDue)
    assert again.reason == "already scheduled tonight"
    assert again.next_at == utc(2026, 9, 10, 3, 30)  # Wednesday 22:30


def test_outside_the_window_nothing_is_due_and_the_next_start_is_given():
    noon = utc(2026, 9, 9, 17)  # Wed 12:00 in Chicago
    result = decide(CHICAGO, State(last_full_at=RECENT_FULL), noon)
    assert result == NotDue("outside the sync window", utc(2026, 9, 10, 3, 30))


def test_the_weekly_full_sync_runs_on_its_weekday_night():
    saturday_night = utc(2026, 9, 13, 4)  # Sat 2026-09-12 23:00 Chicago
    result = decide(CHICAGO, State(last_full_at=RECENT_FULL), saturday_night)
    assert isinstance(result, Due)
    assert (result.mode, result.reason) == ("full", "weekly full sync")
    wednesday = Policy(timezone="America/Chicago", full_weekday=parse_weekday("wed"))
    assert decide(wednesday, State(last_full_at=RECENT_FULL), saturday_night).mode == "delta"


def test_a_connection_never_synced_in_full_gets_a_full_sync_first():
    result = decide(CHICAGO, State(), utc(2026, 9, 9, 4))
    assert (result.mode, result.reason) == ("full", "first full sync")


def test_a_missed_weekly_full_sync_is_caught_up_the_next_night():
    two_saturdays_ago = utc(2026, 8, 30, 4)  # the night of Sat 2026-08-29
    mode, reason = mode_for(CHICAGO, date(2026, 9, 6), two_saturdays_ago)  # a Sunday
    assert (mode, reason) == ("full", "last full sync is over a week old")
    assert mode_for(CHICAGO, date(2026, 9, 6), RECENT_FULL)[0] == "delta"


@pytest.mark.parametrize(
    "state, reason",
    [
        (State(paused=True, last_full_at=RECENT_FULL), "paused"),
        (State(held=True, last_full_at=RECENT_FULL), "held for review: approve or discard the held run"),
        (State(error=True, last_full_at=RECENT_FULL), "in Error: fix the credentials or retry"),
    ],
)
def test_paused_held_and_errored_connections_are_not_scheduled(state, reason):
    result = decide(CHICAGO, state, utc(2026, 9, 9, 4))
    assert result == NotDue(reason, None)
    assert next_run_at(CHICAGO, state, utc(2026, 9, 9, 4)) is None


def test_the_summer_pause_skips_its_nights_inclusive_and_resumes_after():
    policy = Policy(timezone="America/Chicago", summer_pause=(date(2026, 6, 10), date(2026, 8, 15)))
    inside = utc(2026, 7, 1, 4)  # night of June 30
    result = decide(policy, State(last_full_at=RECENT_FULL), inside)
    assert result == NotDue("summer pause", utc(2026, 8, 17, 3, 30))  # night of Aug 16
    assert isinstance(decide(policy, State(), utc(2026, 8, 16, 4)), NotDue)  # night of Aug 15
    first_back = decide(policy, State(last_full_at=utc(2026, 6, 7, 4)), utc(2026, 8, 17, 4))
    assert (first_back.mode, first_back.reason) == ("full", "last full sync is over a week old")
    assert isinstance(decide(policy, State(), utc(2026, 6, 10, 4)), Due)  # night of June 9


def test_next_run_is_now_when_something_is_due():
    now = utc(2026, 9, 9, 4)
    assert next_run_at(CHICAGO, State(last_full_at=RECENT_FULL), now) == now


def test_one_scheduled_run_per_night_through_a_year_of_dst_changes():
    """Walking a whole year in 30-minute steps, claiming each due night, gives one run a night."""
    policy = NEW_YORK
    state = State(last_full_at=utc(2025, 12, 28, 4))
    now = utc(2026, 1, 1, 0)
    nights: list[date] = []
    full_nights: list[date] = []
    while now < utc(2027, 1, 1, 0):
        result = decide(policy, state, now)
        if isinstance(result, Due):
            start, end = window_of(policy, result.night)
            assert start <= now < end
            nights.append(result.night)
            if result.mode == "full":
                full_nights.append(result.night)
            state = State(
                claimed_night=result.night,
                last_full_at=now if result.mode == "full" else state.last_full_at,
            )
        now += timedelta(minutes=30)
    assert len(nights) == len(set(nights)) == 365
    assert nights[0] == date(2025, 12, 31)  # the night in progress when the walk starts
    assert all(night.weekday() == 5 for night in full_nights)
    assert len(full_nights) == 52


@settings(max_examples=300, deadline=None)
@given(
    instant=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)),
    zone=st.sampled_from(["America/New_York", "America/Denver", "America/Phoenix", "Europe/London", "Australia/Sydney"]),
    start=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    end=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_every_window_contains_the_instants_it_claims(instant, zone, start, end):
    if start == end:
        return
    policy = Policy(timezone=zone, window_start=start, window_end=end)
    now = instant.replace(tzinfo=UTC)
    night = current_night(policy, now)
    if night is not None:
        window_start, window_end = window_of(policy, night)
        assert window_start <= now < window_end
    upcoming = next_run_at(policy, State(), now)
    assert upcoming is not None and upcoming >= now
    assert current_night(policy, upcoming) is not None


# -- retries -------------------------------------------------------------------


def test_transient_failures_back_off_exponentially_with_a_cap():
    policy = RetryPolicy(max_attempts=10, base_delay=60, max_delay=600)
    assert [policy.delay(n).total_seconds() for n in range(1, 7)] == [60, 120, 240, 480, 600, 600]


def test_transient_failures_are_retried_within_the_window_until_the_attempts_run_out():
    policy = RetryPolicy(max_attempts=3, base_delay=300, max_delay=3600)
    now = utc(2026, 9, 9, 4)
    deadline = utc(2026, 9, 9, 10)
    assert after_failure(policy, terminal=False, attempts=1, now=now, deadline=deadline) == RetryAt(
        utc(2026, 9, 9, 4, 5)
    )
    assert after_failure(policy, terminal=False, attempts=2, now=now, deadline=deadline) == RetryAt(
        utc(2026, 9, 9, 4, 10)
    )
    gave_up = after_failure(policy, terminal=False, attempts=3, now=now, deadline=deadline)
    assert gave_up == GiveUp("gave up after 3 attempts; the next night tries again", error=False)


def test_no_retry_spills_out_of_the_window_but_manual_runs_have_no_window():
    policy = RetryPolicy(base_delay=600)
    late = utc(2026, 9, 9, 9, 55)
    result = after_failure(policy, terminal=False, attempts=1, now=late, deadline=utc(2026, 9, 9, 10))
    assert result == GiveUp("the sync window closes before the next retry", error=False)
    manual = after_failure(policy, terminal=False, attempts=1, now=late, deadline=None)
    assert manual == RetryAt(utc(2026, 9, 9, 10, 5))


def test_terminal_failures_put_the_connection_in_error_after_the_policys_attempts():
    now = utc(2026, 9, 9, 4)
    once = after_failure(RetryPolicy(), terminal=True, attempts=1, now=now, deadline=None)
    assert once == GiveUp("failed permanently after 1 attempt(s)", error=True)
    twice = RetryPolicy(terminal_attempts=2, base_delay=60)
    assert after_failure(twice, terminal=True, attempts=1, now=now, deadline=None) == RetryAt(
        utc(2026, 9, 9, 4, 1)
    )
    assert after_failure(twice, terminal=True, attempts=2, now=now, deadline=None).error is True


# -- bad input -----------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"timezone": "Mars/Olympus"}, "time zone 'Mars/Olympus' is unknown"),
        ({"window_start": time(5), "window_end": time(5)}, "sync window 05:00-05:00 is empty"),
        ({"full_weekday": 7}, "full-sync weekday 7"),
        ({"summer_pause": (date(2026, 8, 1), date(2026, 6, 1))}, "summer pause ends (2026-06-01) before"),
    ],
)
def test_bad_policies_are_refused_with_what_is_wrong(kwargs, words):
    with pytest.raises(ConfigError) as caught:
        Policy(**kwargs)
    assert words in str(caught.value)


def test_parsing_times_and_weekdays():
    assert parse_hhmm("22:30") == time(22, 30)
    assert parse_weekday("Saturday") == 5 and parse_weekday(0) == 0 and parse_weekday("6") == 6
    with pytest.raises(ConfigError, match="window start '25:00' is not a time of day"):
        parse_hhmm("25:00", what="window start")
    with pytest.raises(ConfigError, match="'someday' is not a weekday"):
        parse_weekday("someday")


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(CHICAGO, State(), datetime(2026, 9, 9, 4))


def test_policies_describe_themselves():
    policy = Policy(timezone="America/Denver", summer_pause=(date(2026, 6, 10), date(2026, 8, 15)))
    assert policy.describe() == "22:30-05:00 America/Denver, full on sat, summer pause 2026-06-10..2026-08-15"
