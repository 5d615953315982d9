"""The sandbox's responses against the standard, over loopback HTTP.

1.2: every path of the official 1.2 rostering OpenAPI document (collections
in full, single records, nested routes), validated with jsonschema against
the document's own response schema. 1.1: every collection, single record and
nested route against the shapes of ONEROSTER.md section 3, written below as
JSON Schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import jsonschema
import orjson
import pytest

from rostersync.oneroster.kinds import ENROLLMENT_ROLES, ROLES_V1P1, Kind, Version
from rostersync.oneroster.resources import NESTED_ROUTES, RESOURCES
from rostersync.sandbox import start_sandbox

REPO = Path(__file__).resolve().parents[2]
SPEC_FILE = REPO / ".." / "shared" / "data" / "oneroster-v1p2-rostering-openapi.json"
SPEC = orjson.loads(SPEC_FILE.read_bytes())

# -- OpenAPI 3.0 schemas as JSON Schema ------------------------------------------------------

_OPENAPI_ONLY = ("nullable", "example", "discriminator", "xml", "externalDocs", "deprecated", "readOnly",
                 "writeOnly")


def to_json_schema(node):
    """OpenAPI 3.0 schema -> JSON Schema: ``nullable`` becomes a null type, OpenAPI-only keys go."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: to_json_schema(value) for key, value in node.items() if key not in _OPENAPI_ONLY}
    if node.get("nullable") is True:
        if "$ref" in out:
            out = {"anyOf": [{"$ref": out.pop("$ref")}, {"type": "null"}], **out}
        elif isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _DATE_TIME.match(value):
        return False
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@FORMATS.checks("uri")
def _is_uri_reference(value: object) -> bool:  # xsd:anyURI: relative references are fine
    return not isinstance(value, str) or (value != "" and not re.search(r"\s", value))


COMPONENTS = to_json_schema(SPEC["components"])


def openapi_validator(schema_ref: str) -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator({"$ref": schema_ref, "components": COMPONENTS}, format_checker=FORMATS)


def response_schema(template: str, status: str) -> str:
    return SPEC["paths"][template]["get"]["responses"][status]["content"]["application/json"]["schema"]["$ref"]


def test_nullable_and_refs_are_translated():
    schema = to_json_schema({"type": "object", "properties": {
        "a": {"type": "string", "nullable": True, "enum": ["x"]},
        "b": {"$ref": "#/components/schemas/OrgGUIDRefDType", "nullable": True}}})
    validator = jsonschema.Draft7Validator({**schema, "components": COMPONENTS}, format_checker=FORMATS)
    assert validator.is_valid({"a": None, "b": None})
    assert not validator.is_valid({"a": "y"})
    assert not validator.is_valid({"b": {"href": "/orgs/1", "sourcedId": "1"}})  # type is required
    assert not openapi_validator("#/components/schemas/OrgDType").is_valid(
        {"sourcedId": "1", "status": "active", "dateLastModified": "yesterday", "name": "x", "type": "school",
         "identifier": "1"})


# -- the sandbox -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def box() -> Iterator:
    with start_sandbox(students=300, seed=11, day=3) as sandbox:  # day 3: churned, some tobedeleted
        yield sandbox


def client(box, version: Version) -> httpx.Client:
    creds = box.credentials
    token = httpx.post(creds.token_url, data={"grant_type": "client_credentials"},
                       auth=(creds.client_id, creds.client_secret)).json()["access_token"]
    return httpx.Client(base_url=box.base_url(version), headers={"Authorization": f"Bearer {token}"}, timeout=30)


@pytest.fixture(scope="module")
def v12(box) -> Iterator[httpx.Client]:
    with client(box, Version.V1P2) as c:
        yield c


@pytest.fixture(scope="module")
def v11(box) -> Iterator[httpx.Client]:
    with client(box, Version.V1P1) as c:
        yield c


def ids_for(c: httpx.Client) -> dict[str, str]:
    """Parameters for every path template: a class with students and teachers, and its relatives."""
    classes = c.get("/classes", params={"limit": 1000}).json()["classes"]
    for klass in classes:
        cid = klass["sourcedId"]
        students = c.get(f"/classes/{cid}/students").json()["users"]
        teachers = c.get(f"/classes/{cid}/teachers").json()["users"]
        if students and teachers and klass["status"] == "active":
            break
    else:
        raise AssertionError("no class with both students and teachers")
    term = next(t["sourcedId"] for t in klass["terms"]
                if c.get(f"/terms/{t['sourcedId']}/gradingPeriods").json()["academicSessions"])
    return {"classSourcedId": cid, "schoolSourcedId": klass["school"]["sourcedId"],
            "courseSourcedId": klass["course"]["sourcedId"], "termSourcedId": term,
            "studentSourcedId": students[0]["sourcedId"], "teacherSourcedId": teachers[0]["sourcedId"],
            "userSourcedId": students[0]["sourcedId"]}


