"""The job machinery's pure parts: orders as job arguments, failure classes, retries, policies."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.exc import OperationalError

from rostersync.errors import ConfigError, Terminal, Transient
from rostersync.jobs.app import RetryLater, _cron, _job_options, _RetryWhenAsked
from rostersync.jobs.control import parse_summer_pause, parse_window, summer_nights, window_times
from rostersync.jobs.model import Order
from rostersync.jobs.planner import policy_for
from rostersync.jobs.runner import report_failure
from rostersync.jobs.services import report_from_result
from rostersync.schedule import Policy, ScheduleError, ScheduleErrors, check_each, parse_weekday
from rostersync.store.schedule_tables import ScheduleRow, credentials_marker
from rostersync.sync.result import Issue, RunResult

UTC = dt.timezone.utc


def test_orders_travel_as_json_job_arguments_and_come_back_equal():
    order = Order(connection_id=7, mode="full", reason="weekly full sync", night=dt.date(2026, 9, 12),
                  deadline=dt.datetime(2026, 9, 13, 10, tzinfo=UTC))
    args = order.to_job_args()
    assert args == {"connection_id": 7, "mode": "full", "reason": "weekly full sync", "night": "2026-09-12",
                    "deadline": "2026-09-13T10:00:00+00:00"}
    assert Order.from_job_args(args) == order
    manual = Order(connection_id=7, mode="delta")
    assert Order.from_job_args(manual.to_job_args()) == manual and not manual.scheduled
    with pytest.raises(ValueError, match="job mode must be full or delta, got 'sideways'"):
        Order.from_job_args({**args, "mode": "sideways"})


def test_every_job_of_a_connection_shares_one_lock_but_scheduled_and_manual_queue_apart():
    scheduled = _job_options(Order(connection_id=3, mode="delta", night=dt.date(2026, 9, 8)))
    manual = _job_options(Order(connection_id=3, mode="delta"))
    assert scheduled["lock"] == manual["lock"] == "rostersync:sync:3"
    assert scheduled["queueing_lock"] != manual["queueing_lock"]
    assert manual["priority"] > scheduled["priority"]


def test_scheduler_ticks_become_procrastinate_crons():
    assert _cron(60) == "* * * * *"
    assert _cron(10) == "* * * * * */10"
    with pytest.raises(ValueError, match="tick of 7s"):
        _cron(7)


def test_only_the_runners_own_retry_requests_are_retried_by_the_queue():
    strategy = _RetryWhenAsked()
    at = dt.datetime(2026, 9, 9, 4, 10, tzinfo=UTC)
    decision = strategy.get_retry_decision(exception=RetryLater(at), job=None)
    assert decision is not None and decision.retry_at == at
    assert strategy.get_retry_decision(exception=RuntimeError("bug"), job=None) is None


def test_failures_are_told_apart_terminal_from_retryable():
    refused = report_failure(Terminal("refused", fix="new secret"))
    assert (refused.terminal, refused.message, refused.fix) == (True, "refused", "new secret")
    assert report_failure(Transient("503")).terminal is False
    database = report_failure(OperationalError("SELECT 1", {}, Exception("server closed the connection")))
    assert database.terminal is False and "OperationalError" in database.message
    assert report_failure(KeyError("x")).message == "unexpected KeyError while syncing"


def _result(state: str, **extra) -> RunResult:
    now = dt.datetime(2026, 9, 9, 4, tzinfo=UTC)
    fields = dict(run_id=12, connection="springfield", mode="delta", dry_run=False, state=state, started_at=now,
                  finished_at=now, records_read=10, counts={}, unresolved={}, warnings=[], errors=[],
                  hold_reasons=[])
    fields.update(extra)
    return RunResult(**fields)


def test_sync_engine_results_become_scheduler_reports():
    assert report_from_result(_result("applied")).state == "applied"
    held = report_from_result(_result("held", hold_reasons=["40 of 100 users (40.0%) would be deleted"]))
    assert held.state == "held" and "40 of 100 users" in held.message
    failed = report_from_result(_result("failed", errors=[Issue("terminal", "forbidden", fix="share data")]))
    assert (failed.state, failed.terminal, failed.fix) == ("failed", True, "share data")
    patchy = report_from_result(_result(
        "applied", collections={"orgs": {"state": "complete"}, "students": {"state": "failed"}},
        warnings=[Issue("collection_failed", "students could not be read", fix="Run the sync again later.")]))
    assert patchy.state == "incomplete" and not patchy.terminal
    assert patchy.message == "1 of 2 collections could not be read (students); the rest was applied"
    assert patchy.fix == "Run the sync again later."


def _row(**overrides) -> ScheduleRow:
    fields = dict(connection_id=1, name="springfield", timezone="America/Denver", paused=False, held=False,
                  last_full_at=None, window_start=None, window_end=None, full_weekday=None,
                  summer_pause_start=None, summer_pause_end=None, claimed_night=None, done_night=None,
                  attempts=0, retry_at=None, last_outcome=None, last_message=None, last_fix=None,
                  last_run_id=None, last_outcome_at=None, error_since=None, error_marker=None,
                  credentials_marker="abc")
    fields.update(overrides)
    return ScheduleRow(**fields)


def test_a_connections_policy_is_its_time_zone_plus_its_overrides():
    assert policy_for(_row()) == Policy(timezone="America/Denver")
    custom = policy_for(_row(window_start="01:00", window_end="04:30", full_weekday=2,
                             summer_pause_start=dt.date(2026, 6, 1), summer_pause_end=dt.date(2026, 8, 1)))
    assert custom.describe() == "01:00-04:30 America/Denver, full on wed, summer pause 2026-06-01..2026-08-01"
    with pytest.raises(ConfigError, match="window start '1am' is not a time of day"):
        policy_for(_row(window_start="1am", window_end="04:00"))


def test_error_lasts_until_the_credentials_change():
    failed_with = credentials_marker("token-1", {"client_id": "a"})
    row = _row(error_since=dt.datetime(2026, 9, 9, tzinfo=UTC), error_marker=failed_with,
               credentials_marker=failed_with)
    assert row.error
    new = credentials_marker("token-2", {"client_id": "a"})
    assert not _row(error_since=row.error_since, error_marker=failed_with, credentials_marker=new).error
    assert credentials_marker("token-1", {"client_id": "b"}) != failed_with


def test_windows_and_summer_pauses_are_read_from_what_people_type():
    assert parse_window("22:30-5:00") == ("22:30", "05:00")
    assert parse_summer_pause("2026-06-10..2026-08-15") == (dt.date(2026, 6, 10), dt.date(2026, 8, 15))
    with pytest.raises(ConfigError, match="sync window '22:30' is not START-END"):
        parse_window("22:30")
    with pytest.raises(ConfigError, match="summer pause 'June' is not FIRST..LAST"):
        parse_summer_pause("June")


def test_every_bad_setting_is_named_with_its_field_for_the_dashboards_form():
    with pytest.raises(ScheduleError) as one:
        parse_window("22:30-25:00")
    assert one.value.field == "window_end" and "window end '25:00' is not a time of day" in one.value.message
    with pytest.raises(ScheduleErrors) as several:
        check_each(lambda: window_times("late", ""), lambda: summer_nights("2026-06-10", "June 30"),
                   lambda: parse_weekday("someday"))
    errors = several.value.errors
    assert [e.field for e in errors] == ["window_start", "window_end", "summer_last", "full_day"]
    assert [e.message for e in errors][:2] == ["window start 'late' is not a time of day", "window end is missing"]
    # the CLI prints them all, each fix once
    assert several.value.message.count(";") == 3 and several.value.fix.count("Write it as HH:MM") == 1
    assert summer_nights("2026-06-10", dt.date(2026, 8, 15)) == (dt.date(2026, 6, 10), dt.date(2026, 8, 15))
    with pytest.raises(ScheduleError) as whole:
        Policy(summer_pause=(dt.date(2026, 8, 15), dt.date(2026, 6, 10)))
    assert whole.value.field == "summer_pause"
