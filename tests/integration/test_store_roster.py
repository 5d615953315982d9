"""Reading the roster the way the dashboard and apps do: schools, classes, rosters, search, the feed."""

from __future__ import annotations

from collections import Counter

import pytest

from rostersync.oneroster.kinds import Kind, Version
from rostersync.sandbox.district import generate
from rostersync.store import (
    changes,
    class_roster,
    count_records,
    get_record,
    iter_records,
    person_classes,
    records,
    search,
)
from rostersync.store.roster import count_records_by_connection, school_classes, schools
from rostersync.sync.testing import FakeReader


@pytest.fixture
def district():
    return generate(seed=8, students=20)


@pytest.fixture
def cid(harness, district) -> int:
    harness.add()
    harness.sync_engine(FakeReader.from_district(district)).run("district")
    return harness.connection().id


def test_schools_and_their_classes(harness, district, cid):
    with harness.engine.connect() as db:
        schools = records(db=db, connection_id=cid, kind=Kind.ORG, where={"type": "school"})
        assert [s.sourced_id for s in schools] == district.schools
        school = schools[0]
        classes = records(db=db, connection_id=cid, kind=Kind.CLASS, where={"school_sourced_id": school.sourced_id})
    expected = sorted(r["sourcedId"] for r in district.records(Kind.CLASS, Version.V1P1)
                      if r["school"]["sourcedId"] == school.sourced_id)
    assert [c.sourced_id for c in classes] == expected
    assert classes[0].fields["title"] and classes[0].fields["term_sourced_ids"]
    with pytest.raises(ValueError, match="no column"), harness.engine.connect() as db:
        records(db=db, connection_id=cid, kind=Kind.CLASS, where={"nonsense": 1})


def test_a_class_roster_and_a_persons_classes(harness, district, cid):
    enrollments = list(district.records(Kind.ENROLLMENT, Version.V1P1))
    class_id = enrollments[0]["class"]["sourcedId"]
    expected = {e["user"]["sourcedId"] for e in enrollments if e["class"]["sourcedId"] == class_id}
    with harness.engine.connect() as db:
        roster = class_roster(db=db, connection_id=cid, class_sourced_id=class_id)
        assert {entry.other.sourced_id for entry in roster} == expected
        assert roster[0].enrollment.fields["role"] == "teacher"  # teachers first
        student = next(e.other for e in roster if e.enrollment.fields["role"] == "student")
        mine = person_classes(db=db, connection_id=cid, user_sourced_id=student.sourced_id)
    assert class_id in {entry.other.sourced_id for entry in mine}
    assert all(entry.enrollment.fields["user_sourced_id"] == student.sourced_id for entry in mine)


def test_a_class_roster_is_by_name_and_a_persons_classes_by_title_with_their_school(harness, district, cid):
    enrollments = list(district.records(Kind.ENROLLMENT, Version.V1P1))
    class_id = Counter(e["class"]["sourcedId"] for e in enrollments).most_common(1)[0][0]
    school_names = {o["sourcedId"]: o["name"] for o in district.records(Kind.ORG, Version.V1P1)}
    with harness.engine.connect() as db:
        roster = class_roster(db=db, connection_id=cid, class_sourced_id=class_id)
        student = next(e.other for e in roster if e.enrollment.fields["role"] == "student")
        mine = person_classes(db=db, connection_id=cid, user_sourced_id=student.sourced_id)
    students = [(e.other.fields["family_name"], e.other.fields["given_name"])
                for e in roster if e.enrollment.fields["role"] == "student"]
    assert len(students) > 1 and students == sorted(students)
    assert [e.other.fields["title"] for e in mine] == sorted(e.other.fields["title"] for e in mine)
    assert all(e.school_name == school_names[e.other.fields["school_sourced_id"]] for e in mine)


