"""The sandbox's simulated Infinite Campus district at day 0: shape, ids, names, schemas."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from pathlib import Path

import jsonschema
import orjson
import pytest

from rostersync.oneroster.kinds import Kind, Version
from rostersync.sandbox.district import District, generate, records_for_total
from rostersync.sandbox.district_check import ELEMENTARY_GRADES, current, problems
from rostersync.sandbox.district_model import SandboxError

V11, V12 = Version.V1P1, Version.V1P2
OPENAPI = Path("/work/shared/data/oneroster-v1p2-rostering-openapi.json")
SCHEMA_OF = {
    Kind.ORG: "OrgDType", Kind.ACADEMIC_SESSION: "AcademicSessionDType", Kind.COURSE: "CourseDType",
    Kind.CLASS: "ClassDType", Kind.USER: "UserDType", Kind.ENROLLMENT: "EnrollmentDType",
    Kind.DEMOGRAPHICS: "DemographicsDType",
}
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
GRADES = {"PK", "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"}


@pytest.fixture(scope="module")
def district() -> District:
    return generate(seed=11, students=3000)


def dump(d: District, version: Version) -> bytes:
    return orjson.dumps({k.value: list(d.records(k, version)) for k in Kind})


def test_same_seed_gives_byte_identical_records_and_another_seed_differs():
    a, b = generate(seed=5, students=400), generate(seed=5, students=400)
    for version in Version:
        assert dump(a, version) == dump(b, version)
    assert dump(generate(seed=6, students=400), V11) != dump(a, V11)


def test_thirty_students_make_one_school_under_the_district():
    d = generate(seed=1, students=30)
    orgs = list(d.records(Kind.ORG, V11))
    assert sorted(o["type"] for o in orgs) == ["district", "school"]
    assert d.count(Kind.DEMOGRAPHICS) == 30
    assert len(d.schools) == 1
    students = [u for u in d.records(Kind.USER, V11) if u["role"] == "student"]
    assert len(students) == 30
    assert {u["orgs"][0]["sourcedId"] for u in students} == set(d.schools)


def test_a_larger_district_has_elementary_middle_and_high_schools(district):
    schools = [o for o in district.records(Kind.ORG, V11) if o["type"] == "school"]
    names = " | ".join(o["name"] for o in schools)
    for level in ("Elementary School", "Middle School", "High School"):
        assert level in names
    district_org = next(o for o in district.records(Kind.ORG, V11) if o["type"] == "district")
    assert {c["sourcedId"] for c in district_org["children"]} == {o["sourcedId"] for o in schools}
    assert all(o["parent"]["sourcedId"] == district_org["sourcedId"] for o in schools)
    spans = {tuple(o["metadata"]["ic"]["gradeSpan"]) for o in schools}
    assert ("PK", "KG", "01", "02", "03", "04", "05") in spans and ("09", "10", "11", "12") in spans


def test_grades_are_zero_padded_as_infinite_campus_serves_them(district):
    grades = Counter(u["grades"][0] for u in district.records(Kind.USER, V11) if u["role"] == "student")
    assert set(grades) == GRADES
    for course in district.records(Kind.COURSE, V12):
        assert set(course["grades"]) <= GRADES


def test_session_calendar_has_a_school_year_terms_and_grading_periods(district):
    sessions = {s["sourcedId"]: s for s in district.records(Kind.ACADEMIC_SESSION, V11)}
    types = Counter(s["type"] for s in sessions.values())
    assert types["schoolYear"] == 1 and types["term"] == 2 * len(district.schools)
    assert types["gradingPeriod"] == 2 * types["term"]
    for s in sessions.values():
        assert s["startDate"] < s["endDate"] and s["schoolYear"] == "2027"
        if s["type"] == "gradingPeriod":
            parent = sessions[s["parent"]["sourcedId"]]
            assert parent["type"] == "term" and parent["startDate"] <= s["startDate"]
            assert s["endDate"] <= parent["endDate"]


def test_schedules_homerooms_periods_and_primary_teachers(district):
    assert problems(district, V11) == []
    classes = {c["sourcedId"]: c for c in district.records(Kind.CLASS, V11)}
    scheduled = [c for c in classes.values() if c["classType"] == "scheduled"]
    assert scheduled and all(re.fullmatch(r"[1-8]", c["periods"][0]) for c in scheduled)
    assert all(c["grades"][0] in ELEMENTARY_GRADES for c in classes.values() if c["classType"] == "homeroom")
    per_student = Counter(e["user"]["sourcedId"] for e in district.records(Kind.ENROLLMENT, V11)
                          if e["role"] == "student" and current(e))
    secondary = [u["sourcedId"] for u in district.records(Kind.USER, V11)
                 if u["role"] == "student" and u["grades"][0] not in ELEMENTARY_GRADES]
    assert {per_student[s] for s in secondary} == {5, 6, 7, 8}
    teachers = [e for e in district.records(Kind.ENROLLMENT, V11) if e["role"] == "teacher"]
    assert Counter(e["primary"] for e in teachers)["false"] > 0  # co-teachers
    assert Counter(e["primary"] for e in teachers)["true"] == len(classes)


def test_every_reference_resolves_in_both_versions(district):
    assert problems(district, V12) == []
    broken = generate(seed=11, students=3000)
    first = broken._roster.student_enrollments.user[0]
    broken._roster.people.user_state[first] = 2  # the user vanishes, its enrollments do not
    assert any("is not served" in p for p in problems(broken, V11))


def test_user_ids_follow_infinite_campus_per_version(district):
    v11 = {u["sourcedId"]: u for u in district.records(Kind.USER, V11)}
    v12 = list(district.records(Kind.USER, V12))
    assert len(v11) == len(v12)
    for user in v12:
        legacy = user["metadata"]["ic"]["legacysourceId"]
        assert user["sourcedId"].isdigit() and legacy[1:] == user["sourcedId"]
        role = user["roles"][0]["role"]
        assert legacy[0] == role[0] and v11[legacy]["role"] == role
        assert user["primaryOrg"] == user["roles"][0]["org"]
    enrollment = district.records(Kind.ENROLLMENT, V12)[0]
    assert enrollment["sourcedId"][0] in "st" and enrollment["user"]["sourcedId"].isdigit()
    assert district.get(Kind.USER, next(iter(v11)), V11)["sourcedId"] == next(iter(v11))
    assert district.get(Kind.USER, next(iter(v11)), V12) is None  # a 1.1 id is not a 1.2 id
    assert district.get(Kind.USER, v12[0]["sourcedId"], V12) == v12[0]


def test_users_carry_the_fields_each_version_defines(district):
    for user in district.records(Kind.USER, V11):
        assert user["enabledUser"] == "true" and user["username"] and user["email"]
        assert user["role"] in ("student", "teacher") and user["orgs"]
        assert "roles" not in user and "preferredFirstName" not in user
    v12 = list(district.records(Kind.USER, V12))
    assert all("role" not in u and "orgs" not in u and u["userMasterIdentifier"] for u in v12)
    assert any("preferredFirstName" in u for u in v12)
    assert any("middleName" in u for u in v12)
    assert any(len(u["roles"]) == 2 for u in v12)  # teachers shared by two schools


def test_names_look_like_a_real_district(district):
    users = list(district.records(Kind.USER, V11))
    text = " ".join(u["givenName"] + " " + u["familyName"] for u in users)
    assert "'" in text and "-" in text  # O'Brien, Garcia-Lopez
    assert re.search(r"[À-ɏ]", text)  # José, Zoë, Ngô
    for script in (r"[\u4e00-\u9fff]", r"[\u0400-\u04ff]", r"[\u0600-\u06ff]", r"[\uac00-\ud7af]"):
        assert re.search(script, text), script
    full_names = Counter((u["givenName"], u["familyName"]) for u in users)
    assert full_names.most_common(1)[0][1] >= 3  # several people share a common name
    logins = [u["username"] for u in users]
    emails = [u["email"] for u in users]
    assert len(set(logins)) == len(logins) and len(set(emails)) == len(emails)
    assert all(re.fullmatch(r"[a-z0-9.]+@[a-z0-9.]+", e) for e in emails)


def test_demographics_for_every_student_in_each_versions_vocabulary(district):
    students = {u["sourcedId"] for u in district.records(Kind.USER, V11) if u["role"] == "student"}
    demo = list(district.records(Kind.DEMOGRAPHICS, V11))
    assert {d["sourcedId"] for d in demo} == students
    flags = ("americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
             "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
             "hispanicOrLatinoEthnicity")
    for d in demo:
        assert all(d[f] in ("true", "false") for f in flags)
        assert d.get("sex", "male") in ("male", "female")
        dt.date.fromisoformat(d["birthDate"])
    sexes = Counter(d.get("sex") for d in district.records(Kind.DEMOGRAPHICS, V12))
    assert set(sexes) == {"male", "female", "unspecified", "other"}


def test_timestamps_are_iso_ms_z_and_day_0_precedes_the_first_school_day(district):
    for kind in Kind:
        for record in district.records(kind, V12):
            assert TIMESTAMP.fullmatch(record["dateLastModified"])
            assert record["dateLastModified"] < "2026-08-17"
            assert None not in record.values()
    assert district.now == "2026-08-16T23:00:00.000Z"


def _validator(name: str) -> jsonschema.Draft7Validator:
    """A validator for one component of the official 1.2 OpenAPI document (OpenAPI 3.0 has no
    `nullable` in it; formats are checked strictly, hrefs as URI references)."""
    doc = json.loads(OPENAPI.read_text())
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date", raises=ValueError)(
        lambda v: bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)) and bool(dt.date.fromisoformat(v)))
    checker.checks("date-time")(lambda v: bool(TIMESTAMP.fullmatch(v)))
    checker.checks("uri")(lambda v: v.startswith("/") or bool(re.match(r"[a-z][a-z0-9+.-]*:", v)))
    schema = {"$ref": f"#/components/schemas/{name}", "components": doc["components"]}
    return jsonschema.Draft7Validator(schema, format_checker=checker)


@pytest.mark.parametrize("kind", list(Kind), ids=lambda k: k.value)
def test_v12_records_validate_against_the_official_openapi_schemas(kind):
    d = generate(seed=4, students=1500, day=6)  # with tobedeleted records and end dates
    validator = _validator(SCHEMA_OF[kind])
    records = d.records(kind, V12)
    step = max(1, len(records) // 200)
    sample = list(records[::step])
    sample += [r for r in records if r["status"] == "tobedeleted" or "endDate" in r][:50]
    for record in sample:
        errors = [e.message for e in validator.iter_errors(record)]
        assert errors == [], (record["sourcedId"], errors)
    bad = dict(sample[0], status="inactive")
    assert list(validator.iter_errors(bad))  # the validator does reject


def test_v11_records_have_the_shapes_of_the_standard(district):
    required = {
        Kind.ORG: {"name", "type"}, Kind.ACADEMIC_SESSION: {"title", "startDate", "endDate", "type"},
        Kind.COURSE: {"title", "courseCode", "org"}, Kind.CLASS: {"title", "classType", "course", "school", "terms"},
        Kind.USER: {"username", "enabledUser", "givenName", "familyName", "role", "orgs"},
        Kind.ENROLLMENT: {"user", "class", "school", "role"}, Kind.DEMOGRAPHICS: set(),
    }
    for kind, fields in required.items():
        for record in district.records(kind, V11)[:300]:
            assert {"sourcedId", "status", "dateLastModified"} | fields <= set(record)
            assert "roles" not in record and "userMasterIdentifier" not in record


def test_views_are_lazy_sequences_with_slices_and_lookups(district):
    view = district.records(Kind.ENROLLMENT, V11)
    assert len(view) == district.count(Kind.ENROLLMENT)
    page = view[100:110]
    assert [r["sourcedId"] for r in page] == [view[i]["sourcedId"] for i in range(100, 110)]
    assert view[-1] == view[len(view) - 1]
    assert district.get(Kind.ENROLLMENT, page[0]["sourcedId"], V11) == page[0]
    page[0]["user"]["sourcedId"] = "mutated"
    assert view[100]["user"]["sourcedId"] != "mutated"  # each access renders afresh
    assert district.get(Kind.CLASS, "no-such-id", V11) is None
    assert district.get(Kind.ENROLLMENT, "s0", V11) is None
    with pytest.raises(IndexError):
        view[len(view)]


def test_summary_counts_and_schools(district):
    summary = district.summary()
    assert summary["counts"] == {k.value: district.count(k) for k in Kind}
    assert summary["schools"] == district.schools and summary["day"] == 0


def test_records_for_total_sizes_a_district():
    n = 40_000
    d = generate(seed=2, students=records_for_total(n))
    total = sum(d.summary()["counts"].values())
    assert 0.85 * n <= total <= 1.15 * n


def test_bad_arguments_are_refused_with_what_and_where():
    with pytest.raises(SandboxError, match="students"):
        generate(students=0)
    with pytest.raises(SandboxError, match="day"):
        generate(students=30, day=-1)
    with pytest.raises(SandboxError, match=r"day must be a whole number from 0 to 1\d\d"):
        generate(students=30, day=10_000)
    with pytest.raises(SandboxError, match="school days"):
        generate(students=30, day=150).advance(100)
    d = generate(students=30)
    with pytest.raises(SandboxError, match="kind 'people'"):
        d.records("people", V11)
    with pytest.raises(SandboxError, match="version '2.0'"):
        d.records(Kind.USER, "2.0")
    with pytest.raises(SandboxError, match="not ISO 8601"):
        d.changed_since(Kind.USER, "yesterday", V11)
    with pytest.raises(SandboxError, match="day 1"):
        d.changes(1)


@pytest.mark.parametrize("version", [Version.V1P1, Version.V1P2])
def test_students_and_teachers_are_selected_without_rendering_exactly_as_the_filter_selects(version):
    from rostersync.oneroster.resources import RESOURCES
    from rostersync.provider.indexes import selection_predicate
    from rostersync.sandbox.overlay import OverlaySource

    district = generate(seed=8, students=120)
    district.advance(5)  # withdrawals and new staff change who is listed
    source = OverlaySource(district)
    teacher = next(r for r in source.records(Kind.USER, version) if "teacher" in str(r))
    source.insert_copy(Kind.USER, version, teacher, stamp="2030-01-01T00:00:00.000Z")
    for name in ("students", "teachers"):
        resource = RESOURCES[name]
        predicate = selection_predicate(resource, version)
        records = source.records(resource.kind, version)
        expected = [i for i, record in enumerate(records) if predicate(record)]
        assert list(source.selection(resource, version)) == expected
        assert expected
    assert source.selection(RESOURCES["classes"], version) is None


def test_birthplaces_keep_us_states_and_countries_apart():
    district = generate(seed=3, students=3000)
    places = {(r.get("countryOfBirthCode"), r.get("stateOfBirthAbbreviation"), r.get("cityOfBirth"))
              for r in district.records(Kind.DEMOGRAPHICS, Version.V1P1)}
    assert ("US", "CA", "Los Angeles") in places or ("US", "CA", "San José") in places
    assert all(state is None for country, state, _ in places if country != "US")
    assert not {city for country, _, city in places if country == "US"} & {"Montréal", "Toronto"}
