"""The OneRoster provider over an in-memory record source: routes, paging, filter, sort, fields, errors."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlsplit

import orjson
import pytest

from rostersync.oneroster.filter import values_at
from rostersync.oneroster.imsx import parse_status
from rostersync.oneroster.kinds import Kind, Version
from rostersync.oneroster.resources import NESTED_ROUTES, RESOURCES, NestedRoute
from rostersync.provider import InMemorySource, OneRosterService, ProviderResponse
from rostersync.provider.asgi import read_in_threadpool
from rostersync.provider.source import PART_RECORDS

BASE = "https://sis.example.org/ims/oneroster/v1p1"
STAMP = "2026-08-{:02d}T12:00:00.000Z"
V11, V12 = Version.V1P1, Version.V1P2


def ref(sourced_id: str, type_: str) -> dict:
    return {"href": f"/{type_}s/{sourced_id}", "sourcedId": sourced_id, "type": type_}


def base(sourced_id: str, day: int = 1) -> dict:
    return {"sourcedId": sourced_id, "status": "active", "dateLastModified": STAMP.format(day % 28 + 1)}


def build_district() -> dict[tuple[Kind, Version], list[dict]]:
    """A small district in both versions: 3 schools, 24 classes, 120 students, 12 teachers, ~700 records."""
    schools = ["s1", "s2", "s3"]
    orgs = [{**base("d1"), "name": "Unified District", "type": "district",
             "children": [ref(s, "org") for s in schools]}]
    orgs += [{**base(s, i), "name": f"School {s}", "type": "school", "identifier": f"ID{i}",
              "parent": ref("d1", "org")} for i, s in enumerate(schools, 1)]
    orgs.append({**base("dept1"), "name": "Transport", "type": "department", "parent": ref("d1", "org")})

    sessions = [{**base("y2026"), "title": "2025-26", "type": "schoolYear", "startDate": "2025-08-01",
                 "endDate": "2026-07-01", "schoolYear": "2026"}]
    for t, (start, end) in {"t1": ("2025-08-01", "2026-01-01"), "t2": ("2026-01-01", "2026-07-01")}.items():
        sessions.append({**base(t), "title": f"Term {t}", "type": "term", "startDate": start, "endDate": end,
                         "schoolYear": "2026", "parent": ref("y2026", "academicSession")})
    for g, parent in {"g1": "t1", "g2": "t1", "g3": "t2", "g4": "t2"}.items():
        sessions.append({**base(g), "title": f"Quarter {g}", "type": "gradingPeriod", "startDate": "2025-08-01",
                         "endDate": "2025-10-01", "schoolYear": "2026",
                         "parent": ref(parent, "academicSession")})
    sessions.append({**base("sem1"), "title": "Semester", "type": "semester", "startDate": "2025-08-01",
                     "endDate": "2026-01-01", "schoolYear": "2026"})

    courses, classes = [], []
    for s in schools:
        for n in range(4):
            cid = f"c-{s}-{n}"
            courses.append({**base(cid, n), "title": f"Course {n} at {s}", "courseCode": f"C{n}",
                            "org": ref(s, "org"), "schoolYear": ref("y2026", "academicSession"),
                            "grades": ["09", "10"]})
            for k in range(2):
                terms = [ref("t1", "academicSession")] if k == 0 else [
                    ref("t1", "academicSession"), ref("t2", "academicSession")]
                classes.append({**base(f"k-{s}-{n}-{k}", n + k), "title": f"Class {n}.{k} at {s}",
                                "classCode": f"K{n}{k}", "classType": "scheduled", "course": ref(cid, "course"),
                                "school": ref(s, "org"), "terms": terms})

    people = []  # (id, role, school, given, family)
    for i in range(120):
        people.append((f"stu{i:03d}", "student", schools[i % 3], f"Given{i % 17}", f"Family{i:03d}"))
    for i in range(12):
        people.append((f"tch{i:02d}", "teacher", schools[i % 3], f"Teach{i}", f"Surname{i:02d}"))
    people += [("adm1", "administrator", "d1", "Ada", "Admin"), ("gua1", "guardian", "s1", "Gus", "Parent")]

    enrollments = []
    school_classes = {s: [c for c in classes if c["school"]["sourcedId"] == s] for s in schools}
    for i, (uid, role, school, *_rest) in enumerate(people):
        if role == "student":
            for j in range(4):
                cls = school_classes[school][(i + j) % 8]
                enrollments.append({**base(f"e-{uid}-{j}", i + j), "user": ref(uid, "user"),
                                    "class": ref(cls["sourcedId"], "class"), "school": ref(school, "org"),
                                    "role": "student", "primary": "false"})
    for i in range(12):
        uid, school = f"tch{i:02d}", schools[i % 3]
        for j, cls in enumerate(school_classes[school][(i // 3) * 2:(i // 3) * 2 + 2]):
            enrollments.append({**base(f"e-{uid}-{j}", i), "user": ref(uid, "user"),
                                "class": ref(cls["sourcedId"], "class"), "school": ref(school, "org"),
                                "role": "teacher", "primary": "true"})

    demographics = [{**base(uid), "birthDate": f"2010-01-{i % 28 + 1:02d}", "sex": "female" if i % 2 else "male",
                     "white": "true"} for i, (uid, role, *_r) in enumerate(people) if role == "student"]

    def user(version: Version, i: int, uid: str, role: str, school: str, given: str, family: str) -> dict:
        record = {**base(uid, i), "username": f"{uid}@example.org", "enabledUser": "true", "givenName": given,
                  "familyName": family, "identifier": f"N{i:04d}", "grades": ["09"] if role == "student" else [],
                  "metadata": {"ic": {"personID": str(1000 + i)}}}
        if version is V11:
            record.update(role=role, orgs=[ref(school, "org")])
        else:
            record.update(roles=[{"roleType": "primary", "role": role, "org": ref(school, "org")}],
                          primaryOrg=ref(school, "org"))
        return record

    data: dict[tuple[Kind, Version], list[dict]] = {}
    for version in (V11, V12):
        data[(Kind.ORG, version)] = orgs
        data[(Kind.ACADEMIC_SESSION, version)] = sessions
        data[(Kind.COURSE, version)] = courses
        data[(Kind.CLASS, version)] = classes
        data[(Kind.USER, version)] = [user(version, i, *p) for i, p in enumerate(people)]
        data[(Kind.ENROLLMENT, version)] = enrollments
        data[(Kind.DEMOGRAPHICS, version)] = demographics
    return data


DATA = build_district()


@pytest.fixture(params=[V11, V12], ids=["v1p1", "v1p2"])
def version(request: pytest.FixtureRequest) -> Version:
    return request.param


@pytest.fixture
def service(version: Version) -> OneRosterService:
    return OneRosterService(InMemorySource(DATA), version=version, max_limit=50, default_limit=20)


def get(svc: OneRosterService, path: str, **params: str) -> ProviderResponse:
    return svc.handle(path, list(params.items()), BASE)


def body(response: ProviderResponse) -> dict:
    return orjson.loads(response.read())


def get_all(svc: OneRosterService, path: str, **params: str) -> list[dict]:
    """Every record of a collection, following rel=next links."""
    response = get(svc, path, **params)
    items: list[dict] = []
    while True:
        assert response.status == 200, response.read()
        total = int(response.headers["X-Total-Count"])
        (page,) = body(response).values()
        items += page
        nxt = links(response).get("next")
        if nxt is None:
            break
        response = svc.handle(path, parse_qsl(urlsplit(nxt).query), BASE)
    assert total == len(items)
    return items


def ids(items: list[dict]) -> list[str]:
    return [r["sourcedId"] for r in items]


def expect_error(response: ProviderResponse, status: int, minor: str) -> str:
    assert response.status == status
    parsed = parse_status(response.read())
    assert parsed is not None and parsed.minor == minor
    assert parsed.code_major == "failure" and parsed.severity == "error"
    assert "Traceback" not in parsed.description
    return parsed.description


# --------------------------------------------------------------------------- brute-force expectations


def role_of(user: dict, version: Version) -> set[str]:
    return {user["role"]} if version is V11 else {r["role"] for r in user["roles"]}


def in_resource(name: str, record: dict, version: Version) -> bool:
    select = RESOURCES[name].select
    if select is None:
        return True
    field, value = select
    if field == "role":
        return value in role_of(record, version)
    return record.get(field) == value


def expected_collection(name: str, version: Version) -> list[str]:
    resource = RESOURCES[name]
    return [r["sourcedId"] for r in DATA[(resource.kind, version)] if in_resource(name, r, version)]


def expected_nested(route: NestedRoute, version: Version, parent: str, inner: str | None) -> list[str]:
    target = RESOURCES[route.target]
    records = DATA[(target.kind, version)]
    enrollments = DATA[(Kind.ENROLLMENT, version)]
    subject = inner or parent
    if route.relation.startswith("ref:") or route.relation == "parent":
        path = route.relation[4:] if route.relation != "parent" else "parent"
        chosen = [r for r in records if subject in set(values_at(r, path))]
    elif route.relation == "org":
        path = "orgs" if version is V11 else "roles.org"
        chosen = [r for r in records if subject in set(values_at(r, path))]
    elif route.relation == "enrolled_users":
        users = {e["user"]["sourcedId"] for e in enrollments
                 if e["class"]["sourcedId"] == subject and e["role"] == target.select[1]}
        chosen = [r for r in records if r["sourcedId"] in users]
    elif route.relation == "user_classes":
        mine = {e["class"]["sourcedId"] for e in enrollments if e["user"]["sourcedId"] == subject}
        chosen = [r for r in records if r["sourcedId"] in mine]
    else:  # school_terms
        classes = DATA[(Kind.CLASS, version)]
        terms = {t["sourcedId"] for c in classes if c["school"]["sourcedId"] == subject for t in c["terms"]}
        chosen = [r for r in records if r["sourcedId"] in terms]
    return [r["sourcedId"] for r in chosen if in_resource(route.target, r, version)]


PARENTS = {"schools": "s2", "terms": "t1", "courses": "c-s1-0", "users": "stu004", "students": "stu004",
           "teachers": "tch01", "classes": "k-s2-0-0"}


# --------------------------------------------------------------------------- collections and records


@pytest.mark.parametrize("name", list(RESOURCES))
def test_every_collection_lists_its_records_in_its_envelope(service: OneRosterService, version: Version,
                                                            name: str) -> None:
    response = get(service, f"/{name}", limit="1000")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    payload = body(response)
    assert list(payload) == [RESOURCES[name].envelope]
    assert ids(payload[RESOURCES[name].envelope]) == expected_collection(name, version)[:50]
    assert int(response.headers["X-Total-Count"]) == len(expected_collection(name, version))


def test_implicit_selections_pick_the_right_records(service: OneRosterService) -> None:
    assert ids(get_all(service, "/schools")) == ["s1", "s2", "s3"]
    assert ids(get_all(service, "/terms")) == ["t1", "t2"]
    assert ids(get_all(service, "/gradingPeriods")) == ["g1", "g2", "g3", "g4"]
    assert len(get_all(service, "/students")) == 120
    assert ids(get_all(service, "/teachers")) == [f"tch{i:02d}" for i in range(12)]


@pytest.mark.parametrize(
    ("path", "envelope", "sourced_id"),
    [("/orgs/d1", "org", "d1"), ("/schools/s2", "org", "s2"), ("/academicSessions/sem1", "academicSession", "sem1"),
     ("/terms/t2", "academicSession", "t2"), ("/gradingPeriods/g3", "academicSession", "g3"),
     ("/courses/c-s1-0", "course", "c-s1-0"), ("/classes/k-s3-3-1", "class", "k-s3-3-1"),
     ("/users/adm1", "user", "adm1"), ("/students/stu007", "user", "stu007"), ("/teachers/tch03", "user", "tch03"),
     ("/enrollments/e-stu001-2", "enrollment", "e-stu001-2"), ("/demographics/stu010", "demographics", "stu010")],
)
def test_single_records_come_in_the_single_envelope(service: OneRosterService, path: str, envelope: str,
                                                    sourced_id: str) -> None:
    response = get(service, path)
    assert response.status == 200
    payload = body(response)
    assert list(payload) == [envelope]
    assert payload[envelope]["sourcedId"] == sourced_id


@pytest.mark.parametrize(
    "path",
    ["/users/nobody", "/students/tch01", "/teachers/stu001", "/schools/d1", "/schools/dept1", "/terms/g1",
     "/gradingPeriods/t1", "/demographics/tch01", "/classes/c-s1-0"],
)
def test_a_record_outside_the_collection_is_unknownobject(service: OneRosterService, path: str) -> None:
    description = expect_error(get(service, path), 404, "unknownobject")
    assert path.rsplit("/", 1)[1] in description


@pytest.mark.parametrize("path", ["/", "/widgets", "/users/stu001/orgs", "/schools/s1/classes/k-s1-0-0",
                                  "/schools/s1/classes/k-s1-0-0/courses", "/a/b/c/d/e/f", "/classes/k/enrollments"])
def test_unknown_paths_are_404(service: OneRosterService, path: str) -> None:
    expect_error(get(service, path), 404, "unknownobject")


def test_a_trailing_slash_is_tolerated(service: OneRosterService) -> None:
    assert ids(body(get(service, "/schools/"))["orgs"]) == ["s1", "s2", "s3"]


# --------------------------------------------------------------------------- nested routes


def nested_path(route: NestedRoute, parent: str, inner: str | None) -> str:
    if route.inner:
        return f"/{route.parent}/{parent}/{route.inner}/{inner}/{route.target}"
    return f"/{route.parent}/{parent}/{route.target}"


@pytest.mark.parametrize("route", NESTED_ROUTES, ids=lambda r: r.template)
def test_every_nested_route_lists_the_related_records(service: OneRosterService, version: Version,
                                                      route: NestedRoute) -> None:
    parent = PARENTS[route.parent]
    inner = "k-s2-1-0" if route.inner else None
    expected = expected_nested(route, version, parent, inner)
    assert expected, "the fixture must give every route something to list"
    response = get(service, nested_path(route, parent, inner), limit="50")
    assert response.status == 200
    payload = body(response)
    assert list(payload) == [RESOURCES[route.target].envelope]
    assert ids(payload[RESOURCES[route.target].envelope]) == expected[:50]
    assert int(response.headers["X-Total-Count"]) == len(expected)
    assert ids(get_all(service, nested_path(route, parent, inner))) == expected


@pytest.mark.parametrize("route", NESTED_ROUTES, ids=lambda r: r.template)
def test_a_nested_route_under_an_unknown_parent_is_404(service: OneRosterService, route: NestedRoute) -> None:
    inner = "k-s2-1-0" if route.inner else None
    expect_error(get(service, nested_path(route, "missing", inner)), 404, "unknownobject")


def test_nested_routes_check_the_parent_is_in_its_collection(service: OneRosterService) -> None:
    expect_error(get(service, "/schools/d1/classes"), 404, "unknownobject")  # a district, not a school
    expect_error(get(service, "/students/tch01/classes"), 404, "unknownobject")
    expect_error(get(service, "/schools/s1/classes/k-s2-1-0/students"), 404, "unknownobject")  # wrong school
    expect_error(get(service, "/terms/sem1/classes"), 404, "unknownobject")


def test_a_parent_without_children_gives_an_empty_list(service: OneRosterService) -> None:
    response = get(service, "/users/adm1/classes")
    assert response.status == 200
    assert body(response) == {"classes": []}
    assert response.headers["X-Total-Count"] == "0"


def test_nested_routes_filter_sort_and_page(service: OneRosterService) -> None:
    every = ids(get_all(service, "/schools/s1/enrollments"))
    teachers = ids(get_all(service, "/schools/s1/enrollments", filter="role='teacher'", sort="sourcedId",
                           orderBy="desc"))
    assert teachers == sorted((i for i in every if i.startswith("e-tch")), reverse=True)
    response = get(service, "/schools/s1/students", limit="7", offset="35")
    assert response.headers["X-Total-Count"] == "40"
    assert len(body(response)["users"]) == 5


# --------------------------------------------------------------------------- paging


def links(response: ProviderResponse) -> dict[str, str]:
    out = {}
    for part in response.headers["Link"].split(", "):
        url, rel = part.split("; ")
        out[rel.removeprefix('rel="').removesuffix('"')] = url.strip("<>")
    return out


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


@pytest.mark.parametrize("limit", [1, 7, 20, 50])
def test_walking_next_links_visits_every_record_exactly_once(service: OneRosterService, limit: int) -> None:
    expected = expected_collection("enrollments", service.version)
    seen: list[str] = []
    response = get(service, "/enrollments", limit=str(limit))
    pages = 0
    while True:
        pages += 1
        assert response.status == 200
        assert int(response.headers["X-Total-Count"]) == len(expected)
        seen += ids(body(response)["enrollments"])
        nxt = links(response).get("next")
        if nxt is None:
            break
        assert nxt.startswith(BASE + "/enrollments?")
        response = service.handle("/enrollments", list(parse_qsl(urlsplit(nxt).query)), BASE)
    assert seen == expected
    assert pages == -(-len(expected) // limit)


def test_link_header_has_first_prev_next_last(service: OneRosterService) -> None:
    response = get(service, "/students", limit="25", offset="50")  # 120 students, max_limit 50
    rels = links(response)
    assert set(rels) == {"first", "prev", "next", "last"}
    assert query_of(rels["first"])["offset"] == "0"
    assert query_of(rels["prev"])["offset"] == "25"
    assert query_of(rels["next"])["offset"] == "75"
    assert query_of(rels["last"])["offset"] == "100"
    assert all(query_of(u)["limit"] == "25" for u in rels.values())
    first_page = links(get(service, "/students", limit="25"))
    assert set(first_page) == {"first", "next", "last"}
    last_page = links(get(service, "/students", limit="25", offset="100"))
    assert set(last_page) == {"first", "prev", "last"}


def test_links_keep_other_parameters_and_drop_signing_parameters(service: OneRosterService) -> None:
    query = [("filter", "familyName~'Family0' AND status='active'"), ("sort", "familyName"), ("limit", "5"),
             ("oauth_signature", "c2lnbmF0dXJl"), ("oauth_nonce", "n"), ("access_token", "tok"), ("x", "a b")]
    response = service.handle("/students", query, BASE)
    nxt = links(response)["next"]
    assert "oauth_" not in nxt and "access_token" not in nxt and "c2lnbmF0dXJl" not in nxt
    assert " " not in nxt
    params = query_of(nxt)
    assert params["filter"] == "familyName~'Family0' AND status='active'"
    assert params == {"filter": query[0][1], "sort": "familyName", "x": "a b", "limit": "5", "offset": "5"}


def test_limit_above_the_cap_is_clamped(service: OneRosterService) -> None:
    response = get(service, "/enrollments", limit="100000")
    assert len(body(response)["enrollments"]) == 50
    assert query_of(links(response)["next"])["limit"] == "50"


def test_the_default_limit_applies(service: OneRosterService) -> None:
    assert len(body(get(service, "/users"))["users"]) == 20


def test_offset_past_the_end_is_an_empty_page_with_the_total(service: OneRosterService) -> None:
    response = get(service, "/teachers", offset="500")
    assert response.status == 200
    assert body(response) == {"users": []}
    assert response.headers["X-Total-Count"] == "12"
    assert "next" not in links(response)


@pytest.mark.parametrize(
    ("name", "value"),
    [("limit", "0"), ("limit", "-5"), ("limit", "ten"), ("limit", ""), ("limit", "1.5"), ("limit", "1e3"),
     ("offset", "-1"), ("offset", "x"), ("offset", ""), ("offset", "0x10")],
)
def test_bad_paging_parameters_are_400(service: OneRosterService, name: str, value: str) -> None:
    description = expect_error(get(service, "/users", **{name: value}), 400, "invaliddata")
    assert name in description


# --------------------------------------------------------------------------- filter, sort, fields


def test_filter_selects_matching_records(service: OneRosterService) -> None:
    found = get_all(service, "/users", filter="givenName='Given3' OR familyName='Admin'")
    assert ids(found) == ["stu003", "stu020", "stu037", "stu054", "stu071", "stu088", "stu105", "adm1"]


def test_filter_on_references_and_metadata(service: OneRosterService) -> None:
    assert len(get_all(service, "/classes", filter="school.sourcedId='s3'")) == 8
    assert ids(get_all(service, "/classes", filter="terms.sourcedId='t2' AND course.sourcedId='c-s1-0'")) == [
        "k-s1-0-1"]
    assert ids(get_all(service, "/users", filter="metadata.ic.personID='1005'")) == ["stu005"]
    assert ids(get_all(service, "/users", filter="metadata.ic.unheardOf='x'")) == []


def test_delta_filter_on_date_last_modified(service: OneRosterService) -> None:
    found = get_all(service, "/orgs", filter="dateLastModified>'2026-08-03T00:00:00.000Z'")
    assert ids(found) == ["s2", "s3"]


def test_role_filters_follow_the_version(version: Version) -> None:
    svc = OneRosterService(InMemorySource(DATA), version=version)
    if version is V11:
        assert len(get_all(svc, "/users", filter="role='guardian'")) == 1
        expect_error(get(svc, "/users", filter="roles.role='guardian'"), 400, "invalid_filter_field")
    else:
        assert ids(get_all(svc, "/users", filter="roles.role='guardian'")) == ["gua1"]
        expect_error(get(svc, "/users", filter="role='guardian'"), 400, "invalid_filter_field")


@pytest.mark.parametrize(
    "flt", ["status='active", "status=active", "status='a' AND", "status 'a'", "='x'",
            "a='1' AND b='2' OR c='3'", "status='a' junk"])
def test_malformed_filters_are_400_with_a_description(service: OneRosterService, flt: str) -> None:
    description = expect_error(get(service, "/users", filter=flt), 400, "invalid_filter_field")
    assert "character" in description and "expected" in description


@pytest.mark.parametrize("flt", ["colour='red'", "school.sourcedId='s1'", "givenName.first='A'"])
def test_filters_on_unknown_fields_are_400(service: OneRosterService, flt: str) -> None:
    description = expect_error(get(service, "/users", filter=flt), 400, "invalid_filter_field")
    assert flt.split("=")[0] in description


def test_an_empty_filter_means_no_filter(service: OneRosterService) -> None:
    assert get(service, "/orgs", filter="  ").headers["X-Total-Count"] == "5"


def test_sort_ascending_and_descending(service: OneRosterService) -> None:
    asc = get_all(service, "/teachers", sort="familyName")
    assert [r["familyName"] for r in asc] == sorted(r["familyName"] for r in asc)
    desc = get_all(service, "/teachers", sort="familyName", orderBy="desc")
    assert ids(desc) == list(reversed(ids(asc)))
    by_school = get_all(service, "/classes", sort="school.sourcedId,title", orderBy="DESC")
    keys = [(r["school"]["sourcedId"], r["title"]) for r in by_school]
    assert keys == sorted(keys, reverse=True)


def test_sort_is_stable_and_missing_values_sort_last(service: OneRosterService) -> None:
    sessions = get_all(service, "/academicSessions", sort="parent.sourcedId")
    assert ids(sessions) == ["g1", "g2", "g3", "g4", "t1", "t2", "y2026", "sem1"]
    desc = get_all(service, "/academicSessions", sort="parent.sourcedId", orderBy="desc")
    assert ids(desc) == ["y2026", "sem1", "t1", "t2", "g3", "g4", "g1", "g2"]


def test_sorted_pages_walk_consistently(service: OneRosterService) -> None:
    pages = [body(get(service, "/students", sort="givenName", limit="30", offset=str(o)))["users"]
             for o in range(0, 120, 30)]
    walked = [r for page in pages for r in page]
    assert len(set(ids(walked))) == 120
    assert [r["givenName"] for r in walked] == sorted(r["givenName"] for r in walked)


def test_unknown_sort_field_or_order_is_400(service: OneRosterService) -> None:
    assert "shoeSize" in expect_error(get(service, "/users", sort="shoeSize"), 400, "invalid_selection_field")
    assert "orderBy" in expect_error(get(service, "/users", sort="givenName", orderBy="up"), 400,
                                     "invalid_selection_field")


def test_fields_projects_records(service: OneRosterService) -> None:
    users = body(get(service, "/users", fields="givenName,sourcedId", limit="3"))["users"]
    assert users == [{"givenName": "Given0", "sourcedId": "stu000"}, {"givenName": "Given1", "sourcedId": "stu001"},
                     {"givenName": "Given2", "sourcedId": "stu002"}]
    repeated = [("fields", "sourcedId"), ("fields", "familyName"), ("limit", "1")]
    assert body(service.handle("/users", repeated, BASE))["users"] == [{"sourcedId": "stu000",
                                                                          "familyName": "Family000"}]
    assert body(get(service, "/orgs/s1", fields="sourcedId,name")) == {"org": {"sourcedId": "s1",
                                                                               "name": "School s1"}}


def test_unknown_selection_field_is_400(service: OneRosterService) -> None:
    assert "favouriteColour" in expect_error(get(service, "/users", fields="sourcedId,favouriteColour"), 400,
                                             "invalid_selection_field")
    expect_error(get(service, "/orgs/s1", fields="nonsense"), 400, "invalid_selection_field")


# --------------------------------------------------------------------------- scale behaviour


class LazySequence(Sequence):
    """A large sequence rendering records on access, counting how many it rendered."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.rendered = 0

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            raise AssertionError("the provider must not materialise slices of the source")
        if not 0 <= index < self.size:
            raise IndexError(index)
        self.rendered += 1
        return {**base(f"e{index:07d}", index), "user": ref(f"u{index % 1000}", "user"),
                "class": ref(f"k{index % 50}", "class"), "school": ref("s1", "org"),
                "role": "student" if index % 10 else "teacher"}


