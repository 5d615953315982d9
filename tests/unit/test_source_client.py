"""The OneRoster client against a fake provider on httpx.MockTransport."""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import logging
import time

import httpx
import pytest

from rostersync.oneroster.records import RecordError, User
from rostersync.source.client import OneRosterClient
from rostersync.source.errors import (
    BadRequest,
    CredentialsRefused,
    Forbidden,
    InvalidResponse,
    NotFound,
    ProviderUnavailable,
    RateLimited,
)
from rostersync.source.connection import ConnectionSpec, OAuth2Credentials
from rostersync.source.profiles import GENERIC, INFINITE_CAMPUS
from rostersync.source.testing import BASE_URL, CLIENT_ID, TOKEN_URL, FakeProvider, spec, student

IC_SMALL = dataclasses.replace(INFINITE_CAMPUS, page_size=10)


class FakeClock:
    """Wall clock at a fixed off-peak moment; sleep() advances it and is recorded."""

    def __init__(self, start: datetime.datetime = datetime.datetime(2026, 3, 7, 12, tzinfo=datetime.timezone.utc)):
        self.now = start.timestamp()
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def make_client(provider: FakeProvider, *, profile=IC_SMALL, clock=None, **kw) -> OneRosterClient:
    clock = clock or FakeClock()
    return OneRosterClient(kw.pop("spec", spec()), transport=provider.transport, profile=profile,
                           clock=clock, sleep=clock.sleep, **kw)


def ids(items) -> list[str]:
    return [item.sourced_id for item in items]


def students(n: int) -> list[dict]:
    return [student(i) for i in range(n)]


def test_reads_every_page_in_order_into_typed_records():
    provider = FakeProvider({"students": students(95)})
    with make_client(provider) as client:
        records = list(client.read("students"))
    assert ids(records) == [f"s{i:06d}" for i in range(95)]
    assert all(isinstance(r, User) and r.role == "student" for r in records)
    assert client.stats.records == 95 and client.stats.pages == 10
    # 10 pages and one token: no wasted request past the end when the total is known
    assert len(provider.page_requests("students")) == 10
    assert provider.token_requests == 1


def test_empty_collection_is_one_request_and_no_records():
    provider = FakeProvider({"students": []})
    with make_client(provider) as client:
        assert list(client.read("students")) == []
    assert len(provider.page_requests("students")) == 1


@pytest.mark.parametrize("link_header,total_header", [(True, False), (False, False), (True, True)])
def test_end_of_collection_without_total_or_link(link_header, total_header):
    provider = FakeProvider({"students": students(30)}, link_header=link_header, total_header=total_header)
    with make_client(provider) as client:
        assert ids(client.read("students")) == [f"s{i:06d}" for i in range(30)]


def test_a_provider_that_silently_caps_the_page_size_is_read_past_page_one():
    provider = FakeProvider({"students": students(23)}, total_header=False, page_cap=4)
    with make_client(provider) as client:
        assert len(list(client.read("students"))) == 23
    # once the cap is seen, pages are asked at that size
    assert provider.page_requests("students")[-1].url.params["limit"] == "4"


def test_a_capped_provider_with_total_is_read_with_the_cap_as_step():
    provider = FakeProvider({"students": students(23)}, page_cap=4)
    with make_client(provider) as client:
        assert ids(client.read("students")) == [f"s{i:06d}" for i in range(23)]


def test_cursor_links_are_followed_as_given():
    rows = students(7)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return httpx.Response(200, json={"access_token": "tok-cursor-123", "expires_in": 3600})
        cursor = int(request.url.params.get("cursor", "0"))
        headers = {}
        if cursor + 3 < len(rows):
            headers["Link"] = f'<{BASE_URL}/students?cursor={cursor + 3}>; rel="next"'
        return httpx.Response(200, headers=headers, json={"users": rows[cursor:cursor + 3]})

    client = OneRosterClient(spec(), transport=httpx.MockTransport(handler), profile=IC_SMALL)
    assert ids(client.read("students")) == [f"s{i:06d}" for i in range(7)]


def test_next_link_to_another_host_is_refused():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return httpx.Response(200, json={"access_token": "tok-xyz-1234", "expires_in": 3600})
        return httpx.Response(200, headers={"Link": '<https://evil.example.net/steal?offset=3>; rel="next"'},
                              json={"users": students(3)})

    client = OneRosterClient(spec(), transport=httpx.MockTransport(handler), profile=IC_SMALL)
    with pytest.raises(InvalidResponse, match="another host"):
        list(client.read("students"))


