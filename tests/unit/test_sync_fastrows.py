"""The fast route to a staged row must agree with the general route, or step aside."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rostersync.oneroster.kinds import Kind, Version
from rostersync.oneroster.records import MAX_STRING, RecordError, parse_record
from rostersync.sandbox.district import generate
from rostersync.sync.fastrows import fast_values
from rostersync.sync.rows import RowRefused, staged_values
from rostersync.sync.testing import district_collections

FAST_KINDS = {"students": Kind.USER, "teachers": Kind.USER, "enrollments": Kind.ENROLLMENT,
              "demographics": Kind.DEMOGRAPHICS}


def general(kind: Kind, obj, collection: str, version: Version):
    """What the general route stages without a warning, or None when it would warn or refuse."""
    try:
        record = parse_record(kind, obj, version)
    except RecordError:
        return None
    if record.problems:
        return None
    try:
        return staged_values(record, collection)
    except RowRefused:
        return None


def agrees(kind: Kind, obj, collection: str, version: Version) -> tuple | None:
    fast = fast_values(kind, obj, collection, version)
    if fast is not None:
        assert fast == general(kind, obj, collection, version), obj
    return fast


@pytest.fixture(scope="module", params=[Version.V1P1, Version.V1P2], ids=["1.1", "1.2"])
def district(request):
    return request.param, district_collections(generate(seed=11, students=40), request.param)


def test_every_plain_sandbox_record_takes_the_fast_route_with_the_same_row(district):
    version, collections = district
    taken = 0
    for collection, kind in FAST_KINDS.items():
        for obj in collections[collection]:
            assert agrees(kind, obj, collection, version) is not None, obj
            taken += 1
    assert taken > 100


def test_other_kinds_always_take_the_general_route(district):
    version, collections = district
    for collection in ("orgs", "academicSessions", "courses", "classes"):
        for obj in collections[collection]:
            assert fast_values(Kind(collections and _kind(collection)), obj, collection, version) is None


def _kind(collection: str) -> str:
    from rostersync.oneroster.resources import RESOURCES

    return RESOURCES[collection].kind.value


def test_passwords_never_reach_the_row(district):
    version, collections = district
    user = dict(collections["students"][0], password="hunter2-secret",
                userProfiles=[{"profileId": "p", "credentials": [{"username": "u", "password": "pw-secret"}]}])
    row = agrees(Kind.USER, user, "students", version)
    assert row is not None
    assert "secret" not in row[-2]


def test_a_1_2_user_with_roles_reads_its_primary_role_and_every_org(district):
    version, collections = district
    user = dict(collections["students"][0])
    user.pop("role", None)
    user.pop("orgs", None)
    user["roles"] = [
        {"roleType": "secondary", "role": "aide", "org": {"sourcedId": "9"}},
        {"roleType": "primary", "role": "student", "org": {"sourcedId": "7"}},
        {"roleType": "secondary", "role": "aide", "org": {"sourcedId": "9"}},
    ]
    row = agrees(Kind.USER, user, "students", version)
    assert row is not None
    values = dict(zip(_columns(Kind.USER), row))
    assert values["role"] == "student"
    assert values["org_sourced_ids"] == '["9","7"]'


def _columns(kind: Kind):
    from rostersync.store.staging import value_columns

    return value_columns(kind)


ODD_VALUES = [
    None, "", " ", "  x  ", "x" * (MAX_STRING + 1), 0, 1, 1.5, True, False, "true", "True", "false", "yes",
    [], ["a"], [1], [None], ["a", 2], {}, {"sourcedId": ""}, {"sourcedId": " 5 "}, {"sourcedId": 5},
    {"sourcedId": "x", "type": "user"}, [{"sourcedId": "x"}], [{"sourcedId": ""}], ["x"], "ext:custom",
    "inactive", "tobedeleted", "active", "student", "teacher", "aide", "male", "other", "a,b",
    "2026-01-01T00:00:00Z", "not a date", {"ic": {}}, [{"type": "x", "identifier": 1}], [3],
    [{"roleType": "primary", "role": "student"}], [{"roleType": "primary", "role": "ext:x"}],
    [{"role": "teacher"}], [{"roleType": "secondary", "role": "aide", "org": "9"}],
]
FIELDS = [
    "sourcedId", "status", "dateLastModified", "metadata", "username", "enabledUser", "givenName", "familyName",
    "middleName", "preferredFirstName", "preferredGivenName", "preferredMiddleName", "preferredLastName",
    "preferredFamilyName", "pronouns", "roles", "role", "orgs", "userIds", "userMasterIdentifier", "identifier",
    "email", "sms", "phone", "agents", "grades", "primaryOrg", "user", "class", "school", "primary", "beginDate",
    "endDate", "birthDate", "sex", "white", "asian", "cityOfBirth", "countryOfBirthCode",
    "publicSchoolResidenceStatus", "password", "userProfiles", "unknownField",
]


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_records_agree_or_take_the_general_route(district, data):
    version, collections = district
    collection = data.draw(st.sampled_from(sorted(FAST_KINDS)))
    kind = FAST_KINDS[collection]
    obj = copy.deepcopy(data.draw(st.sampled_from(collections[collection][:20])))
    for _ in range(data.draw(st.integers(1, 3))):
        field = data.draw(st.sampled_from(FIELDS))
        if data.draw(st.booleans()) and field in obj:
            del obj[field]
        else:
            obj[field] = copy.deepcopy(data.draw(st.sampled_from(ODD_VALUES)))
    agrees(kind, obj, collection, version)


@pytest.mark.parametrize("obj", [None, 5, "x", [], {"sourcedId": None}, {"sourcedId": "x" * 300}])
def test_values_that_are_not_records_take_the_general_route(obj):
    assert fast_values(Kind.ENROLLMENT, obj, "enrollments", Version.V1P1) is None


def test_every_single_odd_value_in_every_field_agrees_or_takes_the_general_route(district):
    version, collections = district
    fast = 0
    for collection, kind in FAST_KINDS.items():
        base = collections[collection][0]
        for field in FIELDS:
            variants = [{k: v for k, v in base.items() if k != field}]
            variants += [{**base, field: copy.deepcopy(value)} for value in ODD_VALUES]
            for obj in variants:
                fast += agrees(kind, obj, collection, version) is not None
    assert fast > 1000  # most odd values of fields a kind does not read change nothing