class LazySource:
    def __init__(self, size: int) -> None:
        self.revision = 1
        self.enrollments = LazySequence(size)

    def records(self, kind: Kind, version: Version) -> Sequence[dict]:
        return self.enrollments if kind is Kind.ENROLLMENT else []

    def get(self, kind: Kind, sourced_id: str, version: Version) -> dict | None:
        return None


def test_unfiltered_pages_do_not_scan_the_source() -> None:
    source = LazySource(1_000_000)
    svc = OneRosterService(source, version=V11, max_limit=50_000)
    response = get(svc, "/enrollments", limit="10", offset="999990")
    assert ids(body(response)["enrollments"])[0] == "e0999990"
    assert response.headers["X-Total-Count"] == "1000000"
    assert source.enrollments.rendered == 10


def test_filtered_results_are_cached_per_revision() -> None:
    source = LazySource(20_000)
    svc = OneRosterService(source, version=V11)
    first = get(svc, "/enrollments", filter="role='teacher'", limit="100")
    assert first.headers["X-Total-Count"] == "2000"
    first.read()
    scanned = source.enrollments.rendered
    get(svc, "/enrollments", filter="role='teacher'", limit="100", offset="100").read()
    assert source.enrollments.rendered == scanned + 100  # only the page, no new scan
    source.revision += 1
    get(svc, "/enrollments", filter="role='teacher'", limit="100").read()
    assert source.enrollments.rendered >= scanned + 100 + 20_000  # a new revision rescans