def test_transient_faults_are_retried_and_every_record_arrives_once():
    provider = FakeProvider({"students": students(50)})
    provider.faults["students"] = [None, 429, 503, None, "drop", "timeout", None, 502, 504, None, 500]
    clock = FakeClock()
    with make_client(provider, clock=clock, peak=True) as client:
        assert ids(client.read("students")) == [f"s{i:06d}" for i in range(50)]
    assert client.stats.retries == 7
    # Retry-After: 7 was honoured (at least 7 s waited before the retry)
    assert any(s >= 7 for s in clock.sleeps)
    assert client.stats.seconds_waited >= 7


def test_faults_under_concurrency_still_give_every_record_once():
    provider = FakeProvider({"students": students(200)}, latency=0.002)
    provider.faults["students"] = [None, 503, None, None, "drop", None, None, 429, None, None, "timeout"]
    with make_client(provider) as client:
        got = ids(client.read("students"))
    assert got == [f"s{i:06d}" for i in range(200)]
    assert client.stats.retries == 4


def test_retry_after_holds_back_every_thread():
    provider = FakeProvider({"students": students(100)})
    provider.faults["students"] = [None, httpx.Response(429, headers={"Retry-After": "30"})]
    clock = FakeClock()
    with make_client(provider, clock=clock) as client:
        assert len(list(client.read("students"))) == 100
    assert sum(clock.sleeps) >= 30


def test_retries_are_bounded_in_count():
    provider = FakeProvider({"students": students(5)})
    provider.faults["students"] = [503] * 50
    profile = dataclasses.replace(IC_SMALL, max_attempts=4)
    with make_client(provider, profile=profile) as client, pytest.raises(ProviderUnavailable, match="503"):
        list(client.read("students"))
    assert len(provider.page_requests("students")) == 4


def test_retries_are_bounded_in_time():
    provider = FakeProvider({"students": students(5)})
    provider.faults["students"] = [httpx.Response(429, headers={"Retry-After": "100"})] * 10
    profile = dataclasses.replace(IC_SMALL, retry_budget=250)
    with make_client(provider, profile=profile) as client, pytest.raises(RateLimited) as caught:
        list(client.read("students"))
    assert caught.value.retry_after == 100
    assert len(provider.page_requests("students")) == 3  # 100 + 100 s waited, a third wait would pass 250


def test_bad_credentials_are_terminal_without_a_retry_storm():
    provider = FakeProvider({"students": students(5)})
    bad = ConnectionSpec(credentials=OAuth2Credentials(client_id=CLIENT_ID, client_secret="wrong-secret",
                                                       token_url=TOKEN_URL, base_url=BASE_URL))
    with make_client(provider, spec=bad) as client, pytest.raises(CredentialsRefused) as caught:
        list(client.read("students"))
    assert provider.token_requests <= 2  # Basic, then the form body: no retries
    assert provider.page_requests("students") == []
    assert caught.value.fix


@pytest.mark.parametrize("status,error", [(403, Forbidden), (404, NotFound), (400, BadRequest), (401, CredentialsRefused)])
def test_http_errors_are_typed_and_quote_the_imsx_description(status, error):
    provider = FakeProvider({"demographics": []})
    provider.faults["demographics"] = [httpx.Response(status, json={
        "imsx_codeMajor": "failure", "imsx_CodeMinor": {"imsx_codeMinorField": [
            {"imsx_codeMinorFieldName": "x", "imsx_codeMinorFieldValue": "forbidden"}]},
        "imsx_description": "Demographics are not part of this connection"})] * 3
    with make_client(provider) as client, pytest.raises(error, match="Demographics are not part"):
        list(client.read("demographics"))


def test_a_200_without_the_envelope_is_an_error_not_an_empty_roster():
    provider = FakeProvider({"students": []})
    provider.faults["students"] = [httpx.Response(200, json={"data": [], "count": 0})]
    with make_client(provider) as client, pytest.raises(InvalidResponse, match="no 'users' list.*'data'"):
        list(client.read("students"))


def test_an_accepted_envelope_alias_is_read():
    provider = FakeProvider({"students": []})
    provider.faults["students"] = [httpx.Response(200, json={"students": students(2)})]
    with make_client(provider) as client:
        assert len(list(client.read("students"))) == 2


