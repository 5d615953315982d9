"""The typed OneRoster records: lenient, version-neutral, raw kept."""

import json
from pathlib import Path

import pytest

from rostersync.oneroster import Kind, RecordError, Version, parse_record
from rostersync.oneroster.records import MAX_STRING

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "fixtures"


def test_v1p1_user_role_and_orgs_become_roles():
    user = parse_record(
        Kind.USER,
        {
            "sourcedId": "s100",
            "status": "active",
            "role": "student",
            "orgs": [{"sourcedId": "12", "type": "org"}, {"sourcedId": "13", "type": "org"}],
            "givenName": "Zoë",
            "familyName": "O'Brien-Ngô",
            "username": "zobrien",
            "enabledUser": "true",
            "grades": ["09"],
        },
        Version.V1P1,
    )
    assert user.role == "student"
    assert [o.sourced_id for o in user.orgs] == ["12", "13"]
    assert [r.role_type for r in user.roles] == ["primary", "secondary"]
    assert user.enabled_user is True
    assert user.grades == ("09",)
    assert user.problems == []


def test_v1p2_roles_give_role_and_orgs():
    user = parse_record(
        Kind.USER,
        {
            "sourcedId": "100",
            "status": "active",
            "dateLastModified": "2026-09-01T10:00:00.000Z",
            "enabledUser": True,
            "givenName": "Ana",
            "familyName": "García",
            "roles": [
                {"roleType": "secondary", "role": "teacher", "org": {"sourcedId": "13"}},
                {"roleType": "primary", "role": "teacher", "org": {"sourcedId": "12"}},
            ],
        },
        Version.V1P2,
    )
    assert user.role == "teacher"
    assert {o.sourced_id for o in user.orgs} == {"12", "13"}
    assert user.username is None and not any(p.field == "username" for p in user.problems)


def test_nulls_and_unknown_fields_are_tolerated_and_kept():
    raw = {
        "sourcedId": "c1",
        "status": "active",
        "title": "Algebra I",
        "classCode": None,
        "classType": "scheduled",
        "course": {"sourcedId": "co1", "type": "course"},
        "school": {"sourcedId": "sch1", "type": "org"},
        "terms": [{"sourcedId": "t1", "type": "academicSession"}],
        "periods": "1,2",
        "vendorThing": {"x": [1, 2]},
        "metadata": {"ic": {"sectionNumber": "3"}},
    }
    klass = parse_record(Kind.CLASS, raw)
    assert klass.class_code is None
    assert klass.periods == ("1", "2")
    assert klass.raw["vendorThing"] == {"x": [1, 2]}
    assert klass.metadata == {"ic": {"sectionNumber": "3"}}
    assert klass.problems == []


def test_inactive_means_tobedeleted_and_bad_enums_are_problems_not_errors():
    org = parse_record(Kind.ORG, {"sourcedId": "o1", "status": "inactive", "name": "X", "type": "campus"})
    assert org.deleted
    assert [p.field for p in org.problems] == ["type"]
    assert "campus" in str(org.problems[0])


def test_wrong_types_are_reported_with_the_field():
    enrollment = parse_record(
        Kind.ENROLLMENT,
        {"sourcedId": 42, "user": "u1", "class": {"nope": 1}, "role": "student", "primary": "maybe"},
    )
    assert enrollment.sourced_id == "42"
    assert enrollment.user.sourced_id == "u1"
    fields = {p.field for p in enrollment.problems}
    assert {"class", "primary"} <= fields


@pytest.mark.parametrize("obj", [{}, {"sourcedId": ""}, {"sourcedId": None}, [], "x"])
def test_no_sourced_id_is_a_record_error(obj):
    with pytest.raises(RecordError) as info:
        parse_record(Kind.USER, obj)
    assert "user" in str(info.value)


def test_giant_strings_are_severe():
    user = parse_record(Kind.USER, {"sourcedId": "u1", "role": "student", "givenName": "x" * (MAX_STRING + 1),
                                    "familyName": "y", "username": "u"})
    assert user.severe_problems and user.severe_problems[0].field == "givenName"
    assert len(user.given_name) == MAX_STRING


def test_demographics_race_flags_from_strings_and_booleans():
    demo = parse_record(Kind.DEMOGRAPHICS, {"sourcedId": "s1", "sex": "female", "asian": "true", "white": False})
    assert demo.races["asian"] is True and demo.races["white"] is False
    assert demo.races["hispanicOrLatinoEthnicity"] is None


def test_third_party_json_fixtures_parse():
    folder = FIXTURES / "libre-oneroster-json"
    kinds = {
        "orgs.json": Kind.ORG, "academicSessions.json": Kind.ACADEMIC_SESSION, "courses.json": Kind.COURSE,
        "classes.json": Kind.CLASS, "users.json": Kind.USER, "enrollments.json": Kind.ENROLLMENT,
    }
    total = 0
    for name, kind in kinds.items():
        body = json.loads((folder / name).read_text())
        items = next(v for v in body.values() if isinstance(v, list)) if isinstance(body, dict) else body
        for item in items:
            record = parse_record(kind, item, Version.V1P1)
            assert not record.severe_problems
            total += 1
    assert total > 0
