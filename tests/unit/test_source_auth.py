"""The client-side auth flows, driven through httpx.MockTransport (no network)."""

from __future__ import annotations

import base64
import logging
import threading
import time
from urllib.parse import parse_qs, parse_qsl

import httpx
import pytest

from rostersync.errors import ConfigError, Terminal, Transient
from rostersync.log import RedactingFormatter
from rostersync.sandbox.auth import OAuth1Verifier
from rostersync.source.auth import OAuth1Signer, OAuth2ClientCredentials
from rostersync.source.errors import (
    CredentialsRefused,
    InvalidResponse,
    ProviderUnavailable,
    RateLimited,
    TokenUrlNotFound,
)

CLIENT_ID = "rostersync-app"
SECRET = "s3cr3t-Client-Secret-value"
TOKEN_URL = "https://district.example/campus/oauth2/token?appName=springfield"
API = "https://district.example/campus/api/oneroster/v1p1/springfield/ims/oneroster/v1p1"
BASIC = "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Provider:
    """A scriptable OAuth 2 provider: counts token requests per method and API calls."""

    def __init__(self, *, accept_basic=True, accept_form=True, expires_in=3600, token_delay=0.0):
        self.accept_basic = accept_basic
        self.accept_form = accept_form
        self.expires_in = expires_in
        self.token_delay = token_delay
        self.token_methods: list[str] = []
        self.token_bodies: list[dict] = []
        self.api_tokens: list[str | None] = []
        self.valid: set[str] = set()
        self.issued: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/campus/oauth2/token":
            return self.token(request)
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else None
        with self.lock:
            self.api_tokens.append(token)
        if token not in self.valid:
            return httpx.Response(401, json={"imsx_codeMajor": "failure", "imsx_description": "Token expired"})
        return httpx.Response(200, json={"orgs": []})

    def token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        method = "basic" if request.headers.get("Authorization", "").startswith("Basic ") else "form"
        with self.lock:
            self.token_methods.append(method)
            self.token_bodies.append(form)
        if self.token_delay:
            time.sleep(self.token_delay)
        ok = (
            (method == "basic" and self.accept_basic and request.headers["Authorization"] == BASIC)
            or (method == "form" and self.accept_form and form.get("client_secret") == SECRET)
        )
        if not ok or form.get("grant_type") != "client_credentials":
            return httpx.Response(401, json={"error": "invalid_client"})
        with self.lock:
            token = f"token-{len(self.issued) + 1}-abcdefgh"
            self.issued.append(token)
            self.valid.add(token)
        return httpx.Response(
            200, json={"access_token": token, "token_type": "bearer", "expires_in": self.expires_in}
        )


def make(provider, clock=None, **kwargs) -> tuple[httpx.Client, OAuth2ClientCredentials]:
    auth = OAuth2ClientCredentials(
        client_id=CLIENT_ID, client_secret=SECRET, token_url=TOKEN_URL, clock=clock or Clock(), **kwargs
    )
    return httpx.Client(transport=httpx.MockTransport(provider), auth=auth), auth


def fixed(status: int, **kwargs):
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, **kwargs)

    return handler


# -- OAuth 2 client credentials ---------------------------------------------


def test_basic_accepted_and_token_sent_as_bearer():
    provider = Provider()
    client, auth = make(provider)
    assert client.get(f"{API}/orgs").status_code == 200
    assert provider.token_methods == ["basic"]
    assert provider.token_bodies == [{"grant_type": "client_credentials"}]  # no secret in the body
    assert provider.api_tokens == ["token-1-abcdefgh"]
    assert auth.auth_method == "basic" and auth.token_requests == 1


