"""A fake OneRoster provider for unit tests, as an ``httpx.MockTransport`` handler.

Not used by rostersync itself; tests of the source layer (and of anything
that reads through :class:`~rostersync.source.client.OneRosterClient`) mount
it with ``OneRosterClient(spec, transport=FakeProvider({...}).transport)``.

It serves an Infinite Campus-shaped token endpoint and offset-paged
collections, and can misbehave on cue: throttle, fail, drop connections, time
out, cap pages, omit headers, change the data between pages. It counts
requests and the most that were in flight at once.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from urllib.parse import parse_qs

import httpx
import orjson

from rostersync.source.connection import ConnectionSpec, OAuth2Credentials

HOST = "district.example.com"
APP = "testapp"
TOKEN_URL = f"https://{HOST}/campus/oauth2/token?appName={APP}"
BASE_URL = f"https://{HOST}/campus/api/oneroster/v1p1/{APP}/ims/oneroster/v1p1"
CLIENT_ID = "rostersync-client"
CLIENT_SECRET = "s3cret-value-XYZ"

ENVELOPES = {
    "orgs": "orgs", "schools": "orgs", "academicSessions": "academicSessions", "terms": "academicSessions",
    "courses": "courses", "classes": "classes", "users": "users", "students": "users", "teachers": "users",
    "enrollments": "enrollments", "demographics": "demographics", "gradingPeriods": "academicSessions",
}


def student(i: int) -> dict:
    return {
        "sourcedId": f"s{i:06d}", "status": "active", "dateLastModified": "2026-01-01T00:00:00.000Z",
        "username": f"student{i}", "enabledUser": "true", "givenName": "Ada", "familyName": f"Pupil{i}",
        "role": "student", "orgs": [{"sourcedId": "school1", "type": "org", "href": "x"}],
        "grades": ["05"], "password": "pw-should-never-be-logged",
    }


def district(students_count: int = 20) -> dict[str, list[dict]]:
    """A small 1.1 district: every collection a full sync reads."""
    stamp = "2026-01-01T00:00:00.000Z"
    school = {"sourcedId": "school1", "type": "org"}
    term = {"sourcedId": "term1", "type": "academicSession"}
    common = {"status": "active", "dateLastModified": stamp}
    pupils = [student(i) for i in range(students_count)]
    teacher = {**student(0), "sourcedId": "t000001", "role": "teacher", "username": "teacher1"}
    return {
        "orgs": [{"sourcedId": "district1", "name": "District", "type": "district", **common},
                 {"sourcedId": "school1", "name": "School", "type": "school",
                  "parent": {"sourcedId": "district1", "type": "org"}, **common}],
        "academicSessions": [{"sourcedId": "term1", "title": "Year", "type": "schoolYear", "startDate": "2025-08-15",
                              "endDate": "2026-06-01", "schoolYear": "2026", **common}],
        "demographics": [{"sourcedId": p["sourcedId"], "birthDate": "2014-02-03", "sex": "female", **common}
                         for p in pupils],
        "students": pupils,
        "teachers": [teacher],
        "courses": [{"sourcedId": "course1", "title": "Math 5", "org": school, **common}],
        "classes": [{"sourcedId": "class1", "title": "Math 5A", "classType": "scheduled", "school": school,
                     "course": {"sourcedId": "course1", "type": "course"}, "terms": [term], **common}],
        "enrollments": [{"sourcedId": f"e{i}", "role": "student", "user": {"sourcedId": p["sourcedId"], "type": "user"},
                         "class": {"sourcedId": "class1", "type": "class"}, "school": school, **common}
                        for i, p in enumerate(pupils)],
    }


def spec(**overrides) -> ConnectionSpec:
    creds = OAuth2Credentials(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token_url=TOKEN_URL,
                              base_url=overrides.pop("base_url", BASE_URL))
    return ConnectionSpec(credentials=creds, **overrides)


class FakeProvider:
    """Call it with a request (it is the MockTransport handler)."""

    def __init__(
        self,
        collections: dict[str, list[dict]] | None = None,
        *,
        total_header: bool = True,
        link_header: bool = False,
        page_cap: int | None = None,
        token_ttl: int = 3600,
        latency: float = 0.0,
        consumer_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.collections = collections if collections is not None else {}
        self.total_header = total_header
        self.link_header = link_header
        self.page_cap = page_cap
        self.token_ttl = token_ttl
        self.latency = latency
        self.consumer_key = consumer_key  # accept OAuth 1.0a requests from this key (signature not verified)
        self.headers = headers or {}  # added to every API answer (e.g. a Date header)
        self.faults: dict[str, list] = {}  # resource -> faults to apply to its next requests, in order
        self.token_faults: list = []
        self.before_page: Callable[[str, int], None] | None = None  # (resource, offset) hook
        self.tokens: set[str] = set()
        self.token_requests = 0
        self.requests: list[httpx.Request] = []
        self.forbidden: set[str] = set()
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)

    def page_requests(self, resource: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.endswith("/" + resource)]

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            if request.url.path.endswith("/oauth2/token"):
                return self._token(request)
            return self._api(request)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _fault(self, queue: list, request: httpx.Request) -> httpx.Response | None:
        with self._lock:
            fault = queue.pop(0) if queue else None
        if fault is None:
            return None
        if isinstance(fault, httpx.Response):
            return fault
        if isinstance(fault, int):
            headers = {"Retry-After": "7"} if fault == 429 else {}
            return httpx.Response(fault, headers=headers, json={
                "imsx_codeMajor": "failure", "imsx_severity": "error", "imsx_description": f"fault {fault}"})
        if fault == "drop":
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body",
                                            request=request)
        if fault == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        if isinstance(fault, Exception):
            raise fault
        raise AssertionError(f"unknown fault {fault!r}")

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests += 1
        faulted = self._fault(self.token_faults, request)
        if faulted is not None:
            return faulted
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return httpx.Response(401, json={"error": "invalid_client"})
        token = f"tok-{self.token_requests}-abcdefgh"
        self.tokens.add(token)
        return httpx.Response(200, json={"access_token": token, "token_type": "Bearer",
                                         "expires_in": self.token_ttl})

    def _api(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization", "")
        if self.consumer_key is not None:
            accepted = auth.startswith("OAuth ") and f'oauth_consumer_key="{self.consumer_key}"' in auth
        else:
            accepted = auth.startswith("Bearer ") and auth[7:] in self.tokens
        if not accepted:
            return httpx.Response(401, headers=self.headers,
                                  json={"imsx_codeMajor": "failure", "imsx_description": "unauthorised request"})
        resource = request.url.path.rsplit("/", 1)[-1]
        faulted = self._fault(self.faults.setdefault(resource, []), request)
        if faulted is not None:
            return faulted
        if resource in self.forbidden:
            return httpx.Response(403, json={"imsx_codeMajor": "failure",
                                             "imsx_description": f"{resource} not shared"})
        if resource not in self.collections:
            return httpx.Response(404, json={"imsx_codeMajor": "failure", "imsx_description": "unknown"})
        query = parse_qs(request.url.query.decode())
        limit = int(query.get("limit", ["100"])[0])
        offset = int(query.get("offset", ["0"])[0])
        if self.page_cap:
            limit = min(limit, self.page_cap)
        if self.before_page:
            self.before_page(resource, offset)
        rows = self.collections[resource]
        if "filter" in query:
            bound = query["filter"][0].split("'")[1]
            rows = [r for r in rows if r.get("dateLastModified", "") > bound]
        page = rows[offset: offset + limit]
        headers = {"Content-Type": "application/json", **self.headers}
        if self.total_header:
            headers["X-Total-Count"] = str(len(rows))
        if self.link_header:
            links = []
            if offset + limit < len(rows):
                links.append(f'<{request.url.copy_merge_params({"offset": offset + limit})}>; rel="next"')
            links.append(f'<{request.url.copy_merge_params({"offset": 0})}>; rel="first"')
            headers["Link"] = ", ".join(links)
        body = orjson.dumps({ENVELOPES[resource]: page})
        return httpx.Response(200, headers=headers, content=body)
