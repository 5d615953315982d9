"""The sandbox's token endpoint, Bearer checks and OAuth 1.0a verifier (no I/O)."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest
from oauthlib.oauth1 import SIGNATURE_TYPE_QUERY
from oauthlib.oauth1 import Client as OAuth1Client

from rostersync.sandbox.auth import OAuth1Verifier, TokenIssuer

CLIENTS = {"app-1": "secret-one-abcdef", "app-2": "secret-two-abcdef"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {**FORM, "Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def form(**fields) -> bytes:
    return urlencode({"grant_type": "client_credentials", **fields}).encode()


def issue(issuer: TokenIssuer, client_id="app-1", secret="secret-one-abcdef") -> str:
    status, _, body = issuer.token_endpoint("POST", basic(client_id, secret), form(), {})
    assert status == 200, body
    return body["access_token"]


# -- token endpoint ----------------------------------------------------------


def test_basic_client_authentication_issues_a_bearer_token():
    issuer = TokenIssuer(clients=CLIENTS, ttl=1800)
    status, headers, body = issuer.token_endpoint("POST", basic("app-1", "secret-one-abcdef"), form(), {})
    assert status == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 1800
    assert len(body["access_token"]) >= 43  # 256 random bits, urlsafe base64
    assert headers["Cache-Control"] == "no-store"
    assert issuer.validate_bearer(f"Bearer {body['access_token']}").principal == "app-1"
    assert issuer.tokens_issued == 1 and issuer.issued_by_method == {"basic": 1}


def test_form_client_authentication_issues_a_token():
    issuer = TokenIssuer(clients=CLIENTS)
    body_in = form(client_id="app-2", client_secret="secret-two-abcdef", scope="roster-core.readonly")
    status, _, body = issuer.token_endpoint("POST", FORM, body_in, {})
    assert status == 200 and body["scope"] == "roster-core.readonly"
    assert issuer.validate_bearer(f"bearer {body['access_token']}").ok
    assert issuer.issued_by_method == {"form": 1}


def test_basic_switched_off_refuses_basic_and_still_takes_the_form():
    issuer = TokenIssuer(clients=CLIENTS, accept_basic=False)
    status, headers, body = issuer.token_endpoint("POST", basic("app-1", "secret-one-abcdef"), form(), {})
    assert status == 401 and body["error"] == "invalid_client"
    assert "HTTP Basic client authentication is not accepted" in body["error_description"]
    assert "WWW-Authenticate" not in headers  # it does not advertise what it refuses
    status, _, _ = issuer.token_endpoint(
        "POST", FORM, form(client_id="app-1", client_secret="secret-one-abcdef"), {}
    )
    assert status == 200


def test_form_switched_off_refuses_the_form_and_still_takes_basic():
    issuer = TokenIssuer(clients=CLIENTS, accept_form=False)
    status, headers, body = issuer.token_endpoint(
        "POST", FORM, form(client_id="app-1", client_secret="secret-one-abcdef"), {}
    )
    assert status == 401 and "form-body client authentication is not accepted" in body["error_description"]
    assert headers["WWW-Authenticate"].startswith("Basic")
    assert issue(issuer)


@pytest.mark.parametrize("headers, body, description", [
    (basic("app-1", "wrong-secret"), form(), "wrong secret"),
    (basic("nobody", "secret-one-abcdef"), form(), "unknown client"),
    (FORM, form(client_id="app-1"), "wrong secret"),
    (FORM, form(), "missing"),
    ({**FORM, "Authorization": "Basic !!notbase64"}, form(), "malformed"),
])
def test_wrong_or_missing_client_is_invalid_client(headers, body, description):
    issuer = TokenIssuer(clients=CLIENTS)
    status, out_headers, answer = issuer.token_endpoint("POST", headers, body, {})
    assert status == 401 and answer["error"] == "invalid_client"
    assert description in answer["error_description"]
    assert out_headers["WWW-Authenticate"] == 'Basic realm="oneroster"'
    assert "secret-one" not in str(answer) and issuer.rejected == 1 and issuer.tokens_issued == 0


@pytest.mark.parametrize("method, body, query, status, error", [
    ("POST", urlencode({"grant_type": "password"}).encode(), {}, 400, "unsupported_grant_type"),
    ("POST", b"", {}, 400, "invalid_request"),
    ("GET", form(), {}, 405, "invalid_request"),
    ("POST", form(), {"client_secret": "secret-one-abcdef"}, 400, "invalid_request"),
])
def test_malformed_token_requests(method, body, query, status, error):
    issuer = TokenIssuer(clients=CLIENTS)
    got_status, _, answer = issuer.token_endpoint(method, basic("app-1", "secret-one-abcdef"), body, query)
    assert (got_status, answer["error"]) == (status, error)


def test_form_encoded_basic_credentials_are_accepted():
    """RFC 6749 §2.3.1 form-encodes id and secret inside Basic; both spellings work."""
    issuer = TokenIssuer(clients={"app 1": "p@ss w+rd"})
    assert issue(issuer, "app 1", "p@ss w+rd")
    assert issue(issuer, "app+1", "p%40ss+w%2Brd")


# -- bearer validation ---------------------------------------------------------


def test_token_expires_after_its_ttl():
    clock = Clock()
    issuer = TokenIssuer(clients=CLIENTS, ttl=600, clock=clock)
    token = issue(issuer)
    clock.now += 599
    assert issuer.validate_bearer(f"Bearer {token}").ok
    clock.now += 1
    result = issuer.validate_bearer(f"Bearer {token}")
    assert (result.ok, result.status, result.reason) == (False, 401, "expired")
    assert result.description == "The access token has expired."
    assert 'error="invalid_token"' in result.headers["WWW-Authenticate"]


@pytest.mark.parametrize("header, reason, description", [
    (None, "missing", "The access token is missing."),
    ("", "missing", "The access token is missing."),
    ("Basic YTpi", "not_bearer", "does not carry a Bearer token"),
    ("Bearer made-up-token", "invalid", "The access token is not valid."),
])
def test_bearer_refusals_are_described(header, reason, description):
    issuer = TokenIssuer(clients=CLIENTS)
    result = issuer.validate_bearer(header)
    assert not result.ok and result.reason == reason and description in result.description
    assert result.code_minor == "unauthorisedrequest"
    imsx = result.imsx()
    assert imsx["imsx_codeMajor"] == "failure" and imsx["imsx_description"] == result.description
    assert imsx["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "unauthorisedrequest"
    assert "made-up-token" not in result.description


def test_a_new_token_leaves_older_ones_valid():
    issuer = TokenIssuer(clients=CLIENTS)
    first, second = issue(issuer), issue(issuer)
    assert first != second
    assert issuer.validate_bearer(f"Bearer {first}").ok and issuer.validate_bearer(f"Bearer {second}").ok


def test_expire_all_expires_every_token_and_new_ones_work():
    issuer = TokenIssuer(clients=CLIENTS)
    tokens = [issue(issuer), issue(issuer, "app-2", "secret-two-abcdef")]
    assert issuer.expire_all() == 2
    for token in tokens:
        assert issuer.validate_bearer(f"Bearer {token}").reason == "expired"
    assert issuer.validate_bearer(f"Bearer {issue(issuer)}").ok
    assert issuer.tokens_issued == 3 and issuer.rejected == 2


def test_long_expired_tokens_are_forgotten():
    clock = Clock()
    issuer = TokenIssuer(clients=CLIENTS, ttl=60, clock=clock)
    old = issue(issuer)
    clock.now += 1000
    issue(issuer)  # issuing prunes tokens expired more than a TTL ago
    assert issuer.validate_bearer(f"Bearer {old}").reason == "invalid"


# -- OAuth 1.0a verifier, fed by oauthlib directly -----------------------------

URL = "http://sandbox.test:8080/ims/oneroster/v1p1/users?limit=5&filter=role%3D%27student%27"


def signed(url=URL, *, key="ck", secret="consumer-secret-1", method="HMAC-SHA256",
           timestamp=1_800_000_000, nonce="n-1", http_method="GET", **extra):
    client = OAuth1Client(key, client_secret=secret, signature_method=method,
                          timestamp=str(timestamp), nonce=nonce, **extra)
    return client.sign(url, http_method=http_method)


def verifier(**kwargs) -> OAuth1Verifier:
    return OAuth1Verifier(consumers={"ck": "consumer-secret-1"}, clock=Clock(), **kwargs)


@pytest.mark.parametrize("method", ["HMAC-SHA256", "HMAC-SHA1"])
def test_verifier_accepts_signatures_in_header_or_query(method):
    check = verifier()
    url, headers, _ = signed(method=method)
    assert check.verify("GET", url, headers, b"").ok
    url, headers, _ = signed(method=method, nonce="n-2", signature_type=SIGNATURE_TYPE_QUERY)
    assert "oauth_signature=" in url
    assert check.verify("GET", url, headers, b"").ok
    assert check.verified == 2


def test_verifier_checks_a_signed_form_body():
    check = verifier()
    client = OAuth1Client("ck", client_secret="consumer-secret-1", signature_method="HMAC-SHA256",
                          timestamp="1800000000", nonce="n-1")
    url, headers, _ = client.sign(URL, http_method="POST", body="a=1", headers=FORM)
    assert check.verify("POST", url, headers, b"a=1").ok
    result = check.verify("POST", url, headers, b"a=2")
    assert result.reason == "bad_signature"


@pytest.mark.parametrize("headers, reason, status, words", [
    ({}, "missing", 401, "not signed"),
    ({"Authorization": "Bearer abc"}, "missing", 401, "not signed"),
    ({"Authorization": 'OAuth oauth_consumer_key="ck"'}, "missing", 401, "oauth_signature_method"),
])
def test_verifier_describes_unsigned_requests(headers, reason, status, words):
    result = verifier().verify("GET", URL, headers, b"")
    assert (result.reason, result.status) == (reason, status) and words in result.description


def test_verifier_refuses_unknown_consumer_and_unsupported_method():
    check = verifier()
    url, headers, _ = signed(key="someone-else")
    assert check.verify("GET", url, headers, b"").description == "The consumer key is not known."
    url, headers, _ = signed(method="HMAC-SHA512", nonce="n-2")
    result = check.verify("GET", url, headers, b"")
    assert result.reason == "unsupported_method" and "HMAC-SHA1" in result.description
    assert check.rejections == {"unknown_consumer": 1, "unsupported_method": 1}


def test_verifier_refuses_duplicated_oauth_parameters():
    url, headers, _ = signed()
    result = verifier().verify("GET", url + "&oauth_nonce=again", headers, b"")
    assert (result.status, result.reason, result.code_minor) == (400, "malformed", "invaliddata")


def test_refusals_never_quote_the_signature_or_secret():
    check = verifier()
    url, headers, _ = signed(secret="wrong-secret-xyz")
    result = check.verify("GET", url, headers, b"")
    signature = headers["Authorization"].split('oauth_signature="')[1].split('"')[0]
    assert result.reason == "bad_signature"
    for text in (result.description, str(result.imsx())):
        assert "wrong-secret-xyz" not in text and signature not in text and "consumer-secret-1" not in text


def test_nonces_are_forgotten_once_they_cannot_replay():
    clock = Clock()
    check = OAuth1Verifier(consumers={"ck": "consumer-secret-1"}, clock=clock, timestamp_window=300)
    for i in range(10):
        url, headers, _ = signed(nonce=f"n-{i}", timestamp=int(clock.now))
        assert check.verify("GET", url, headers, b"").ok
    assert check.nonces_held == 10
    clock.now += 601
    url, headers, _ = signed(nonce="late", timestamp=int(clock.now))
    assert check.verify("GET", url, headers, b"").ok
    assert check.nonces_held == 1


def test_nonce_store_is_bounded():
    check = verifier(max_nonces=5)
    for i in range(20):
        url, headers, _ = signed(nonce=f"n-{i}")
        assert check.verify("GET", url, headers, b"").ok
    assert check.nonces_held == 5
    url, headers, _ = signed(nonce="n-19")
    assert check.verify("GET", url, headers, b"").reason == "replayed_nonce"


def test_verifier_tolerates_raw_characters_in_the_query():
    """A client that leaves '|' or '[' unescaped is verified on the decoded parameters."""
    url, headers, _ = signed("http://sandbox.test:8080/users?fields=a%7Cb%5B0%5D")
    raw = url.replace("a%7Cb%5B0%5D", "a|b[0]")
    assert verifier().verify("GET", raw, headers, b"").ok
