"""The connection check and ``rostersync check`` against the sandbox over loopback HTTP."""

from __future__ import annotations

import datetime
import http.server
import json
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from rostersync.cli.check import check as check_command
from rostersync.sandbox.server import Sandbox, start_sandbox
from rostersync.source.check import run_check


@pytest.fixture(scope="module")
def box() -> Iterator[Sandbox]:
    with start_sandbox(students=25, seed=4) as sandbox:
        yield sandbox


@pytest.fixture(autouse=True)
def calm(box: Sandbox) -> Iterator[None]:
    box.faults.off()
    box.demographics = True
    yield
    box.faults.off()
    box.demographics = True


def new_look(box: Sandbox, **changes) -> dict:
    c = box.credentials
    return {"client_id": c.client_id, "client_secret": c.client_secret, "token_url": c.token_url,
            "base_url": c.base_url, **changes}


def classic(box: Sandbox, **changes) -> dict:
    c = box.credentials
    return {"consumer_key": c.consumer_key, "consumer_secret": c.consumer_secret,
            "oneroster_url": c.oneroster_url, **changes}


def errors(report) -> list[str]:
    return [f.code for f in report.errors]


def test_a_good_connection_reads_every_collection(box: Sandbox):
    report = run_check(new_look(box))
    assert report.ok, report.findings
    assert [f.code for f in report.findings if f.level == "warning"] == ["plain_http", "plain_http"]
    district = box.district.summary()
    assert report.counts["students"] == 25 and report.counts["orgs"] >= 2
    assert all(report.counts[name] > 0 for name in report.counts), district
    assert report.version.value == "1.1" and "demographics_ok" in [f.code for f in report.findings]


def test_the_1p2_base_url_is_detected(box: Sandbox):
    report = run_check(new_look(box, base_url=box.credentials.base_url_v1p2))
    assert report.ok and report.version.value == "1.2"


def test_demographics_not_shared(box: Sandbox):
    box.demographics = False
    report = run_check(new_look(box))
    assert errors(report) == ["demographics_not_shared"]


def test_refused_secret(box: Sandbox):
    assert errors(run_check(new_look(box, client_secret="a-wrong-secret"))) == ["client_secret_refused"]


def test_token_url_404(box: Sandbox):
    wrong = box.credentials.token_url.replace("/oauth2/token", "/oauth/token2")
    assert errors(run_check(new_look(box, token_url=wrong))) == ["token_url_not_found"]


def test_token_url_with_the_wrong_app_name(box: Sandbox):
    wrong = box.credentials.token_url.replace("appName=", "appName=other")
    assert errors(run_check(new_look(box, token_url=wrong))) == ["token_url_not_found"]


def test_base_url_is_the_campus_web_site(box: Sandbox):
    report = run_check(new_look(box, base_url=f"{box.url}/campus/district.jsp"))
    assert errors(report) == ["base_url_is_website"]
    assert "/campus/api/oneroster/" in report.errors[0].fix


def test_classic_credentials_for_an_infinite_campus_site(box: Sandbox):
    report = run_check(classic(box))
    assert errors(report) == ["ic_oauth1_disabled"]
    assert report.counts["students"] == 25  # it still reads, and says how to move on
    assert report.clock_skew is not None and abs(report.clock_skew) < 5


def test_oauth1_clock_skew_is_measured_and_explains_a_refusal(box: Sandbox):
    twenty_minutes_slow = lambda: time.time() - 1200  # noqa: E731
    report = run_check(classic(box), clock=twenty_minutes_slow)
    assert "oauth1_refused" in errors(report)
    assert report.clock_skew == pytest.approx(1200, abs=5)
    assert any(f.code == "clock_skew" for f in report.findings)


def test_credentials_expiring_soon(box: Sandbox):
    soon = (datetime.date.today() + datetime.timedelta(days=9)).isoformat()
    report = run_check(classic(box, expires_on=soon))
    assert "credentials_expire_soon" in [f.code for f in report.findings if f.level == "warning"]


def test_timeout(box: Sandbox):
    box.faults.set(delay=1.5)
    report = run_check(new_look(box), timeout=0.3)
    assert errors(report) == ["timeout"]


def test_host_that_does_not_resolve():
    report = run_check({"client_id": "id", "client_secret": "secret",
                        "token_url": "https://campus.district.invalid/campus/oauth2/token?appName=x",
                        "base_url": "https://campus.district.invalid/campus/api/oneroster/v1p1/x"}, timeout=5)
    assert errors(report) == ["host_not_found"]
    assert "campus.district.invalid" in report.errors[0].title


@pytest.fixture
def self_signed_https(tmp_path: Path) -> Iterator[str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "campus.example")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_tls_certificate_not_accepted(self_signed_https: str):
    report = run_check({"client_id": "id", "client_secret": "secret",
                        "token_url": f"{self_signed_https}/campus/oauth2/token?appName=x",
                        "base_url": f"{self_signed_https}/campus/api/oneroster/v1p1/x"}, timeout=5)
    assert errors(report) == ["tls_certificate"]


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("check")(check_command)
    app.command("other")(lambda: None)
    return app


def test_the_command_exits_0_when_everything_works_and_1_on_an_error(box: Sandbox):
    c = box.credentials
    env = {"ROSTERSYNC_CLIENT_ID": c.client_id, "ROSTERSYNC_CLIENT_SECRET": c.client_secret,
           "ROSTERSYNC_TOKEN_URL": c.token_url, "ROSTERSYNC_BASE_URL": c.base_url}
    ok = CliRunner().invoke(cli(), ["check"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "Everything needed works" in ok.output and "students" in ok.output
    assert c.client_secret not in ok.output

    box.demographics = False
    failed = CliRunner().invoke(cli(), ["check", "--json"], env=env)
    assert failed.exit_code == 1
    report = json.loads(failed.stdout)
    assert [f["code"] for f in report["findings"] if f["level"] == "error"] == ["demographics_not_shared"]
    assert report["counts"]["students"] == {"count": 25, "exact": True}


def test_the_command_checks_classic_credentials_from_options(box: Sandbox):
    c = box.credentials
    result = CliRunner().invoke(cli(), ["check", "--consumer-key", c.consumer_key, "--oneroster-url",
                                        c.oneroster_url, "--signature-method", "HMAC-SHA1", "--json"],
                                env={"ROSTERSYNC_CONSUMER_SECRET": c.consumer_secret})
    report = json.loads(result.stdout)
    assert result.exit_code == 1  # Infinite Campus no longer takes OAuth 1.0 connections
    assert [f["code"] for f in report["findings"] if f["level"] == "error"] == ["ic_oauth1_disabled"]
    assert report["auth"] == "oauth1" and report["counts"]["students"]["count"] == 25