@pytest.mark.parametrize("refusal", [
    httpx.Response(401, json={"error": "invalid_client"}),
    httpx.Response(400, json={"error": "invalid_client"}),
])
def test_basic_refused_then_form_accepted_and_remembered(refusal):
    clock = Clock()
    provider = Provider(accept_basic=False)

    def handler(request):
        if request.url.path.endswith("/token") and request.headers.get("Authorization"):
            provider.token_methods.append("basic")
            return refusal
        return provider(request)

    client, auth = make(handler, clock)
    assert client.get(f"{API}/orgs").status_code == 200
    assert provider.token_methods == ["basic", "form"]
    assert provider.token_bodies[-1] == {
        "grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": SECRET,
    }
    assert auth.auth_method == "form"
    clock.now += 3600  # the token expires: the refresh goes straight to the form body
    assert client.get(f"{API}/orgs").status_code == 200
    assert provider.token_methods == ["basic", "form", "form"]


def test_scopes_are_sent_space_separated():
    provider = Provider()
    client, _ = make(provider, scopes=["roster-core.readonly", "roster-demographics.readonly"])
    client.get(f"{API}/orgs")
    assert provider.token_bodies[0]["scope"] == "roster-core.readonly roster-demographics.readonly"


def test_token_reused_until_refresh_margin_then_refreshed():
    clock = Clock(1000)
    provider = Provider(expires_in=3600)
    client, auth = make(provider, clock, refresh_margin=60)
    for _ in range(5):
        client.get(f"{API}/orgs")
    clock.now = 1000 + 3600 - 61
    client.get(f"{API}/orgs")
    assert auth.token_requests == 1
    clock.now = 1000 + 3600 - 59
    client.get(f"{API}/orgs")
    assert auth.token_requests == 2
    assert provider.api_tokens[-1] == "token-2-abcdefgh"


def test_short_lived_token_is_refreshed_at_half_life_not_every_call():
    clock = Clock(0)
    client, auth = make(Provider(expires_in=30), clock, refresh_margin=60)
    client.get(f"{API}/orgs")
    clock.now = 14
    client.get(f"{API}/orgs")
    assert auth.token_requests == 1
    clock.now = 16
    client.get(f"{API}/orgs")
    assert auth.token_requests == 2


def test_api_401_refreshes_once_and_retries_once():
    provider = Provider()
    client, auth = make(provider)
    client.get(f"{API}/orgs")
    provider.valid.clear()  # the provider forgets the token before it expires
    response = client.get(f"{API}/orgs")
    assert response.status_code == 200
    assert provider.api_tokens == ["token-1-abcdefgh", "token-1-abcdefgh", "token-2-abcdefgh"]
    assert auth.token_requests == 2


def test_second_401_surfaces_as_credentials_refused_without_a_retry_storm():
    provider = Provider()

    def handler(request):
        if request.url.path.endswith("/token"):
            return provider(request)
        provider.api_tokens.append(request.headers["Authorization"])
        return httpx.Response(401, json={"imsx_codeMajor": "failure", "imsx_description": "Not allowed"})

    client, auth = make(handler)
    with pytest.raises(CredentialsRefused) as caught:
        client.get(f"{API}/orgs")
    assert len(provider.api_tokens) == 2 and auth.token_requests == 2
    assert "Not allowed" in caught.value.message
    assert "appName" in caught.value.fix
    assert "token-" not in caught.value.message + caught.value.fix


def test_old_token_is_not_assumed_invalid_after_a_new_one():
    """Two auth objects with the same credentials (two workers) keep working side by side."""
    provider = Provider()
    first, _ = make(provider)
    second, _ = make(provider)
    first.get(f"{API}/orgs")
    second.get(f"{API}/orgs")
    assert first.get(f"{API}/orgs").status_code == 200
    assert provider.api_tokens == ["token-1-abcdefgh", "token-2-abcdefgh", "token-1-abcdefgh"]


def run_threads(client, count=20):
    start = threading.Barrier(count)
    results, errors = [], []

    def work():
        start.wait()
        try:
            results.append(client.get(f"{API}/orgs").status_code)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not errors
    return results