def fill(c: httpx.Client, template: str, ids: dict[str, str]) -> str:
    if "{sourcedId}" in template:
        name = template.split("/")[1]
        first = c.get(f"/{name}", params={"limit": 1}).json()[RESOURCES[name].envelope][0]
        return template.replace("{sourcedId}", first["sourcedId"])
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], template)


@pytest.fixture(scope="module")
def ids12(v12) -> dict[str, str]:
    return ids_for(v12)


@pytest.fixture(scope="module")
def ids11(v11) -> dict[str, str]:
    return ids_for(v11)


# -- 1.2 against the official OpenAPI document -------------------------------------------------


@pytest.mark.parametrize("template", sorted(SPEC["paths"]))
def test_every_1p2_path_matches_the_official_openapi_document(v12, ids12, template):
    path = fill(v12, template, ids12)
    response = v12.get(path, params={"limit": 50_000})
    assert response.status_code == 200, response.text
    body = response.json()
    errors = sorted(openapi_validator(response_schema(template, "200")).iter_errors(body), key=str)
    assert not errors, f"{path}: {errors[0].message} at {list(errors[0].absolute_path)}"
    (envelope, value), = body.items()
    assert value, f"{path} served an empty {envelope}: the schema check would prove nothing"
    if isinstance(value, list) and "{" not in template:
        assert len(value) == int(response.headers["X-Total-Count"])  # the whole collection was validated


@pytest.mark.parametrize(
    ("path", "status"),
    [("/users/no-such-user", "404"), ("/users?filter=nope%3D'x'", "400"), ("/classes?fields=nope", "400")],
)
def test_1p2_errors_match_the_imsx_schema(v12, path, status):
    response = v12.get(path)
    assert response.status_code == int(status)
    errors = list(openapi_validator("#/components/schemas/imsx_StatusInfoDType").iter_errors(response.json()))
    assert not errors, errors[0].message


def test_1p2_covers_every_resource_of_the_resource_table():
    served = {p.split("/")[1] for p in SPEC["paths"]}
    assert served == set(RESOURCES)


# -- 1.1 against ONEROSTER.md section 3 ---------------------------------------------------------

STATUS = {"enum": ["active", "tobedeleted"]}
STAMP = {"type": "string", "format": "date-time"}
DATE = {"type": "string", "format": "date"}
BOOL_TEXT = {"enum": ["true", "false"]}
TEXT = {"type": "string", "minLength": 1}
TEXTS = {"type": "array", "items": {"type": "string"}}


def guid_ref(*types: str) -> dict:
    return {"type": "object", "required": ["href", "sourcedId", "type"], "additionalProperties": False,
            "properties": {"href": TEXT, "sourcedId": TEXT, "type": {"enum": list(types)}}}


def record(required: list[str], properties: dict) -> dict:
    return {
        "type": "object",
        "required": ["sourcedId", "status", "dateLastModified", *required],
        "properties": {"sourcedId": TEXT, "status": STATUS, "dateLastModified": STAMP,
                       "metadata": {"type": "object"}, **properties},
    }


