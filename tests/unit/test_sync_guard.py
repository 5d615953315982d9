"""The guard's decision: hold a run that deletes or updates too much, never a tiny one."""

from __future__ import annotations

from rostersync.oneroster.kinds import Kind
from rostersync.sync import KindCounts, Thresholds, hold_reasons

DEFAULT = Thresholds()


def test_deleting_more_than_ten_percent_of_a_kind_holds_the_run():
    reasons = hold_reasons({Kind.ENROLLMENT: KindCounts(deleted=101)}, {Kind.ENROLLMENT: 1000}, DEFAULT)
    assert reasons == ["101 of 1000 enrollments (10.1%) would be deleted; the limit is 10%"]


def test_exactly_ten_percent_is_allowed():
    assert hold_reasons({Kind.ENROLLMENT: KindCounts(deleted=100)}, {Kind.ENROLLMENT: 1000}, DEFAULT) == []


def test_updating_more_than_three_quarters_holds_the_run():
    reasons = hold_reasons({Kind.USER: KindCounts(updated=80)}, {Kind.USER: 100}, DEFAULT)
    assert reasons == ["80 of 100 users (80.0%) would be updated; the limit is 75%"]


def test_a_tiny_district_is_not_held_for_fewer_records_than_the_minimum():
    assert hold_reasons({Kind.USER: KindCounts(deleted=9)}, {Kind.USER: 12}, DEFAULT) == []
    assert hold_reasons({Kind.USER: KindCounts(deleted=10)}, {Kind.USER: 12}, DEFAULT) != []


def test_a_first_sync_is_never_held():
    assert hold_reasons({Kind.USER: KindCounts(created=5000)}, {Kind.USER: 0}, DEFAULT) == []


def test_every_kind_over_its_threshold_is_named():
    reasons = hold_reasons(
        {Kind.CLASS: KindCounts(deleted=50), Kind.USER: KindCounts(updated=900, deleted=200)},
        {Kind.CLASS: 100, Kind.USER: 1000}, DEFAULT)
    assert len(reasons) == 3
    assert sum("users" in r for r in reasons) == 2 and sum("classes" in r for r in reasons) == 1


def test_thresholds_are_configurable():
    lenient = Thresholds(delete_percent=50, update_percent=100, min_records=1)
    assert hold_reasons({Kind.ORG: KindCounts(deleted=4, updated=10)}, {Kind.ORG: 10}, lenient) == []
    strict = Thresholds(delete_percent=0, update_percent=0, min_records=1)
    assert len(hold_reasons({Kind.ORG: KindCounts(deleted=1, updated=1)}, {Kind.ORG: 10}, strict)) == 2