def test_big_pages_are_streamed_in_chunks() -> None:
    source = LazySource(60_000)
    svc = OneRosterService(source, version=V11, max_limit=50_000, chunk_records=2000)
    response = get(svc, "/enrollments", limit="50000")
    chunks = iter(response.body)
    next(chunks), next(chunks)
    assert source.enrollments.rendered <= 2000  # rendered on demand, not all at once
    rest = list(chunks)
    assert len(rest) >= 25 and max(len(c) for c in rest) < 2_000_000
    assert source.enrollments.rendered == 50_000


class BulkSequence(LazySequence):
    """A LazySequence that also renders many records per call, noting how many each call asked for."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.takes: list[int] = []

    def take(self, positions: Sequence[int]) -> list[dict]:
        self.takes.append(len(positions))
        return [self[p] for p in positions]


@pytest.mark.parametrize("params", [{"limit": "4500", "offset": "7"}, {"limit": "30", "filter": "role='teacher'"},
                                    {"limit": "9", "fields": "sourcedId,role", "sort": "role"}])
def test_a_source_rendering_in_bulk_is_read_a_few_records_at_a_time_and_serves_the_same_bytes(params) -> None:
    plain, bulk = LazySource(5000), LazySource(5000)
    bulk.enrollments = BulkSequence(5000)
    one = get(OneRosterService(plain, version=V11, max_limit=5000, chunk_records=2000), "/enrollments", **params)
    many = get(OneRosterService(bulk, version=V11, max_limit=5000, chunk_records=2000), "/enrollments", **params)
    assert (one.status, one.headers) == (many.status, many.headers)
    assert list(one.body) == list(many.body)  # the same bytes in the same chunks
    assert bulk.enrollments.takes and max(bulk.enrollments.takes) <= PART_RECORDS


def test_a_streamed_body_is_sent_chunk_by_chunk_and_an_error_after_what_came_before_it() -> None:
    def body(fail: bool):
        yield b'{"enrollments":['
        yield b"x" * 100_000
        yield b"y" * 10
        if fail:
            raise ConnectionError("cut short")
        yield b"]}"

    async def read(fail: bool) -> tuple[list[bytes], BaseException | None]:
        chunks: list[bytes] = []
        try:
            async for chunk in read_in_threadpool(body(fail), enough=1000):
                chunks.append(chunk)
        except ConnectionError as exc:
            return chunks, exc
        return chunks, None

    assert asyncio.run(read(False)) == ([b'{"enrollments":[', b"x" * 100_000, b"y" * 10, b"]}"], None)
    chunks, error = asyncio.run(read(True))
    assert chunks == [b'{"enrollments":[', b"x" * 100_000, b"y" * 10] and str(error) == "cut short"


def test_revision_change_invalidates_indexes(version: Version) -> None:
    source = InMemorySource(DATA)
    svc = OneRosterService(source, version=version)
    assert len(get_all(svc, "/schools/s1/classes")) == 8
    source.replace(Kind.CLASS, version, [c for c in DATA[(Kind.CLASS, version)] if c["title"].startswith("Class 0")])
    assert ids(get_all(svc, "/schools/s1/classes")) == ["k-s1-0-0", "k-s1-0-1"]


class BrokenSource(InMemorySource):
    def get(self, kind: Kind, sourced_id: str, version: Version) -> dict | None:
        raise RuntimeError("database on fire")


def test_a_source_failure_is_an_imsx_500_without_details() -> None:
    svc = OneRosterService(BrokenSource(DATA), version=V11)
    description = expect_error(get(svc, "/users/stu001"), 500, "internal_server_error")
    assert "fire" not in description
