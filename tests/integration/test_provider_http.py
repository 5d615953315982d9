"""The provider's ASGI adapter served by uvicorn over loopback, read with httpx."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jsonschema
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Mount

from rostersync.oneroster.fields import FIELDS, GUIDREF
from rostersync.oneroster.imsx import parse_status
from rostersync.oneroster.kinds import Kind, Version
from rostersync.oneroster.resources import base_path
from rostersync.provider import InMemorySource, ProviderResponse, error_response
from rostersync.provider.asgi import create_provider_app

OPENAPI = Path(__file__).resolve().parents[3] / "shared" / "data" / "oneroster-v1p2-rostering-openapi.json"
PREFIX = "/campus/api/oneroster/{v}/demo"
TOKEN = "Bearer sandbox-token"


def ref(sourced_id: str, type_: str) -> dict:
    return {"href": f"https://sis.example.org/{type_}s/{sourced_id}", "sourcedId": sourced_id, "type": type_}


def district(version: Version, students: int = 230) -> dict[tuple[Kind, Version], list[dict]]:
    stamp = "2026-08-01T12:00:00.000Z"
    common = {"status": "active", "dateLastModified": stamp}
    orgs = [{"sourcedId": "d1", **common, "name": "District", "type": "district", "identifier": "D1"},
            {"sourcedId": "s1", **common, "name": "High", "type": "school", "identifier": "S1", "parent": ref("d1", "org")}]
    classes = [{"sourcedId": f"k{i}", **common, "title": f"Class {i}", "classType": "scheduled",
                "course": ref("c1", "course"), "school": ref("s1", "org"), "terms": [ref("t1", "academicSession")]}
               for i in range(3)]
    users = []
    for i in range(students):
        user = {"sourcedId": f"u{i:04d}", **common, "enabledUser": "true", "givenName": f"G{i}",
                "familyName": "O'Brien" if i == 7 else f"F{i}", "username": f"u{i}"}
        if version is Version.V1P1:
            user.update(role="student", orgs=[ref("s1", "org")])
        else:
            user.update(roles=[{"roleType": "primary", "role": "student", "org": ref("s1", "org")}])
        users.append(user)
    enrollments = [{"sourcedId": f"e{i}", **common, "user": ref(f"u{i:04d}", "user"),
                    "class": ref(f"k{i % 3}", "class"), "school": ref("s1", "org"), "role": "student"}
                   for i in range(students)]
    return {(Kind.ORG, version): orgs, (Kind.CLASS, version): classes, (Kind.USER, version): users,
            (Kind.ENROLLMENT, version): enrollments}


def authorize(request: Request) -> ProviderResponse | None:
    if request.headers.get("authorization") != TOKEN:
        return error_response("unauthorisedrequest", "A valid access token is required.")
    return None


async def hooks(request: Request, response: ProviderResponse) -> ProviderResponse | None:
    if request.headers.get("x-fault") == "busy":
        busy = error_response("server_busy", "Try again later.")
        busy.headers["Retry-After"] = "3"
        return busy
    return None


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    routes = []
    for version in Version:
        source = InMemorySource(district(version))
        app = create_provider_app(source, version=version, authorize=authorize, hooks=hooks, max_limit=100)
        segment = "v1p1" if version is Version.V1P1 else "v1p2"
        routes.append(Mount(PREFIX.format(v=segment) + base_path(version), app=app))
    config = uvicorn.Config(Starlette(routes=routes), host="127.0.0.1", port=0, log_level="warning",
                            lifespan="off")
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not uv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = uv.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(timeout=10)


def base_url(server: str, version: Version) -> str:
    segment = "v1p1" if version is Version.V1P1 else "v1p2"
    return server + PREFIX.format(v=segment) + base_path(version)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(headers={"Authorization": TOKEN}, timeout=10) as http:
        yield http


@pytest.mark.parametrize("version", list(Version), ids=["v1p1", "v1p2"])
def test_paging_through_users_over_http_visits_everyone_once(server: str, client: httpx.Client,
                                                             version: Version) -> None:
    url = base_url(server, version) + "/users"
    response = client.get(url, params={"limit": "7", "sort": "familyName", "orderBy": "desc"})
    seen: list[str] = []
    total = None
    while True:
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        total = int(response.headers["x-total-count"])
        seen += [u["sourcedId"] for u in response.json()["users"]]
        if "next" not in response.links:
            break
        nxt = response.links["next"]["url"]
        assert nxt.startswith(url + "?")  # absolute, under the mount point
        response = client.get(nxt)
    assert total == 230
    assert len(seen) == len(set(seen)) == 230
    assert response.links["first"]["url"].endswith("offset=0")


def test_limit_is_clamped_and_big_pages_stream(server: str, client: httpx.Client) -> None:
    response = client.get(base_url(server, Version.V1P1) + "/enrollments", params={"limit": "5000"})
    assert response.status_code == 200
    assert len(response.json()["enrollments"]) == 100
    assert "next" in response.links


def test_quoted_filters_survive_url_encoding(server: str, client: httpx.Client) -> None:
    response = client.get(base_url(server, Version.V1P2) + "/users",
                          params={"filter": "familyName='O''Brien' OR givenName='G9'"})
    assert response.status_code == 200
    assert [u["sourcedId"] for u in response.json()["users"]] == ["u0007", "u0009"]


def test_nested_route_and_single_record(server: str, client: httpx.Client) -> None:
    base = base_url(server, Version.V1P2)
    response = client.get(base + "/classes/k1/students", params={"limit": "100", "fields": "sourcedId"})
    assert response.status_code == 200
    assert response.headers["x-total-count"] == "77"
    assert response.json()["users"][0] == {"sourcedId": "u0001"}
    assert client.get(base + "/schools/s1").json()["org"]["name"] == "High"
    missing = client.get(base + "/schools/d1")
    assert missing.status_code == 404
    assert parse_status(missing.content).minor == "unknownobject"


def test_authorize_hook_refuses_requests_without_a_token(server: str) -> None:
    response = httpx.get(base_url(server, Version.V1P1) + "/users", timeout=10)
    assert response.status_code == 401
    assert parse_status(response.content).minor == "unauthorisedrequest"


def test_response_hook_can_inject_faults(server: str, client: httpx.Client) -> None:
    response = client.get(base_url(server, Version.V1P1) + "/users", headers={"X-Fault": "busy"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert parse_status(response.content).minor == "server_busy"


def test_head_and_unsupported_methods(server: str, client: httpx.Client) -> None:
    head = client.head(base_url(server, Version.V1P1) + "/users", params={"limit": "10"})
    assert head.status_code == 200 and head.content == b""
    assert head.headers["x-total-count"] == "230"
    post = client.post(base_url(server, Version.V1P1) + "/users", json={})
    assert post.status_code == 405
    assert parse_status(post.content).code_major == "failure"


def test_bad_input_gets_imsx_errors_never_500(server: str, client: httpx.Client) -> None:
    base = base_url(server, Version.V1P1)
    cases = [("/users", {"filter": "givenName='x"}, 400, "invalid_filter_field"),
             ("/users", {"filter": "shoe='x'"}, 400, "invalid_filter_field"),
             ("/users", {"fields": "shoe"}, 400, "invalid_selection_field"),
             ("/users", {"sort": "shoe"}, 400, "invalid_selection_field"),
             ("/users", {"limit": "0"}, 400, "invaliddata"),
             ("/users", {"offset": "-3"}, 400, "invaliddata"),
             ("/widgets", {}, 404, "unknownobject"),
             ("/users/nobody", {}, 404, "unknownobject")]
    for path, params, status, minor in cases:
        response = client.get(base + path, params=params)
        assert (response.status_code, parse_status(response.content).minor) == (status, minor), path


# --------------------------------------------------------------------------- conformance with the 1.2 OpenAPI


@pytest.fixture(scope="module")
def openapi() -> dict:
    return json.loads(OPENAPI.read_text())


def validator(openapi: dict, schema: str) -> jsonschema.Validator:
    root = {"$ref": f"#/components/schemas/{schema}", "components": openapi["components"]}
    return jsonschema.Draft7Validator(root)


@pytest.mark.parametrize(
    ("path", "schema"),
    [("/users", "UserSetDType"), ("/students", "UserSetDType"), ("/orgs", "OrgSetDType"),
     ("/classes", "ClassSetDType"), ("/enrollments", "EnrollmentSetDType"), ("/schools/s1", "SingleOrgDType"),
     ("/users/u0003", "SingleUserDType"), ("/classes/k2/teachers", "UserSetDType")],
)
def test_v1p2_bodies_match_the_official_schemas(server: str, client: httpx.Client, openapi: dict, path: str,
                                                schema: str) -> None:
    response = client.get(base_url(server, Version.V1P2) + path)
    assert response.status_code == 200
    validator(openapi, schema).validate(response.json())


def test_v1p2_error_bodies_match_the_official_schema(server: str, client: httpx.Client, openapi: dict) -> None:
    for path, params in [("/users", {"filter": "nope"}), ("/users", {"fields": "nope"}), ("/users/x", {})]:
        response = client.get(base_url(server, Version.V1P2) + path, params=params)
        validator(openapi, "imsx_StatusInfoDType").validate(response.json())


KIND_SCHEMAS = {Kind.ORG: "OrgDType", Kind.ACADEMIC_SESSION: "AcademicSessionDType", Kind.COURSE: "CourseDType",
                Kind.CLASS: "ClassDType", Kind.USER: "UserDType", Kind.ENROLLMENT: "EnrollmentDType",
                Kind.DEMOGRAPHICS: "DemographicsDType"}


def shape_of(openapi: dict, schema: dict):
    target = schema.get("$ref") or schema.get("items", {}).get("$ref")
    if target is None:
        return None
    name = target.rsplit("/", 1)[1]
    if name == "MetadataDType":
        return "*"
    props = openapi["components"]["schemas"][name]["properties"]
    return {k: shape_of(openapi, v) for k, v in props.items()}


@pytest.mark.parametrize("kind", list(Kind))
def test_known_v1p2_fields_match_the_official_schemas(openapi: dict, kind: Kind) -> None:
    expected = shape_of(openapi, {"$ref": f"#/components/schemas/{KIND_SCHEMAS[kind]}"})
    assert FIELDS[(kind, Version.V1P2)] == expected
    assert GUIDREF == shape_of(openapi, {"$ref": "#/components/schemas/OrgGUIDRefDType"})
