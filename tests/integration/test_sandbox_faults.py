"""Every fault switch of the sandbox over loopback HTTP, asserted through its counters."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from rostersync.oneroster.imsx import parse_status
from rostersync.oneroster.kinds import Kind, Version
from rostersync.sandbox import start_sandbox
from rostersync.sandbox.district import generate
from rostersync.source.auth import OAuth1Signer, OAuth2ClientCredentials


@pytest.fixture(scope="module")
def district():
    return generate(seed=4, students=300)


@pytest.fixture
def box(district) -> Iterator:
    with start_sandbox(district=district) as sandbox:
        yield sandbox


@pytest.fixture
def c(box) -> Iterator[httpx.Client]:
    creds = box.credentials
    token = httpx.post(creds.token_url, data={"grant_type": "client_credentials"},
                       auth=(creds.client_id, creds.client_secret)).json()["access_token"]
    with httpx.Client(base_url=creds.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        yield client


def test_no_fault_fires_unless_switched_on(box, c):
    for path in ("/orgs", "/students?limit=10", "/students?limit=10&offset=10", "/classes"):
        response = c.get(path)
        assert response.status_code == 200 and "X-Total-Count" in response.headers and "Link" in response.headers
    assert set(box.stats.faults.values()) == {0}
    assert box.stats.max_in_flight == 1


def test_rate_limit_answers_429_with_retry_after_on_a_fraction(box, c):
    box.faults.set(rate_limit=0.4, retry_after=2, seed=1)
    statuses = []
    for i in range(60):
        response = c.get("/orgs", params={"offset": i % 7})
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert response.headers["Retry-After"] == "2"
            assert parse_status(response.content).minor == "server_busy"
    limited = statuses.count(429)
    assert 10 < limited < 40 and set(statuses) == {200, 429}
    assert box.stats.faults["rate_limit"] == limited == box.stats.statuses[429]


def test_rate_limit_is_the_same_for_the_same_seed(district):
    def run() -> list[int]:
        with start_sandbox(district=district, faults={"rate_limit": 0.5, "seed": 42}) as sandbox:
            creds = sandbox.credentials
            token = httpx.post(creds.token_url, data={"grant_type": "client_credentials"},
                               auth=(creds.client_id, creds.client_secret)).json()["access_token"]
            with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
                return [client.get(creds.base_url + f"/courses?offset={i}").status_code for i in range(30)]

    first = run()
    assert first == run() and 429 in first and 200 in first


@pytest.mark.parametrize("status", [500, 502, 503])
def test_fail_once_fails_the_first_request_to_each_path_then_succeeds(box, c, status):
    box.faults.set(fail_once=status)
    first = c.get("/classes", params={"limit": 5})
    assert first.status_code == status
    if status == 500:
        assert parse_status(first.content).minor == "internal_server_error"
    else:  # what a load balancer in front of the SIS sends: HTML, not JSON
        assert first.headers["content-type"].startswith("text/html")
    assert c.get("/classes", params={"limit": 5}).status_code == 200
    assert c.get("/classes", params={"limit": 6}).status_code == status  # another query: another path
    assert c.get("/classes", params={"limit": 6}).status_code == 200
    assert box.stats.faults["fail_once"] == 2 and box.stats.statuses[status] == 2


def test_slow_responses_and_the_most_requests_in_flight(box, c):
    box.faults.set(delay=0.4)
    started = time.monotonic()
    assert c.get("/orgs").status_code == 200
    assert time.monotonic() - started >= 0.4
    assert box.stats.max_in_flight == 1

    barrier, results = threading.Barrier(5), []

    def fetch(i: int) -> None:
        barrier.wait()
        results.append(c.get("/courses", params={"offset": i}).status_code)

    threads = [threading.Thread(target=fetch, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 5
    assert box.stats.max_in_flight >= 4  # five requests, each held 0.4 s, started together
    assert box.stats.faults["delay"] == 6


@pytest.mark.parametrize("path", ["/users?limit=5", "/users?limit=3000", "/orgs"])
def test_drop_cuts_the_connection_mid_body(box, c, path):
    box.faults.set(drop=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        c.get(path)
    with c.stream("GET", path) as response:  # the status and part of the body arrive first
        assert response.status_code == 200
        received = b""
        with pytest.raises(httpx.RemoteProtocolError):
            for chunk in response.iter_bytes():
                received += chunk
        assert received.startswith(b'{"')
    assert box.stats.faults["drop"] == 2
    box.faults.set(drop=0.0)
    assert c.get(path).status_code == 200


def test_drop_also_cuts_classic_responses(box):
    creds = box.credentials
    box.faults.set(drop=1.0)
    auth = OAuth1Signer(consumer_key=creds.consumer_key, consumer_secret=creds.consumer_secret)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(creds.oneroster_url + "/orgs", auth=auth)
    assert box.stats.faults["drop"] == 1


def test_tokens_expire_mid_run_and_a_client_recovers_with_a_new_token(box):
    box.faults.set(expire_tokens_after=3)
    creds = box.credentials
    auth = OAuth2ClientCredentials(client_id=creds.client_id, client_secret=creds.client_secret,
                                   token_url=creds.token_url)
    with httpx.Client(base_url=creds.base_url, auth=auth) as client:
        statuses = [client.get("/orgs", params={"offset": i}).status_code for i in range(6)]
    assert statuses == [200] * 6  # the 4th request got a 401, a new token and a retry
    assert auth.token_requests == 2 and box.stats.tokens_issued == 2
    assert box.stats.faults["expire_tokens"] == 1 and box.stats.statuses[401] == 1


def test_expired_tokens_answer_401_expired(box, c):
    box.faults.set(expire_tokens_after=1)
    assert c.get("/orgs").status_code == 200
    response = c.get("/orgs")
    assert response.status_code == 401 and "expired" in response.json()["imsx_description"]


@pytest.mark.parametrize(("switch", "header"), [("no_total_count", "X-Total-Count"), ("no_link", "Link")])
def test_paging_headers_can_go_missing(box, c, switch, header):
    box.faults.set(**{switch: True})
    collection = c.get("/users", params={"limit": 10})
    assert header not in collection.headers and len(collection.json()["users"]) == 10
    other = {"X-Total-Count": "Link", "Link": "X-Total-Count"}[header]
    assert other in collection.headers
    assert c.get("/users", params={"limit": 10, "offset": 10}).status_code == 200
    assert box.stats.faults[switch] == 2


def test_a_record_inserted_between_pages_shifts_the_total(box, c):
    box.faults.set(insert_record=True)
    first = c.get("/students", params={"limit": 10})
    second = c.get("/students", params={"limit": 10, "offset": 10})
    total1, total2 = int(first.headers["X-Total-Count"]), int(second.headers["X-Total-Count"])
    assert total2 == total1 + 1
    page1, page2 = first.json()["users"], second.json()["users"]
    assert page2[0] == page1[-1]  # everything moved one place: a naive pager sees this record twice
    again = c.get("/students", params={"limit": 10})
    inserted = again.json()["users"][0]
    assert inserted["sourcedId"] not in {u["sourcedId"] for u in page1}
    assert inserted["role"] == "student" and inserted["dateLastModified"] == box.district.now
    assert c.get(f"/students/{inserted['sourcedId']}").json() == {"user": inserted}
    assert int(again.headers["X-Total-Count"]) == total2  # once per collection
    assert box.stats.faults["insert_record"] == 1
    assert len(box.district.records(Kind.USER, Version.V1P1)) + 1 == len(box.site.source.records(Kind.USER, "1.1"))


def test_a_single_page_collection_gets_no_insert(box, c):
    box.faults.set(insert_record=True)
    assert c.get("/orgs", params={"limit": 1000}).status_code == 200
    assert box.stats.faults["insert_record"] == 0


def test_every_fault_can_be_switched_on_at_start(district):
    faults = ["rate_limit=0", "fail_once=503", "no_link", "no_total_count", "insert_record", "delay=0.01",
              "drop=0", "expire_tokens_after=50"]
    with start_sandbox(district=district, faults=faults) as sandbox:
        assert set(sandbox.faults.config.active()) == {"fail_once", "no_link", "no_total_count", "insert_record",
                                                        "delay", "expire_tokens_after"}
