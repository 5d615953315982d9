"""What the sandbox serves is fixed to the byte for a given seed, size, day and version.

The digests below were captured from the sandbox before its rendering was
optimised, and captured again once after one deliberate fix (students born in
California were given Canadian cities and Canadian-born students a US state:
only cityOfBirth, stateOfBirthAbbreviation and countryOfBirthCode of those
records changed, checked field by field). Any change to a served byte (a value, a key's order, a header, a
page boundary, where a streamed body splits into chunks) changes a digest.
They cover every record of every kind in both versions (the district's views,
their slices and single-record lookups) and the provider's answers over it:
every collection paged by offset, big pages that split into several chunks,
``fields``, ``filter``, ``sort``, nested routes, single records, errors, and a
record put in front by the ``insert_record`` fault.
"""

from __future__ import annotations

import hashlib

import orjson
import pytest

from rostersync.oneroster.kinds import Kind, Version
from rostersync.oneroster.resources import NESTED_ROUTES, RESOURCES
from rostersync.provider import OneRosterService
from rostersync.sandbox.district import District, generate
from rostersync.sandbox.overlay import OverlaySource

BASE = "http://127.0.0.1:8123/campus/api/oneroster/v1p1/rostersync/ims/oneroster/v1p1"

# (seed, students, school days played) -> (records digest, served digest)
EXPECTED = {
    (7, 400, 0): ("092ba97c5a338335ed7e306ad2df45f8ed541ec181ca36c695cf95d0f50a09b9",
                  "9ee2f43a8720acccd54bc00992a0d6b49a9889aacb62223e30c0b483bb5638ae"),
    (7, 400, 4): ("5f76e818a85f9f2ec130cb07cf6df30c79d69c8d3e3656a0275a84a2332eb615",
                  "9076fca7a526efda57abed11ccbb1332a29ed618975ef222038119e83d25436d"),
    (3, 1500, 25): ("b0439d6b241135532d23819f4b17fbd60246baca95115b8091a1f4c2c5b65224",
                    "a9ac0596ec2a330c8efffc934bb65487cdeb80fe07403eccac3b0e1adc254279"),
}


def _feed(h, data: bytes) -> None:
    h.update(len(data).to_bytes(8, "big"))
    h.update(data)


def records_digest(d: District) -> str:
    """Every record of every kind, each version: the whole view, slices, and each record by id."""
    h = hashlib.sha256()
    for kind in Kind:
        for version in Version:
            view = d.records(kind, version)
            records = list(view)
            _feed(h, orjson.dumps(records))
            _feed(h, orjson.dumps([view[i] for i in range(len(view))]))
            _feed(h, orjson.dumps([view[-1], view[3:17], view[::7]] if len(view) else []))
            for record in records:
                _feed(h, orjson.dumps(d.get(kind, record["sourcedId"], version)))
            _feed(h, orjson.dumps(d.changed_since(kind, "2026-08-16T23:00:00.000Z", version)))
    return h.hexdigest()


def _feed_response(h, service: OneRosterService, path: str, query: list[tuple[str, str]]) -> dict:
    response = service.handle(path, query, BASE)
    chunks = list(response.body)
    _feed(h, f"{path} {query} {response.status}".encode())
    _feed(h, orjson.dumps(sorted(response.headers.items())))
    for chunk in chunks:  # chunk boundaries matter: the drop fault cuts the first real chunk
        _feed(h, chunk)
    return orjson.loads(b"".join(chunks)) if response.status == 200 else {}


def served_digest(d: District) -> str:
    """The provider's answers over the district, as the sandbox wires it (an OverlaySource)."""
    h = hashlib.sha256()
    source = OverlaySource(d)
    for version in Version:
        service = OneRosterService(source, version=version, max_limit=50_000, chunk_records=2000)
        resources = [r for r in RESOURCES.values() if version in r.versions]
        for resource in resources:
            path = resource.path
            total = int(service.handle(path, [("limit", "1")], BASE).headers["X-Total-Count"])
            for offset in range(0, total + 1, 97):
                _feed_response(h, service, path, [("limit", "97"), ("offset", str(offset)),
                                                  ("oauth_nonce", "x"), ("cb", "1 2")])
            _feed_response(h, service, path, [("limit", "5000")])
            _feed_response(h, service, path, [("limit", "4100"), ("offset", "3")])
            _feed_response(h, service, path, [("limit", "30"), ("offset", "11"),
                                              ("fields", "sourcedId,dateLastModified,status,nope")])
            _feed_response(h, service, path, [("limit", "40"), ("sort", "dateLastModified"),
                                              ("orderBy", "desc")])
            _feed_response(h, service, path, [("limit", "40"),
                                              ("filter", "dateLastModified>'2026-08-17T00:00:00.000Z'")])
            body = _feed_response(h, service, path, [("limit", "3")])
            for record in body.get(resource.envelope, []):
                _feed_response(h, service, f"{path}/{record['sourcedId']}", [("fields", "sourcedId,status")])
                _feed_response(h, service, f"{path}/{record['sourcedId']}", [])
            _feed_response(h, service, f"{path}/nope", [])
        for route in NESTED_ROUTES:
            parent = RESOURCES[route.parent]
            if version not in parent.versions:
                continue
            parents = _feed_response(h, service, parent.path, [("limit", "2"), ("offset", "1")])
            for record in parents.get(parent.envelope, []):
                if route.inner:
                    inner = _feed_response(h, service, f"{parent.path}/{record['sourcedId']}/{route.inner}",
                                           [("limit", "2")])
                    for item in inner.get("classes", []):
                        _feed_response(h, service, f"{parent.path}/{record['sourcedId']}/{route.inner}/"
                                                   f"{item['sourcedId']}/{route.target}", [("limit", "500")])
                else:
                    _feed_response(h, service, f"{parent.path}/{record['sourcedId']}/{route.target}",
                                   [("limit", "500")])
        # the insert_record fault: a copy of the first record in front, later offsets shift
        for name in ("students", "enrollments", "orgs"):
            resource = RESOURCES[name]
            records = source.records(resource.kind, version)
            positions = service.indexes().selection(resource, version, records, source)
            source.insert_copy(resource.kind, version, records[positions[0]], stamp=d.now)
            _feed_response(h, service, resource.path, [("limit", "50")])
            _feed_response(h, service, resource.path, [("limit", "50"), ("offset", "50")])
    return h.hexdigest()


def _district(case: tuple[int, int, int]) -> District:
    seed, students, days = case
    d = generate(seed=seed, students=students)
    d.advance(days)  # day by day, as a running sandbox does
    return d


CASE_IDS = "seed{}-students{}-day{}".format


@pytest.mark.parametrize("case", list(EXPECTED), ids=lambda c: CASE_IDS(*c))
def test_every_record_of_every_kind_renders_byte_for_byte_as_before(case):
    assert records_digest(_district(case)) == EXPECTED[case][0]


@pytest.mark.parametrize("case", list(EXPECTED), ids=lambda c: CASE_IDS(*c))
def test_every_response_the_provider_serves_is_byte_for_byte_as_before(case):
    assert served_digest(_district(case)) == EXPECTED[case][1]