SESSION_REF = guid_ref("academicSession", "term", "gradingPeriod")
SHAPES_V1P1 = {
    Kind.ORG: record(["name", "type"], {
        "name": TEXT, "type": {"enum": ["department", "district", "local", "national", "school", "state"]},
        "identifier": {"type": "string"}, "parent": guid_ref("org"),
        "children": {"type": "array", "items": guid_ref("org")}}),
    Kind.ACADEMIC_SESSION: record(["title", "startDate", "endDate", "type", "schoolYear"], {
        "title": TEXT, "startDate": DATE, "endDate": DATE,
        "type": {"enum": ["gradingPeriod", "semester", "schoolYear", "term"]},
        "schoolYear": {"type": "string", "pattern": r"^\d{4}$"}, "parent": SESSION_REF,
        "children": {"type": "array", "items": SESSION_REF}}),
    Kind.COURSE: record(["title", "org"], {
        "title": TEXT, "courseCode": {"type": "string"}, "schoolYear": SESSION_REF, "grades": TEXTS,
        "subjects": TEXTS, "subjectCodes": TEXTS, "org": guid_ref("org")}),
    Kind.CLASS: record(["title", "classType", "course", "school", "terms"], {
        "title": TEXT, "classCode": {"type": "string"}, "classType": {"enum": ["homeroom", "scheduled"]},
        "location": {"type": "string"}, "grades": TEXTS, "subjects": TEXTS, "subjectCodes": TEXTS,
        "periods": TEXTS, "course": guid_ref("course"), "school": guid_ref("org"),
        "terms": {"type": "array", "minItems": 1, "items": SESSION_REF}}),
    Kind.USER: {**record(["username", "enabledUser", "givenName", "familyName", "role", "orgs"], {
        "username": {"type": "string"}, "enabledUser": BOOL_TEXT, "givenName": TEXT, "familyName": TEXT,
        "middleName": {"type": "string"}, "role": {"enum": list(ROLES_V1P1)},
        "orgs": {"type": "array", "minItems": 1, "items": guid_ref("org")},
        "userIds": {"type": "array", "items": {"type": "object", "required": ["type", "identifier"],
                                               "properties": {"type": TEXT, "identifier": TEXT}}},
        "identifier": {"type": "string"}, "email": {"type": "string"}, "sms": {"type": "string"},
        "phone": {"type": "string"}, "agents": {"type": "array", "items": guid_ref("user")}, "grades": TEXTS}),
        "not": {"anyOf": [{"required": ["roles"]}, {"required": ["primaryOrg"]}]}},  # 1.2-only fields
    Kind.ENROLLMENT: record(["user", "class", "school", "role"], {
        "user": guid_ref("user"), "class": guid_ref("class"), "school": guid_ref("org"),
        "role": {"enum": list(ENROLLMENT_ROLES)}, "primary": BOOL_TEXT, "beginDate": DATE, "endDate": DATE}),
    Kind.DEMOGRAPHICS: record([], {
        "birthDate": DATE, "sex": {"enum": ["male", "female"]},
        **{flag: BOOL_TEXT for flag in (
            "americanIndianOrAlaskaNative", "asian", "blackOrAfricanAmerican",
            "nativeHawaiianOrOtherPacificIslander", "white", "demographicRaceTwoOrMoreRaces",
            "hispanicOrLatinoEthnicity")},
        "countryOfBirthCode": {"type": "string"}, "stateOfBirthAbbreviation": {"type": "string"},
        "cityOfBirth": {"type": "string"}, "publicSchoolResidenceStatus": {"type": "string"}}),
}


def assert_v1p1_shape(kind: Kind, items: list[dict], where: str) -> None:
    validator = jsonschema.Draft7Validator(SHAPES_V1P1[kind], format_checker=FORMATS)
    for item in items:
        errors = sorted(validator.iter_errors(item), key=str)
        assert not errors, f"{where} {item.get('sourcedId')}: {errors[0].message} at {list(errors[0].absolute_path)}"


V1P1_TEMPLATES = sorted({f"/{name}" for name in RESOURCES} | {f"/{name}/{{sourcedId}}" for name in RESOURCES}
                        | {r.template.replace("{parent_id}", "{" + _p + "}").replace("{inner_id}", "{classSourcedId}")
                           for r in NESTED_ROUTES
                           for _p in [{"schools": "schoolSourcedId", "terms": "termSourcedId",
                                       "courses": "courseSourcedId", "users": "userSourcedId",
                                       "students": "studentSourcedId", "teachers": "teacherSourcedId",
                                       "classes": "classSourcedId"}[r.parent]]})


@pytest.mark.parametrize("template", V1P1_TEMPLATES)
def test_every_1p1_path_has_the_shapes_of_the_standard(v11, ids11, template):
    path = fill(v11, template, ids11)
    response = v11.get(path, params={"limit": 50_000})
    assert response.status_code == 200, response.text
    body = response.json()
    name = template.split("/")[-1] if not template.endswith("{sourcedId}") else template.split("/")[1]
    resource = RESOURCES[name]
    if template.endswith("{sourcedId}"):
        assert list(body) == [resource.single]
        items = [body[resource.single]]
    else:
        assert list(body) == [resource.envelope]
        items = body[resource.envelope]
    assert items, f"{path} served nothing: the shape check would prove nothing"
    assert_v1p1_shape(resource.kind, items, path)


def test_1p1_user_ids_are_prefixed_per_role_and_1p2_ids_are_not(v11, v12):
    students11 = v11.get("/students", params={"limit": 5}).json()["users"]
    teachers11 = v11.get("/teachers", params={"limit": 5}).json()["users"]
    students12 = v12.get("/students", params={"limit": 5}).json()["users"]
    assert all(u["sourcedId"].startswith("s") and u["role"] == "student" for u in students11)
    assert all(u["sourcedId"].startswith("t") and u["role"] == "teacher" for u in teachers11)
    assert all(u["sourcedId"].isdigit() and u["roles"][0]["role"] == "student" for u in students12)
