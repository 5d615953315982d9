"""From a record to a staged row: typed columns, no passwords, a hash that sees every change."""

from __future__ import annotations

import datetime

import orjson
import pytest

from rostersync.oneroster.kinds import Kind, Version
from rostersync.oneroster.records import parse_record
from rostersync.sync.rows import MAX_RAW_BYTES, RowRefused, content_hash, staged_row

USER_1P1 = {
    "sourcedId": "s1", "status": "active", "dateLastModified": "2026-09-01T08:00:00.123Z",
    "username": "ada", "enabledUser": "true", "givenName": "Ada", "familyName": "Lovelace",
    "role": "student", "email": "ada@example.org", "password": "hunter2-secret",
    "orgs": [{"sourcedId": "school1", "type": "org"}, {"sourcedId": "school2", "type": "org"}],
    "grades": ["05"],
}


def row_of(kind: Kind, raw: dict, version: Version = Version.V1P1) -> dict:
    return staged_row(parse_record(kind, raw, version), "students")


def test_a_users_password_never_reaches_the_row():
    row = row_of(Kind.USER, USER_1P1)
    assert "hunter2-secret" not in repr(row)
    assert "password" not in orjson.loads(row["raw"])


def test_passwords_inside_1p2_user_profiles_are_removed_too():
    raw = {**{k: v for k, v in USER_1P1.items() if k not in ("role", "orgs")},
           "roles": [{"roleType": "primary", "role": "student", "org": {"sourcedId": "school1"}}],
           "userProfiles": [{"profileId": "p1", "credentials": [{"type": "x", "username": "u", "password": "pw-9999"}]}]}
    row = row_of(Kind.USER, raw, Version.V1P2)
    assert "pw-9999" not in row["raw"] and "hunter2-secret" not in row["raw"]
    assert orjson.loads(row["raw"])["userProfiles"][0]["credentials"][0]["username"] == "u"


def test_typed_columns_of_a_user():
    row = row_of(Kind.USER, USER_1P1)
    assert (row["sourced_id"], row["status"], row["role"], row["given_name"], row["email"]) == (
        "s1", "active", "student", "Ada", "ada@example.org")
    assert row["org_sourced_ids"] == ["school1", "school2"] and row["primary_org_sourced_id"] == "school1"
    assert row["enabled_user"] is True and row["grades"] == ["05"]
    assert row["date_last_modified"] == datetime.datetime(2026, 9, 1, 8, 0, 0, 123000, tzinfo=datetime.timezone.utc)
    assert row["skip"] is False and row["dup_count"] == 1 and row["collection"] == "students"


def test_typed_columns_of_an_enrollment_and_a_class():
    enrollment = row_of(Kind.ENROLLMENT, {
        "sourcedId": "e1", "user": {"sourcedId": "s1"}, "class": {"sourcedId": "c1"},
        "school": {"sourcedId": "school1"}, "role": "student", "primary": "false", "beginDate": "2026-08-17"})
    assert (enrollment["user_sourced_id"], enrollment["class_sourced_id"], enrollment["school_sourced_id"],
            enrollment["primary"], enrollment["begin_date"]) == ("s1", "c1", "school1", False, "2026-08-17")
    klass = row_of(Kind.CLASS, {
        "sourcedId": "c1", "title": "Math", "course": {"sourcedId": "k1"}, "school": {"sourcedId": "school1"},
        "terms": [{"sourcedId": "t1"}, {"sourcedId": "t2"}], "classType": "scheduled"})
    assert klass["term_sourced_ids"] == ["t1", "t2"] and klass["course_sourced_id"] == "k1"


def test_the_hash_ignores_key_order_and_sees_every_change():
    shuffled = dict(reversed(list(USER_1P1.items())))
    assert row_of(Kind.USER, USER_1P1)["content_hash"] == row_of(Kind.USER, shuffled)["content_hash"]
    touched = {**USER_1P1, "dateLastModified": "2026-09-02T08:00:00.000Z"}
    nested = {**USER_1P1, "orgs": USER_1P1["orgs"][:1]}
    hashes = {row_of(Kind.USER, r)["content_hash"] for r in (USER_1P1, touched, nested)}
    assert len(hashes) == 3
    assert content_hash(orjson.loads(row_of(Kind.USER, USER_1P1)["raw"])) == row_of(Kind.USER, USER_1P1)["content_hash"]


def test_a_record_too_big_to_store_is_refused_with_its_size():
    huge = {**USER_1P1, "metadata": {"blob": "x" * (MAX_RAW_BYTES + 1)}}
    with pytest.raises(RowRefused, match="bytes of JSON"):
        row_of(Kind.USER, huge)