def test_an_html_page_is_reported_as_not_the_api():
    provider = FakeProvider({})
    provider.faults["students"] = [httpx.Response(200, headers={"Content-Type": "text/html"},
                                                  text="<!DOCTYPE html><html>Campus login</html>")]
    with make_client(provider) as client, pytest.raises(InvalidResponse, match="web page") as caught:
        list(client.read("students"))
    assert "Base URL" in caught.value.fix


def test_a_malformed_record_is_yielded_as_an_error_and_reading_goes_on():
    rows = students(4)
    rows[1] = {"status": "active", "givenName": "No Id"}
    provider = FakeProvider({"students": rows})
    with make_client(provider) as client:
        items = list(client.read("students"))
    assert len(items) == 4
    assert isinstance(items[1], RecordError) and "sourcedId" in str(items[1])


def test_a_record_inserted_mid_read_is_read_and_none_twice():
    rows = students(60)
    provider = FakeProvider({"students": rows})
    inserted = []

    def insert_early(resource: str, offset: int) -> None:
        if offset == 30 and not inserted:  # shifts every later record by one
            inserted.append(student(999_999) | {"sourcedId": "a-new-student"})
            rows.insert(0, inserted[0])

    provider.before_page = insert_early
    with make_client(provider, peak=True) as client:
        got = ids(client.read("students"))
    assert sorted(got) == sorted(r["sourcedId"] for r in rows)
    assert len(got) == len(set(got)) == 61
    assert client.stats.rereads == 1


def test_a_record_deleted_mid_read_does_not_make_another_skipped():
    rows = students(60)
    provider = FakeProvider({"students": rows})
    deleted = []

    def delete_early(resource: str, offset: int) -> None:
        if offset == 30 and not deleted:  # shifts every later record back by one
            deleted.append(rows.pop(0)["sourcedId"])

    provider.before_page = delete_early
    with make_client(provider, peak=True) as client:
        got = ids(client.read("students"))
    assert set(r["sourcedId"] for r in rows) <= set(got)
    assert len(got) == len(set(got))


def test_a_collection_that_keeps_changing_fails_instead_of_returning_a_guess():
    rows = students(30)
    provider = FakeProvider({"students": rows})
    counter = itertools.count()

    def always_insert(resource: str, offset: int) -> None:
        if offset == 10:
            rows.insert(0, student(500_000 + next(counter)))

    provider.before_page = always_insert
    with make_client(provider, peak=True) as client, pytest.raises(ProviderUnavailable, match="kept changing"):
        list(client.read("students"))


def test_a_total_the_provider_does_not_serve_fails_the_collection():
    provider = FakeProvider({"students": students(10)})
    provider.faults["students"] = [httpx.Response(200, headers={"X-Total-Count": "25"},
                                                  json={"users": students(10)})] + [
        httpx.Response(200, headers={"X-Total-Count": "25"}, json={"users": []})] * 3
    profile = dataclasses.replace(IC_SMALL, max_read_passes=1)
    with make_client(provider, profile=profile) as client, pytest.raises(InvalidResponse, match="said 25"):
        list(client.read("students"))


def test_a_provider_that_ignores_offset_is_caught():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return httpx.Response(200, json={"access_token": "tok-same-page", "expires_in": 3600})
        return httpx.Response(200, json={"users": students(10)})  # always the first page

    client = OneRosterClient(spec(), transport=httpx.MockTransport(handler), profile=IC_SMALL)
    with pytest.raises(InvalidResponse, match="ignore offset"):
        list(client.read("students"))


def test_the_page_count_has_a_hard_bound():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return httpx.Response(200, json={"access_token": "tok-forever-1", "expires_in": 3600})
        offset = int(request.url.params["offset"])
        return httpx.Response(200, headers={"Link": f'<{BASE_URL}/students?offset={offset + 2}&limit=2>; rel="next"'},
                              json={"users": [student(offset), student(offset + 1)]})

    profile = dataclasses.replace(GENERIC, page_size=2, max_pages=20)
    client = OneRosterClient(spec(), transport=httpx.MockTransport(handler), profile=profile)
    with pytest.raises(InvalidResponse, match="hard limit"):
        list(client.read("students"))


