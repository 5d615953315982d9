"""Authentication at the sandbox over loopback HTTP: OAuth 2 (both client-auth forms, expiry) and
OAuth 1.0a (both signature methods, bad signatures, replayed nonces, stale timestamps)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import httpx
import pytest

from rostersync.oneroster.imsx import parse_status
from rostersync.sandbox import start_sandbox
from rostersync.sandbox.district import generate
from rostersync.source.auth import OAuth1Signer


class Clock:
    def __init__(self, now: float = 1_790_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def district():
    return generate(seed=9, students=60)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def box(district, clock) -> Iterator:
    with start_sandbox(district=district, clock=clock, token_ttl=600) as sandbox:
        yield sandbox


def basic(creds) -> httpx.Response:
    return httpx.post(creds.token_url, data={"grant_type": "client_credentials"},
                      auth=(creds.client_id, creds.client_secret))


def form(creds) -> httpx.Response:
    return httpx.post(creds.token_url, data={"grant_type": "client_credentials", "client_id": creds.client_id,
                                             "client_secret": creds.client_secret})


def api(box, token: str, path: str = "/orgs", version: str = "1.2") -> httpx.Response:
    return httpx.get(box.base_url(version) + path, headers={"Authorization": f"Bearer {token}"})


def minor(response: httpx.Response) -> str | None:
    status = parse_status(response.content)
    return status.minor if status else None


# -- OAuth 2 client credentials ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accepted", "basic_ok", "form_ok"),
    [(("basic", "form"), True, True), (("basic",), True, False), (("form",), False, True)],
)
def test_the_token_url_accepts_the_configured_client_authentication(district, accepted, basic_ok, form_ok):
    with start_sandbox(district=district, client_auth=accepted) as box:
        for request, ok in ((basic, basic_ok), (form, form_ok)):
            response = request(box.credentials)
            if ok:
                assert response.status_code == 200, response.text
                answer = response.json()
                assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600
                assert api(box, answer["access_token"]).status_code == 200
            else:
                assert response.status_code == 401
                assert response.json()["error"] == "invalid_client"
        assert box.stats.tokens_issued == basic_ok + form_ok
        assert box.issuer.issued_by_method == {m: 1 for m in accepted}


def test_a_wrong_secret_gets_no_token(box):
    creds = box.credentials
    response = httpx.post(creds.token_url, data={"grant_type": "client_credentials"},
                          auth=(creds.client_id, creds.client_secret + "x"))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert creds.client_secret not in response.text
    assert box.stats.tokens_issued == 0


def test_a_token_expires_after_its_ttl(box, clock):
    answer = basic(box.credentials).json()
    assert answer["expires_in"] == 600
    assert api(box, answer["access_token"]).status_code == 200
    clock.now += 599
    assert api(box, answer["access_token"]).status_code == 200
    clock.now += 2
    expired = api(box, answer["access_token"], version="1.1")
    assert expired.status_code == 401 and minor(expired) == "unauthorisedrequest"
    assert "expired" in expired.json()["imsx_description"]
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]
    fresh = basic(box.credentials).json()["access_token"]
    assert api(box, fresh).status_code == 200


def test_a_new_token_does_not_invalidate_the_older_one(box):
    first = basic(box.credentials).json()["access_token"]
    second = form(box.credentials).json()["access_token"]
    assert first != second
    assert api(box, first).status_code == 200 and api(box, second).status_code == 200


def test_bearer_tokens_are_not_accepted_by_the_classic_url(box):
    token = basic(box.credentials).json()["access_token"]
    response = httpx.get(box.credentials.oneroster_url + "/orgs", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401 and minor(response) == "unauthorisedrequest"


# -- OAuth 1.0a (Classic) --------------------------------------------------------------------------


def signer(box, clock, *, method="HMAC-SHA256", secret=None, nonces=None) -> OAuth1Signer:
    creds = box.credentials
    counter = itertools.count()
    return OAuth1Signer(consumer_key=creds.consumer_key, consumer_secret=secret or creds.consumer_secret,
                        signature_method=method, clock=clock,
                        nonce_factory=nonces or (lambda: f"nonce{next(counter)}x{id(counter)}"))


@pytest.mark.parametrize("method", ["HMAC-SHA256", "HMAC-SHA1"])
def test_classic_accepts_both_signature_methods_with_every_query_parameter(box, clock, method):
    with httpx.Client(base_url=box.credentials.oneroster_url, auth=signer(box, clock, method=method)) as c:
        page = c.get("/users", params={"limit": 7, "offset": 3, "sort": "familyName", "fields": "sourcedId,familyName"})
        assert page.status_code == 200, page.text
        assert len(page.json()["users"]) == 7 and set(page.json()["users"][0]) == {"sourcedId", "familyName"}
        name = page.json()["users"][0]["familyName"]
        quoted = name.replace("'", "''")
        filtered = c.get("/users", params={"filter": f"familyName='{quoted}' OR familyName~'a b+c&d'"})
        assert filtered.status_code == 200, filtered.text
        assert name in {u["familyName"] for u in filtered.json()["users"]}
        assert c.get("/users/no-such-user").status_code == 404
    assert box.verifier.verified == 3 and box.verifier.rejected == 0


def test_a_bad_signature_is_refused(box, clock):
    wrong = signer(box, clock, secret="not-the-consumer-secret-8d1f0c")  # long: signers register it for redaction
    with httpx.Client(base_url=box.credentials.oneroster_url, auth=wrong) as c:
        response = c.get("/orgs")
    assert response.status_code == 401 and minor(response) == "unauthorisedrequest"
    assert "signature" in response.json()["imsx_description"]
    assert box.verifier.rejections["bad_signature"] == 1


def test_a_replayed_nonce_is_refused(box, clock):
    with httpx.Client(base_url=box.credentials.oneroster_url,
                      auth=signer(box, clock, nonces=lambda: "same-nonce")) as c:
        assert c.get("/orgs").status_code == 200
        replay = c.get("/orgs")
    assert replay.status_code == 401 and "replayed" in replay.json()["imsx_description"]
    assert box.verifier.rejections["replayed_nonce"] == 1


def test_a_stale_timestamp_is_refused_with_the_skew(box, clock):
    late = Clock(clock.now - 3600)
    with httpx.Client(base_url=box.credentials.oneroster_url, auth=signer(box, late)) as c:
        response = c.get("/orgs")
    assert response.status_code == 401 and "3600 seconds behind" in response.json()["imsx_description"]


def test_an_unsigned_classic_request_is_refused(box):
    response = httpx.get(box.credentials.oneroster_url + "/orgs")
    assert response.status_code == 401 and minor(response) == "unauthorisedrequest"
    assert response.headers["www-authenticate"].startswith("OAuth")


def test_classic_signatures_are_not_accepted_by_the_new_look_url(box, clock):
    with httpx.Client(base_url=box.base_url("1.1"), auth=signer(box, clock)) as c:
        assert c.get("/orgs").status_code == 401