def test_twenty_threads_with_an_expired_token_share_one_refresh():
    clock = Clock()
    provider = Provider(token_delay=0.05)
    client, auth = make(provider, clock)
    client.get(f"{API}/orgs")
    clock.now += 7200
    assert run_threads(client) == [200] * 20
    assert auth.token_requests == 2
    assert provider.api_tokens[1:] == ["token-2-abcdefgh"] * 20


def test_twenty_threads_refused_mid_run_share_one_refresh():
    provider = Provider(token_delay=0.05)
    client, auth = make(provider)
    client.get(f"{API}/orgs")
    provider.valid.clear()  # e.g. the district rotated its signing key
    assert run_threads(client) == [200] * 20
    assert auth.token_requests == 2


def test_failed_proactive_refresh_keeps_using_the_unexpired_token(caplog):
    clock = Clock(0)
    provider = Provider(expires_in=3600)
    broken = {"on": False}

    def handler(request):
        if broken["on"] and request.url.path.endswith("/token"):
            return httpx.Response(503)
        return provider(request)

    client, auth = make(handler, clock)
    client.get(f"{API}/orgs")
    broken["on"] = True
    clock.now = 3590  # inside the refresh margin, not yet expired
    assert client.get(f"{API}/orgs").status_code == 200
    assert provider.api_tokens[-1] == "token-1-abcdefgh"
    clock.now = 3601  # expired for real: the failure now surfaces
    with pytest.raises(ProviderUnavailable):
        client.get(f"{API}/orgs")


def test_token_url_404_names_the_fix():
    client, auth = make(fixed(404, text="Not Found"))
    with pytest.raises(TokenUrlNotFound) as caught:
        client.get(f"{API}/orgs")
    error = caught.value
    assert isinstance(error, Terminal) and error.status == 404
    assert "Information to Share" in error.fix and "/campus/oauth2/token?appName=" in error.fix
    assert auth.token_requests == 1  # a 404 is not a refusal: no fallback attempt


def test_token_url_without_app_name_is_pointed_out():
    auth = OAuth2ClientCredentials(
        client_id=CLIENT_ID, client_secret=SECRET, token_url="https://district.example/campus/oauth2/token"
    )
    client = httpx.Client(transport=httpx.MockTransport(fixed(404)), auth=auth)
    with pytest.raises(TokenUrlNotFound) as caught:
        client.get(f"{API}/orgs")
    assert "no ?appName=" in caught.value.fix


def test_token_endpoint_500_is_transient():
    client, _ = make(fixed(500, text="boom"))
    with pytest.raises(ProviderUnavailable) as caught:
        client.get(f"{API}/orgs")
    assert isinstance(caught.value, Transient) and caught.value.status == 500
    assert caught.value.fix


def test_token_endpoint_429_carries_retry_after():
    client, _ = make(fixed(429, headers={"Retry-After": "7"}))
    with pytest.raises(RateLimited) as caught:
        client.get(f"{API}/orgs")
    assert caught.value.retry_after == 7


@pytest.mark.parametrize("answer, quoted", [
    (httpx.Response(200, html="<html><title>Campus login</title></html>"), "text/html"),
    (httpx.Response(200, json={"token_type": "bearer", "expires_in": 3600}), "expires_in, token_type"),
    (httpx.Response(200, json=["not", "an", "object"]), "list"),
])
def test_token_answer_without_a_token_is_invalid_response(answer, quoted):
    client, _ = make(lambda request: answer)
    with pytest.raises(InvalidResponse) as caught:
        client.get(f"{API}/orgs")
    assert quoted in caught.value.message
    assert "Token URL" in caught.value.fix


def test_both_methods_refused_is_credentials_refused():
    client, auth = make(Provider(accept_basic=False, accept_form=False))
    with pytest.raises(CredentialsRefused) as caught:
        client.get(f"{API}/orgs")
    error = caught.value
    assert "Client ID" in error.fix and "Client Secret" in error.fix
    assert "HTTP Basic and form-body" in error.message
    assert auth.token_requests == 2 and auth.auth_method is None
    assert SECRET not in error.message + error.fix