def test_schools_and_their_classes_with_counts(harness, district, cid):
    classes = list(district.records(Kind.CLASS, Version.V1P1))
    per_school = Counter(c["school"]["sourcedId"] for c in classes)
    per_class = Counter(e["class"]["sourcedId"] for e in district.records(Kind.ENROLLMENT, Version.V1P1))
    course_titles = {c["sourcedId"]: c["title"] for c in district.records(Kind.COURSE, Version.V1P1)}
    with harness.engine.connect() as db:
        found = schools(db=db, connection_id=cid)
        school = found[0][0]
        listed = school_classes(db=db, connection_id=cid, school_sourced_id=school.sourced_id)
        first_two = school_classes(db=db, connection_id=cid, school_sourced_id=school.sourced_id, limit=2)
    assert {s.sourced_id: n for s, n in found} == {sid: per_school[sid] for sid in district.schools}
    assert {c.record.sourced_id for c in listed} == {c["sourcedId"] for c in classes
                                                     if c["school"]["sourcedId"] == school.sourced_id}
    assert [c.record.fields["title"] for c in listed] == sorted(c.record.fields["title"] for c in listed)
    assert all(c.enrollments == per_class[c.record.sourced_id] for c in listed)
    assert all(c.course_title == course_titles[c.record.fields["course_sourced_id"]] for c in listed)
    assert first_two == listed[:2]


def test_search_by_name_email_and_sourced_id(harness, district, cid):
    user = next(u for u in district.records(Kind.USER, Version.V1P1) if u["role"] == "student")
    with harness.engine.connect() as db:
        by_name = search(db=db, connection_id=cid, text=user["familyName"].upper())
        by_email = search(db=db, connection_id=cid, text=user["email"])
        by_id = search(db=db, connection_id=cid, text=user["sourcedId"])
        nothing = search(db=db, connection_id=cid, text="%_")  # LIKE wildcards are literal
    assert user["sourcedId"] in {r.sourced_id for r in by_name}
    with harness.engine.connect() as db:
        full_name = search(db=db, connection_id=cid, text=f"{user['givenName'].upper()} {user['familyName']}",
                           kinds=(Kind.USER,))
    assert user["sourcedId"] in {r.sourced_id for r in full_name}
    assert [r.sourced_id for r in by_email][:1] == [user["sourcedId"]]
    assert by_id[0].sourced_id == user["sourcedId"] and by_id[0].kind in (Kind.USER, Kind.DEMOGRAPHICS)
    assert nothing == []


def test_counts_paging_and_single_records(harness, district, cid):
    with harness.engine.connect() as db:
        counts = count_records(db=db, connection_id=cid)
        streamed = list(iter_records(db=db, connection_id=cid, kind=Kind.ENROLLMENT, page_size=7))
        one = get_record(db=db, connection_id=cid, kind=Kind.ENROLLMENT, sourced_id=streamed[3].sourced_id)
        missing = get_record(db=db, connection_id=cid, kind=Kind.ENROLLMENT, sourced_id="nope")
    assert counts == {kind: len(district.records(kind, Version.V1P1)) for kind in Kind}
    harness.add("empty")
    with harness.engine.connect() as db:
        assert count_records(db=db, connection_id=harness.connection("empty").id) == dict.fromkeys(Kind, 0)
        assert count_records_by_connection(db=db, kinds=(Kind.ORG, Kind.USER)) == {
            cid: {Kind.ORG: counts[Kind.ORG], Kind.USER: counts[Kind.USER]}}
    assert [r.sourced_id for r in streamed] == sorted(
        r["sourcedId"] for r in district.records(Kind.ENROLLMENT, Version.V1P1))
    assert one == streamed[3] and missing is None


def test_the_change_feed_pages_by_id_and_filters_by_kind_and_time(harness, district, cid):
    with harness.engine.connect() as db:
        first = changes(db=db, connection_id=cid, limit=10)
        rest = changes(db=db, connection_id=cid, after_id=first[-1].id)
        orgs = changes(db=db, connection_id=cid, kinds=[Kind.ORG])
        future = changes(db=db, connection_id=cid, since=first[0].at.replace(year=2100))
    assert len(first) == 10 and len(first) + len(rest) == sum(count_all(district).values())
    assert {c.sourced_id for c in orgs} == {r["sourcedId"] for r in district.records(Kind.ORG, Version.V1P1)}
    assert all(c.action == "created" for c in first) and future == []


def count_all(district) -> dict[Kind, int]:
    return {kind: len(district.records(kind, Version.V1P1)) for kind in Kind}