def test_concurrency_stays_within_the_profile_off_peak_and_at_peak():
    provider = FakeProvider({"students": students(300)}, latency=0.01)
    with make_client(provider) as client:  # a Saturday: off-peak
        assert len(list(client.read("students"))) == 300
    assert 2 <= provider.max_in_flight <= 5
    assert client.stats.max_in_flight <= 5

    provider = FakeProvider({"students": students(100)}, latency=0.01)
    tuesday_10am_chicago = FakeClock(datetime.datetime(2026, 3, 10, 16, tzinfo=datetime.timezone.utc))
    with make_client(provider, clock=tuesday_10am_chicago) as client:
        assert client.concurrency() == 1
        assert len(list(client.read("students"))) == 100
    assert provider.max_in_flight == 1


def test_look_ahead_is_bounded_when_the_consumer_is_slow():
    provider = FakeProvider({"students": students(1000)})
    with make_client(provider) as client:
        reader = client.read("students")
        first = [next(reader) for _ in range(15)]  # into the second page
        import time

        time.sleep(0.2)  # let the prefetchers run as far as they may
        requested = len(provider.page_requests("students"))
        reader.close()
    assert len(first) == 15
    assert requested <= 2 + 5  # the page being read, the next, and at most 5 ahead


def test_a_token_expiring_mid_read_is_refreshed_once():
    provider = FakeProvider({"students": students(50)})

    def expire(resource: str, offset: int) -> None:
        if offset == 20 and provider.token_requests == 1:
            provider.revoke_tokens()

    provider.before_page = expire
    with make_client(provider, peak=True) as client:
        assert len(list(client.read("students"))) == 50
    assert provider.token_requests == 2


def test_delta_reads_filter_on_date_last_modified_with_milliseconds():
    rows = students(3)
    rows[2]["dateLastModified"] = "2026-05-02T10:00:00.000Z"
    provider = FakeProvider({"students": rows})
    with make_client(provider) as client:
        got = ids(client.read("students", since=datetime.datetime(2026, 5, 1, 8, 30, tzinfo=datetime.timezone.utc)))
    assert got == ["s000002"]
    assert provider.page_requests("students")[0].url.params["filter"] == "dateLastModified>'2026-05-01T08:30:00.000Z'"


def test_count_and_get():
    provider = FakeProvider({"students": students(42)})
    with make_client(provider) as client:
        assert client.count("students") == 42
    assert provider.page_requests("students")[0].url.params["limit"] == "1"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token"):
            return httpx.Response(200, json={"access_token": "tok-get-1234", "expires_in": 3600})
        if request.url.raw_path.endswith(b"/students/s%2F1"):
            return httpx.Response(200, json={"user": student(1) | {"sourcedId": "s/1"}})
        return httpx.Response(404, json={"imsx_codeMajor": "failure", "imsx_description": "unknownobject"})

    client = OneRosterClient(spec(), transport=httpx.MockTransport(handler), profile=IC_SMALL)
    assert client.get("students", "s/1").sourced_id == "s/1"
    with pytest.raises(NotFound):
        client.get("students", "nobody")


def test_an_unknown_collection_name_is_a_clear_error():
    with make_client(FakeProvider()) as client, pytest.raises(ValueError, match="'pupils' is not a OneRoster collection"):
        client.read("pupils")


def test_no_secret_token_or_record_reaches_a_log_line(caplog):
    provider = FakeProvider({"students": students(30)})
    provider.faults["students"] = [None, 429, "drop"]

    def expire(resource: str, offset: int) -> None:
        if offset == 20 and provider.token_requests == 1:
            provider.revoke_tokens()

    provider.before_page = expire
    caplog.set_level(logging.DEBUG)
    with make_client(provider, peak=True) as client:
        list(client.read("students"))
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "retrying" in text  # something was logged
    for secret in ("s3cret-value-XYZ", "tok-1-abcdefgh", "tok-2-abcdefgh", "pw-should-never-be-logged", "Pupil3"):
        assert secret not in text


def test_a_prefetched_first_page_is_the_one_the_read_uses():
    provider = FakeProvider({"students": students(25), "teachers": students(3)})
    with make_client(provider) as client:
        client.prefetch("students")
        client.prefetch("students")  # asked twice, fetched once
        deadline = time.monotonic() + 5
        while not provider.page_requests("students") and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(provider.page_requests("students")) == 1  # asked for before any read
        assert ids(client.read("students")) == [f"s{i:06d}" for i in range(25)]
        assert len(provider.page_requests("students")) == 3  # the first page was not fetched again
        client.prefetch("teachers")  # never read: dropped when the client closes
    assert len(provider.page_requests("teachers")) <= 1