@pytest.mark.parametrize("kwargs, word", [
    ({"client_secret": "  "}, "Client Secret"),
    ({"client_id": ""}, "Client ID"),
    ({"token_url": "district.example/campus/oauth2/token"}, "Token URL"),
])
def test_bad_settings_are_named(kwargs, word):
    values = {"client_id": CLIENT_ID, "client_secret": SECRET, "token_url": TOKEN_URL, **kwargs}
    with pytest.raises(ConfigError) as caught:
        OAuth2ClientCredentials(**values)
    assert word in caught.value.message and caught.value.fix


def test_pasted_whitespace_is_ignored():
    provider = Provider()
    auth = OAuth2ClientCredentials(
        client_id=f" {CLIENT_ID}\n", client_secret=f"{SECRET}\n", token_url=f"  {TOKEN_URL} "
    )
    client = httpx.Client(transport=httpx.MockTransport(provider), auth=auth)
    assert client.get(f"{API}/orgs").status_code == 200


def test_no_secret_or_token_in_logs_or_errors(caplog):
    caplog.set_level(logging.DEBUG)
    clock = Clock()
    provider = Provider(accept_basic=False)
    client, _ = make(provider, clock)
    client.get(f"{API}/orgs")
    clock.now += 7200
    client.get(f"{API}/orgs")
    provider.accept_form = False
    clock.now += 7200
    with pytest.raises(CredentialsRefused) as caught:
        client.get(f"{API}/orgs")
    assert provider.issued and caplog.records
    basic = BASIC.removeprefix("Basic ")
    formatter = RedactingFormatter()
    redacted = "\n".join(formatter.format(record) for record in caplog.records)
    for text in (caplog.text, redacted, str(caught.value), caught.value.fix):
        for value in (SECRET, basic, *provider.issued):
            assert value not in text
    assert "Obtained an access token" in caplog.text  # the logging under test did happen


# -- OAuth 1.0a signing, checked by the sandbox's verifier ------------------

AWKWARD_FILTERS = [
    "dateLastModified>'2026-09-01T00:00:00.000Z'",
    "familyName='O''Brien & Sons' AND givenName>='Zoë + 1=2'",
    "email~'a+b@example.org' OR title='50% off; a/b?c=d#e'",
    "givenName='Łukasz 李 😀'",
]


def oauth1_server(verifier, seen=None):
    def handler(request: httpx.Request) -> httpx.Response:
        result = verifier.verify(request.method, str(request.url), request.headers, request.content)
        if seen is not None:
            seen.append((request, result))
        if not result.ok:
            return httpx.Response(result.status, json=result.imsx())
        return httpx.Response(200, json={"users": []})

    return handler


@pytest.mark.parametrize("method", ["HMAC-SHA256", "HMAC-SHA1"])
@pytest.mark.parametrize("flt", AWKWARD_FILTERS)
def test_signed_requests_with_awkward_filters_verify(method, flt):
    verifier = OAuth1Verifier(consumers={"ck": "consumer-secret-1"})
    seen = []
    signer = OAuth1Signer(consumer_key="ck", consumer_secret="consumer-secret-1", signature_method=method)
    client = httpx.Client(transport=httpx.MockTransport(oauth1_server(verifier, seen)), auth=signer)
    params = {"limit": 100, "offset": 200, "filter": flt, "sort": "familyName", "orderBy": "asc",
              "fields": "sourcedId,givenName"}
    response = client.get(f"{API}/users", params=params)
    assert response.status_code == 200, response.json()
    request, result = seen[0]
    assert f'oauth_signature_method="{method}"' in request.headers["Authorization"]
    assert result.principal == "ck"
    # the data survives, and the query is encoded exactly as OAuth encodes it
    assert dict(parse_qsl(request.url.query.decode())) == {k: str(v) for k, v in params.items()}
    raw_filter = request.url.query.decode().split("filter=")[1].split("&")[0]
    assert "+" not in raw_filter and "'" not in raw_filter and " " not in raw_filter


