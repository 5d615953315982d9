"""Client auth flows against the sandbox's server-side checks over loopback HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from rostersync.sandbox.auth import OAuth1Verifier, TokenIssuer
from rostersync.source.auth import OAuth1Signer, OAuth2ClientCredentials
from rostersync.source.errors import CredentialsRefused

CLIENTS = {"district-app": "a-long-client-secret-123"}
CONSUMERS = {"classic-key": "a-long-consumer-secret-456"}


class Sandbox:
    """A minimal HTTP front for TokenIssuer and OAuth1Verifier."""

    def __init__(self, issuer: TokenIssuer, verifier: OAuth1Verifier) -> None:
        self.issuer, self.verifier = issuer, verifier
        sandbox = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = urlsplit(self.path)
                if parts.path != "/campus/oauth2/token":
                    return self.answer(404, {}, {"imsx_description": "unknown"})
                status, headers, answer = sandbox.issuer.token_endpoint(
                    "POST", dict(self.headers), body, dict(parse_qsl(parts.query))
                )
                self.answer(status, headers, answer)

            def do_GET(self):
                parts = urlsplit(self.path)
                if parts.path.startswith("/classic/"):
                    url = f"http://{self.headers['Host']}{self.path}"  # raw path and query, as sent
                    result = sandbox.verifier.verify("GET", url, dict(self.headers), b"")
                else:
                    result = sandbox.issuer.validate_bearer(self.headers.get("Authorization"))
                if not result.ok:
                    return self.answer(result.status, dict(result.headers), result.imsx())
                self.answer(200, {}, {"query": dict(parse_qsl(parts.query)), "who": result.principal})

            def answer(self, status, headers, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        class Server(ThreadingHTTPServer):
            request_queue_size = 64  # 20 threads connect at once

        self.server = Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    box = Sandbox(TokenIssuer(clients=CLIENTS, accept_basic=False), OAuth1Verifier(consumers=CONSUMERS))
    yield box
    box.close()


def oauth2_client(sandbox: Sandbox, secret: str = CLIENTS["district-app"]):
    auth = OAuth2ClientCredentials(
        client_id="district-app",
        client_secret=secret,
        token_url=f"{sandbox.base}/campus/oauth2/token?appName=springfield",
    )
    return httpx.Client(auth=auth, timeout=5), auth


def test_oauth2_falls_back_to_form_and_survives_tokens_expiring_mid_run(sandbox):
    client, auth = oauth2_client(sandbox)
    with client:
        url = f"{sandbox.base}/ims/oneroster/v1p1/orgs"
        assert client.get(url).json()["who"] == "district-app"
        assert auth.auth_method == "form" and auth.token_requests == 2
        sandbox.issuer.expire_all()  # fault: the token expires mid-run
        assert client.get(url, params={"limit": 10}).status_code == 200
        assert auth.token_requests == 3 and sandbox.issuer.tokens_issued == 2
        assert sandbox.issuer.issued_by_method == {"form": 2}


def test_threads_share_one_refresh_over_http(sandbox):
    client, auth = oauth2_client(sandbox)
    url = f"{sandbox.base}/ims/oneroster/v1p1/users"
    with client:
        client.get(url)
        sandbox.issuer.expire_all()
        statuses = []
        threads = [threading.Thread(target=lambda: statuses.append(client.get(url).status_code)) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
    assert statuses == [200] * 20
    assert sandbox.issuer.tokens_issued == 2


def test_wrong_secret_is_refused_over_http(sandbox):
    client, auth = oauth2_client(sandbox, secret="not-the-secret")
    with client, pytest.raises(CredentialsRefused):
        client.get(f"{sandbox.base}/ims/oneroster/v1p1/orgs")
    assert auth.token_requests == 2 and sandbox.issuer.rejected == 2


@pytest.mark.parametrize("method", ["HMAC-SHA256", "HMAC-SHA1"])
def test_oauth1_signed_requests_verify_over_http(sandbox, method):
    signer = OAuth1Signer(
        consumer_key="classic-key", consumer_secret=CONSUMERS["classic-key"], signature_method=method
    )
    params = {
        "limit": "50", "offset": "100", "sort": "familyName", "fields": "sourcedId,familyName",
        "filter": "familyName='O''Brien & Sons' AND givenName>='Zoë + 1=2'",
    }
    with httpx.Client(auth=signer, timeout=5) as client:
        response = client.get(f"{sandbox.base}/classic/ims/oneroster/v1p1/users", params=params)
    assert response.status_code == 200, response.text
    assert response.json() == {"query": params, "who": "classic-key"}
