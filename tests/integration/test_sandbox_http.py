"""The sandbox as a district's Infinite Campus site, over loopback HTTP.

Endpoints and envelopes (1.1, 1.2 and Classic), paging with and without the
paging headers, bad input, the Campus web page, the admin endpoints, the
demographics switch and day-N changes seen through a dateLastModified filter.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from rostersync.oneroster.imsx import parse_status
from rostersync.oneroster.kinds import Kind, Version
from rostersync.oneroster.resources import NESTED_ROUTES, RESOURCES
from rostersync.sandbox import start_sandbox
from rostersync.sandbox.district import generate
from rostersync.sandbox.district_model import SCHOOL_DAYS
from rostersync.source.auth import OAuth1Signer

V11, V12 = Version.V1P1, Version.V1P2


def token(box) -> str:
    creds = box.credentials
    response = httpx.post(creds.token_url, data={"grant_type": "client_credentials"},
                          auth=(creds.client_id, creds.client_secret))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def bearer_client(box, version: Version = V11) -> httpx.Client:
    return httpx.Client(base_url=box.base_url(version), headers={"Authorization": f"Bearer {token(box)}"},
                        timeout=30)


def classic_client(box) -> httpx.Client:
    creds = box.credentials
    return httpx.Client(base_url=creds.oneroster_url, timeout=30,
                        auth=OAuth1Signer(consumer_key=creds.consumer_key, consumer_secret=creds.consumer_secret))


def admin(box, method: str, path: str, **kwargs) -> httpx.Response:
    creds = box.credentials
    return httpx.request(method, creds.admin_url + path, headers={"Authorization": f"Bearer {creds.admin_token}"},
                         timeout=60, **kwargs)


def assert_imsx(response: httpx.Response, status: int, minor: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    parsed = parse_status(response.content)
    assert parsed is not None and parsed.minor == minor, response.text
    assert parsed.description and "Traceback" not in response.text


@pytest.fixture(scope="module")
def box() -> Iterator:
    with start_sandbox(students=300, seed=5, day=1) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def clients(box) -> Iterator[dict[str, httpx.Client]]:
    made = {"1.1": bearer_client(box, V11), "1.2": bearer_client(box, V12), "classic": classic_client(box)}
    yield made
    for c in made.values():
        c.close()


# -- the Campus site -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/campus", "/campus/", "/campus/portal/students/district.jsp", "/campus/main.jsp",
                                  "/campus/portal/district.jsp/orgs"])
def test_the_campus_web_site_answers_with_an_html_page(box, path):
    response = httpx.get(box.url + path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Campus" in response.text and "<form" in response.text


def test_other_campus_web_addresses_are_html_not_found_pages(box):
    response = httpx.get(box.url + "/campus/orgs")  # a Base URL of https://host/campus, plus /orgs
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")


def test_a_wrong_app_name_is_a_404_imsx_everywhere(box):
    creds = box.credentials
    wrong_base = creds.base_url.replace("/rostersync/", "/otherapp/")
    assert_imsx(httpx.get(wrong_base + "/orgs", headers={"Authorization": f"Bearer {token(box)}"}), 404,
                "unknownobject")
    assert_imsx(httpx.get(creds.oneroster_url.replace("/rostersync/", "/x/") + "/orgs"), 404, "unknownobject")
    wrong_token_url = creds.token_url.replace("appName=rostersync", "appName=otherapp")
    assert_imsx(httpx.post(wrong_token_url, data={"grant_type": "client_credentials"},
                           auth=(creds.client_id, creds.client_secret)), 404, "unknownobject")
    assert_imsx(httpx.post(creds.token_url.split("?")[0], data={"grant_type": "client_credentials"},
                           auth=(creds.client_id, creds.client_secret)), 404, "unknownobject")
    assert_imsx(httpx.get(box.url + "/nothing/here"), 404, "unknownobject")


# -- endpoints and envelopes ---------------------------------------------------------------------

FLAVOURS = ["1.1", "1.2", "classic"]


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("name", sorted(RESOURCES))
def test_every_collection_and_single_record_in_its_envelope(clients, flavour, name):
    c = clients[flavour]
    resource = RESOURCES[name]
    response = c.get(f"/{name}", params={"limit": 3})
    assert response.status_code == 200, response.text
    assert list(response.json()) == [resource.envelope]
    items = response.json()[resource.envelope]
    assert len(items) == 3 and int(response.headers["X-Total-Count"]) >= 3
    if resource.select:  # /students lists students only, /schools schools only, ...
        field, value = resource.select
        for item in items:
            got = item.get(field) if field in item else [r["role"] for r in item["roles"]][0]
            assert got == value
    one = c.get(f"/{name}/{items[1]['sourcedId']}")
    assert one.status_code == 200 and one.json() == {resource.single: items[1]}


@pytest.mark.parametrize("flavour", FLAVOURS)
@pytest.mark.parametrize("route", NESTED_ROUTES, ids=lambda r: r.template)
def test_every_nested_route_lists_the_related_records(box, clients, flavour, route):
    c = clients[flavour]
    version = V12 if flavour == "1.2" else V11
    district = box.district
    klass = next(k for k in district.records(Kind.CLASS, version)
                 if k["status"] == "active" and c.get(f"/classes/{k['sourcedId']}/students").json()["users"]
                 and c.get(f"/classes/{k['sourcedId']}/teachers").json()["users"])
    student = c.get(f"/classes/{klass['sourcedId']}/students").json()["users"][0]
    teacher = c.get(f"/classes/{klass['sourcedId']}/teachers").json()["users"][0]
    parent = {"schools": klass["school"]["sourcedId"], "courses": klass["course"]["sourcedId"],
              "terms": klass["terms"][0]["sourcedId"], "classes": klass["sourcedId"],
              "users": student["sourcedId"], "students": student["sourcedId"],
              "teachers": teacher["sourcedId"]}[route.parent]
    path = route.template.format(parent_id=parent, inner_id=klass["sourcedId"])
    if route.target == "gradingPeriods":
        path = path.replace(klass["terms"][0]["sourcedId"], next(
            s["sourcedId"] for s in district.records(Kind.ACADEMIC_SESSION, version) if s["type"] == "term"))
    response = c.get(path, params={"limit": 5000})
    assert response.status_code == 200, response.text
    target = RESOURCES[route.target]
    items = response.json()[target.envelope]
    assert items and len(items) == int(response.headers["X-Total-Count"])
    if route.target in ("students", "teachers") and route.relation == "enrolled_users":
        assert (student if route.target == "students" else teacher)["sourcedId"] in {u["sourcedId"] for u in items}
    if route.target == "classes" and route.parent in ("users", "students", "teachers", "courses", "terms"):
        assert klass["sourcedId"] in {k["sourcedId"] for k in items}
    missing = c.get(route.template.format(parent_id="no-such-id", inner_id=klass["sourcedId"]))
    assert_imsx(missing, 404, "unknownobject")


# -- paging ----------------------------------------------------------------------------------------


def page_by_links(c: httpx.Client, path: str, limit: int) -> tuple[list[str], int]:
    ids, url, total, pages = [], f"{path}?limit={limit}", None, 0
    while url:
        response = c.get(url)
        assert response.status_code == 200
        total = int(response.headers["X-Total-Count"])
        ids += [r["sourcedId"] for r in next(iter(response.json().values()))]
        url = response.links.get("next", {}).get("url")
        pages += 1
        assert pages < 100
    return ids, total


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_paging_by_link_headers_visits_every_record_once(box, clients, flavour):
    ids, total = page_by_links(clients[flavour], "/users", 37)
    version = V12 if flavour == "1.2" else V11
    expected = [u["sourcedId"] for u in box.district.records(Kind.USER, version)]
    assert ids == expected and total == len(expected) == len(set(ids))


def test_the_link_header_names_first_prev_next_and_last(clients):
    c = clients["1.1"]
    total = int(c.get("/enrollments", params={"limit": 1}).headers["X-Total-Count"])
    response = c.get("/enrollments", params={"limit": 100, "offset": 200})
    links = response.links
    assert set(links) == {"first", "prev", "next", "last"}
    assert "offset=0" in links["first"]["url"] and "offset=100" in links["prev"]["url"]
    assert "offset=300" in links["next"]["url"] and f"offset={(total - 1) // 100 * 100}" in links["last"]["url"]
    assert links["next"]["url"].startswith(str(c.base_url).rstrip("/"))


def test_paging_without_the_headers_by_offset_until_a_short_page(box, clients):
    box.faults.set(no_total_count=True, no_link=True)
    try:
        c, ids, offset = clients["1.2"], [], 0
        while True:
            response = c.get("/enrollments", params={"limit": 100, "offset": offset})
            assert "X-Total-Count" not in response.headers and "Link" not in response.headers
            page = response.json()["enrollments"]
            ids += [e["sourcedId"] for e in page]
            if len(page) < 100:
                break
            offset += 100
    finally:
        box.faults.off()
    assert ids == [e["sourcedId"] for e in box.district.records(Kind.ENROLLMENT, V12)]


def test_a_limit_above_the_cap_is_clamped(box):
    with start_sandbox(district=box.district, max_limit=50) as small_cap:
        with bearer_client(small_cap) as c:
            response = c.get("/users", params={"limit": 10_000})
            assert len(response.json()["users"]) == 50
            assert "limit=50" in response.links["next"]["url"]


# -- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "status", "minor"),
    [
        ("/users?filter=givenName%3D", 400, "invalid_filter_field"),
        ("/users?filter=givenName%3D'unterminated", 400, "invalid_filter_field"),
        ("/users?filter=shoeSize%3D'9'", 400, "invalid_filter_field"),
        ("/users?fields=sourcedId,shoeSize", 400, "invalid_selection_field"),
        ("/users?limit=0", 400, "invaliddata"),
        ("/users?limit=-5", 400, "invaliddata"),
        ("/users?limit=NaN", 400, "invaliddata"),
        ("/users?offset=-1", 400, "invaliddata"),
        ("/users/no-such-user", 404, "unknownobject"),
        ("/students/t1", 404, "unknownobject"),
        ("/shoes", 404, "unknownobject"),
    ],
)
def test_bad_input_gets_an_imsx_error_never_a_500(clients, path, status, minor):
    for flavour in FLAVOURS:
        assert_imsx(clients[flavour].get(path), status, minor)


def test_an_offset_past_the_end_is_an_empty_page(clients):
    response = clients["1.1"].get("/orgs", params={"offset": 10_000})
    assert response.status_code == 200 and response.json() == {"orgs": []}
    assert int(response.headers["X-Total-Count"]) > 0


def test_writes_are_refused(clients):
    response = clients["1.1"].post("/users", json={"sourcedId": "x"})
    assert_imsx(response, 405, "unsupported_method")


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic abc", "Bearer"])
def test_a_missing_or_wrong_token_is_401(box, header):
    headers = {"Authorization": header} if header else {}
    response = httpx.get(box.base_url(V12) + "/orgs", headers=headers)
    assert_imsx(response, 401, "unauthorisedrequest")
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_filter_with_quotes_and_and_is_served(clients):
    c = clients["1.1"]
    some = c.get("/users", params={"limit": 1}).json()["users"][0]
    flt = f"familyName='{some['familyName'].replace(chr(39), chr(39) * 2)}' AND role='{some['role']}'"
    found = c.get("/users", params={"filter": flt}).json()["users"]
    assert some["sourcedId"] in {u["sourcedId"] for u in found}
    assert all(u["familyName"] == some["familyName"] for u in found)


# -- switches and the admin endpoints --------------------------------------------------------------


def test_without_demographics_in_data_to_share_demographics_is_403(box, clients):
    demo_id = clients["1.1"].get("/demographics", params={"limit": 1}).json()["demographics"][0]["sourcedId"]
    box.demographics = False
    try:
        for flavour in FLAVOURS:
            assert_imsx(clients[flavour].get("/demographics"), 403, "forbidden")
        assert_imsx(clients["1.1"].get(f"/demographics/{demo_id}"), 403, "forbidden")
        assert clients["1.1"].get("/students", params={"limit": 1}).status_code == 200
    finally:
        box.demographics = True
    assert clients["1.2"].get("/demographics", params={"limit": 1}).status_code == 200


def test_the_admin_endpoints_need_the_admin_token(box):
    creds = box.credentials
    for path in ("/stats", "/faults"):
        assert_imsx(httpx.get(creds.admin_url + path), 401, "unauthorisedrequest")
        assert_imsx(httpx.get(creds.admin_url + path, headers={"Authorization": f"Bearer {creds.client_secret}"}),
                    401, "unauthorisedrequest")
    assert_imsx(httpx.post(creds.admin_url + "/advance"), 401, "unauthorisedrequest")


def test_faults_and_demographics_can_be_switched_over_http(box, clients):
    response = admin(box, "POST", "/faults", json={"specs": ["no_link"], "retry_after": 3})
    assert response.status_code == 200 and response.json()["faults"]["no_link"] is True
    assert "Link" not in clients["1.1"].get("/orgs").headers
    assert_imsx(admin(box, "POST", "/faults", json={"rate_limit": 7}), 400, "invaliddata")
    assert admin(box, "PUT", "/faults", json={}).json()["faults"]["no_link"] is False
    assert "Link" in clients["1.1"].get("/orgs").headers

    assert admin(box, "POST", "/demographics", params={"share": "false"}).json() == {"demographics_shared": False}
    assert clients["1.1"].get("/demographics").status_code == 403
    assert admin(box, "POST", "/demographics", params={"share": "true"}).status_code == 200
    stats = admin(box, "GET", "/stats").json()
    assert stats["statuses"]["403"] >= 1 and stats["tokens_issued"] >= 2 and stats["district"]["day"] == box.district.day


# -- school days -------------------------------------------------------------------------------------

COLLECTIONS = {Kind.ORG: "orgs", Kind.ACADEMIC_SESSION: "academicSessions", Kind.COURSE: "courses",
               Kind.CLASS: "classes", Kind.USER: "users", Kind.ENROLLMENT: "enrollments",
               Kind.DEMOGRAPHICS: "demographics"}


def changed_over_http(c: httpx.Client, name: str, since: str) -> set[str]:
    response = c.get(f"/{name}", params={"filter": f"dateLastModified>'{since}'", "limit": 50_000})
    assert response.status_code == 200, response.text
    return {r["sourcedId"] for r in next(iter(response.json().values()))}


@pytest.fixture
def fresh_box() -> Iterator:
    with start_sandbox(district=generate(seed=21, students=600, day=0)) as sandbox:
        yield sandbox


def test_advancing_a_day_over_http_serves_exactly_that_days_changes(fresh_box):
    box = fresh_box
    with bearer_client(box, V11) as c11, bearer_client(box, V12) as c12:
        before_users = {u["sourcedId"] for u in c11.get("/users", params={"limit": 50_000}).json()["users"]}
        for day in (1, 2):
            end_of_previous_day = box.district.now
            response = admin(box, "POST", "/advance")
            assert response.status_code == 200 and response.json()["day"] == day
            assert box.district.day == day
            total_changes = 0
            for version, c in ((V11, c11), (V12, c12)):
                changes = box.district.changes(day, version)
                for kind, name in COLLECTIONS.items():
                    expected = set().union(*(changes[kind][k] for k in ("created", "updated", "tobedeleted")))
                    assert changed_over_http(c, name, end_of_previous_day) == expected, (day, version, name)
                    total_changes += len(expected)
            assert total_changes > 0
        after = c11.get("/users", params={"limit": 50_000}).json()["users"]
        gone = set().union(*(box.district.changes(d)[Kind.USER]["deleted"] for d in (1, 2)))
        assert gone and not gone & {u["sourcedId"] for u in after}  # withdrawn students vanish
        assert gone <= before_users


def test_advancing_past_the_last_school_day_is_refused_plainly(fresh_box):
    response = admin(fresh_box, "POST", "/advance", params={"days": "abc"})
    assert_imsx(response, 400, "invaliddata")
    response = admin(fresh_box, "POST", "/advance", params={"days": str(len(SCHOOL_DAYS) + 1)})
    assert_imsx(response, 400, "invaliddata")
    assert str(len(SCHOOL_DAYS)) in response.json()["imsx_description"]  # says how many days there are
    assert fresh_box.district.day == 0