def test_every_query_parameter_is_signed():
    """Changing offset after signing must break the signature."""
    verifier = OAuth1Verifier(consumers={"ck": "consumer-secret-1"})
    signer = OAuth1Signer(consumer_key="ck", consumer_secret="consumer-secret-1")
    request = httpx.Request("GET", f"{API}/users", params={"limit": 100, "offset": 0, "filter": "role='student'"})
    next(signer.sync_auth_flow(request))
    assert verifier.verify("GET", str(request.url), request.headers, b"").ok
    tampered = str(request.url).replace("offset=0", "offset=100")
    result = verifier.verify("GET", tampered, request.headers, b"")
    assert not result.ok and result.reason == "bad_signature"


def test_wrong_consumer_secret_is_a_bad_signature():
    verifier = OAuth1Verifier(consumers={"ck": "consumer-secret-1"})
    signer = OAuth1Signer(consumer_key="ck", consumer_secret="not-the-secret")
    client = httpx.Client(transport=httpx.MockTransport(oauth1_server(verifier)), auth=signer)
    response = client.get(f"{API}/users", params={"limit": 10})
    assert response.status_code == 401
    assert response.json()["imsx_CodeMinor"]["imsx_codeMinorField"][0]["imsx_codeMinorFieldValue"] == "unauthorisedrequest"
    assert verifier.rejections["bad_signature"] == 1
    assert "not-the-secret" not in response.text


def test_replayed_nonce_is_refused():
    verifier = OAuth1Verifier(consumers={"ck": "consumer-secret-1"})
    signer = OAuth1Signer(consumer_key="ck", consumer_secret="consumer-secret-1", nonce_factory=lambda: "same-nonce")
    client = httpx.Client(transport=httpx.MockTransport(oauth1_server(verifier)), auth=signer)
    assert client.get(f"{API}/users").status_code == 200
    response = client.get(f"{API}/users")
    assert response.status_code == 401
    assert "replayed" in response.json()["imsx_description"]


@pytest.mark.parametrize("offset, way", [(-900, "behind"), (+900, "ahead of")])
def test_stale_timestamp_is_refused_with_the_skew(offset, way):
    now = 1_800_000_000.0
    verifier = OAuth1Verifier(consumers={"ck": "consumer-secret-1"}, clock=lambda: now)
    signer = OAuth1Signer(consumer_key="ck", consumer_secret="consumer-secret-1", clock=lambda: now + offset)
    seen = []
    client = httpx.Client(transport=httpx.MockTransport(oauth1_server(verifier, seen)), auth=signer)
    response = client.get(f"{API}/users")
    assert response.status_code == 401
    result = seen[0][1]
    assert result.reason == "stale_timestamp" and result.skew_seconds == offset
    assert f"900 seconds {way} the server's clock" in result.description


def test_signer_refuses_unknown_signature_method():
    with pytest.raises(ConfigError) as caught:
        OAuth1Signer(consumer_key="ck", consumer_secret="consumer-secret-1", signature_method="PLAINTEXT")
    assert "HMAC-SHA256" in caught.value.fix


def test_consumer_secret_never_logged(caplog):
    caplog.set_level(logging.DEBUG)
    verifier = OAuth1Verifier(consumers={"ck": "consumer-secret-1"})
    signer = OAuth1Signer(consumer_key="ck", consumer_secret="consumer-secret-1")
    client = httpx.Client(transport=httpx.MockTransport(oauth1_server(verifier)), auth=signer)
    client.get(f"{API}/users", params={"filter": "role='student'"})
    assert caplog.records and "consumer-secret-1" not in caplog.text


def test_signing_a_query_that_is_not_utf8_names_the_path():
    signer = OAuth1Signer(consumer_key="ck", consumer_secret="consumer-secret-1")
    request = httpx.Request("GET", f"{API}/users?filter=%FF")
    with pytest.raises(ValueError, match="/users"):
        next(signer.sync_auth_flow(request))
