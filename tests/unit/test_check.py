"""The connection check: one test per mistake a district can make, on MockTransport."""

from __future__ import annotations

import datetime
import socket
import ssl
from email.utils import format_datetime

import httpx
import pytest

from rostersync.oneroster.kinds import Version
from rostersync.source.check import run_check
from rostersync.source.connection import ConnectionSpec, OAuth1Credentials
from rostersync.source.testing import (
    BASE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    HOST,
    TOKEN_URL,
    FakeProvider,
    district,
    spec,
)

NOW = datetime.datetime(2026, 3, 7, 12, 0, tzinfo=datetime.timezone.utc)
GOOD = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "token_url": TOKEN_URL, "base_url": BASE_URL}


def check(inputs=None, provider: FakeProvider | None = None, *, transport=None, **kw):
    provider = provider if provider is not None else FakeProvider(district())
    sleeps: list[float] = []
    return run_check(GOOD if inputs is None else inputs, transport=transport or provider.transport,
                     clock=lambda: NOW.timestamp(), sleep=sleeps.append, **kw)


def codes(report, level: str | None = None) -> list[str]:
    return [f.code for f in report.findings if level is None or f.level == level]


def only_error(report):
    errors = report.errors
    assert len(errors) == 1, [(f.code, f.title) for f in report.findings]
    assert errors[0].fix  # every error says what to do
    return errors[0]


def test_a_working_connection_is_all_ok_with_counts_and_version():
    report = check()
    assert report.ok and codes(report, "warning") == []
    assert report.counts["students"] == 20 and report.counts["enrollments"] == 20
    assert report.counts["orgs"] == 2
    assert report.version is Version.V1P1
    assert "demographics_ok" in codes(report) and "token_ok" in codes(report)


def test_raw_inputs_with_pasting_noise_still_work():
    report = check({"Client ID": f" {CLIENT_ID} ", "client-secret": f"{CLIENT_SECRET}\n",
                    "token_url": f" {TOKEN_URL} ", "base_url": BASE_URL.rsplit("/ims/", 1)[0] + "/ \n"})
    assert report.ok, report.findings


def test_token_url_404():
    provider = FakeProvider(district())
    provider.token_faults = [httpx.Response(404, text="Not Found")]
    error = only_error(check(provider=provider))
    assert error.code == "token_url_not_found"
    assert "/campus/oauth2/token?appName=" in error.fix and "Information to Share" in error.fix


def test_client_secret_refused():
    error = only_error(check({**GOOD, "client_secret": "not-the-secret"}))
    assert error.code == "client_secret_refused"
    assert "Client Secret" in error.fix


def test_base_url_pointing_at_the_campus_web_site():
    provider = FakeProvider(district())
    provider.faults["orgs"] = [httpx.Response(200, headers={"Content-Type": "text/html; charset=utf-8"},
                                              text="<!DOCTYPE html><html><title>Campus Login</title></html>")]
    error = only_error(check({**GOOD, "base_url": f"https://{HOST}/campus/portal/district.jsp"}, provider))
    assert error.code == "base_url_is_website"
    assert "/campus/api/oneroster/" in error.fix


def test_base_url_redirecting_to_a_login_page():
    provider = FakeProvider(district())
    provider.faults["orgs"] = [httpx.Response(302, headers={"Location": "/campus/SSO/district/sis"})]
    assert only_error(check(provider=provider)).code == "base_url_is_website"


def test_base_url_404():
    provider = FakeProvider(district())
    provider.faults["orgs"] = [httpx.Response(404, text="")]
    assert only_error(check(provider=provider)).code == "base_url_not_found"


def test_token_from_another_connection_refused_by_the_api():
    provider = FakeProvider(district())
    unauthorised = httpx.Response(401, json={"imsx_codeMajor": "failure", "imsx_description": "unknown app"})
    provider.faults["orgs"] = [unauthorised, unauthorised]
    assert only_error(check(provider=provider)).code == "api_refused_token"


def test_demographics_not_shared():
    provider = FakeProvider(district())
    provider.forbidden.add("demographics")
    report = check(provider=provider)
    error = only_error(report)
    assert error.code == "demographics_not_shared"
    assert "Demographics" in error.fix and "Data to Share" in error.fix
    assert report.counts["students"] == 20  # the rest was still counted


def test_classic_oauth1_credentials_for_an_infinite_campus_site():
    provider = FakeProvider(district(), consumer_key="district_rostersync")
    inputs = {"consumer_key": "district_rostersync", "consumer_secret": "classic-secret-1",
              "oneroster_url": f"https://{HOST}/campus/oneroster/district/ims/oneroster/v1p1/"}
    report = check(inputs, provider)
    error = only_error(report)
    assert error.code == "ic_oauth1_disabled"
    assert "Campus.2431" in error.fix and "OneRoster 1.1 with OAuth 2.0" in error.fix
    assert report.auth == "oauth1"


def test_oauth1_with_another_provider_is_fine_and_reports_clock_skew():
    twenty_minutes_ahead = format_datetime(NOW + datetime.timedelta(minutes=20), usegmt=True)
    provider = FakeProvider(district(), consumer_key="vendor-key", headers={"Date": twenty_minutes_ahead})
    inputs = {"consumer_key": "vendor-key", "consumer_secret": "vendor-secret",
              "oneroster_url": "https://oneroster.vendor.example/ims/oneroster/v1p1", "profile": "generic",
              "signature_method": "HMAC-SHA1"}
    report = check(inputs, provider)
    assert report.ok
    assert report.clock_skew == pytest.approx(1200)
    skew = next(f for f in report.findings if f.code == "clock_skew")
    assert skew.level == "warning" and "20 min" in skew.title and "NTP" in skew.fix


def test_oauth1_refused_mentions_a_large_clock_skew():
    an_hour_behind = format_datetime(NOW - datetime.timedelta(hours=1), usegmt=True)
    provider = FakeProvider(district(), consumer_key="the-right-key", headers={"Date": an_hour_behind})
    inputs = {"consumer_key": "a-wrong-key", "consumer_secret": "vendor-secret",
              "oneroster_url": "https://oneroster.vendor.example/ims/oneroster/v1p1", "profile": "generic"}
    report = check(inputs, provider)
    assert "oauth1_refused" in codes(report, "error")
    assert "clock" in next(f for f in report.findings if f.code == "oauth1_refused").detail


@pytest.mark.parametrize("days,code,level", [(10, "credentials_expire_soon", "warning"),
                                             (-1, "credentials_expired", "error"),
                                             (200, "credentials_expiry", "ok")])
def test_oauth1_credentials_expiring(days, code, level):
    provider = FakeProvider(district(), consumer_key="vendor-key")
    expires = (NOW.date() + datetime.timedelta(days=days)).isoformat()
    inputs = {"consumer_key": "vendor-key", "consumer_secret": "vendor-secret", "expires_on": expires,
              "oneroster_url": "https://oneroster.vendor.example/ims/oneroster/v1p1", "profile": "generic"}
    finding = next(f for f in check(inputs, provider).findings if f.code == code)
    assert finding.level == level


def _raiser(exc: Exception):
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc
    return httpx.MockTransport(handler)


def test_tls_certificate_error():
    cause = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed")
    error = httpx.ConnectError("certificate verify failed")
    error.__cause__ = cause
    found = only_error(check(transport=_raiser(error)))
    assert found.code == "tls_certificate" and HOST in found.title


def test_timeout():
    found = only_error(check(transport=_raiser(httpx.ConnectTimeout("timed out"))))
    assert found.code == "timeout" and HOST in found.title


def test_host_that_does_not_resolve():
    error = httpx.ConnectError("[Errno -2] Name or service not known")
    error.__cause__ = socket.gaierror(-2, "Name or service not known")
    found = only_error(check(transport=_raiser(error)))
    assert found.code == "host_not_found" and HOST in found.title


def test_plain_http_is_accepted_with_a_warning():
    http_token = TOKEN_URL.replace("https://", "http://")
    http_base = BASE_URL.replace("https://", "http://")
    report = check({**GOOD, "token_url": http_token, "base_url": http_base})
    assert report.ok
    assert codes(report, "warning") == ["plain_http", "plain_http"]


def test_missing_and_garbled_fields_are_findings_not_exceptions():
    report = check({"client_id": CLIENT_ID, "client_secret": "", "token_url": TOKEN_URL, "base_url": "ftp://x"})
    assert report.errors and {"missing_field", "base_url_invalid"} <= set(codes(report, "error"))
    missing = next(f for f in report.findings if f.code == "missing_field")
    assert missing.title == "The Client Secret is missing"

    assert codes(check({})) == ["no_credentials"]
    assert codes(check({"base_url": None, "client_id": 12345})) == ["invalid_option", "missing_field",
                                                                     "missing_field", "missing_field"]
    swapped = check({**GOOD, "token_url": BASE_URL, "base_url": TOKEN_URL})
    assert set(codes(swapped, "error")) == {"token_url_is_base_url", "base_url_is_token_url"}
    bad_options = check({**GOOD, "version": "3", "profile": "powerschool"})
    assert [f.title for f in bad_options.errors] == ["The OneRoster version is not valid", "The vendor profile is not valid"]


def test_an_infinite_campus_token_url_without_app_name_is_flagged():
    report = check({**GOOD, "token_url": TOKEN_URL.split("?")[0]})
    assert "token_url_no_app_name" in codes(report, "warning")


def test_version_detected_from_the_data():
    data = district()
    for rows in (data["students"], data["teachers"]):
        for row in rows:
            row["roles"] = [{"roleType": "primary", "role": row.pop("role"), "org": row.pop("orgs")[0]}]
    report = check(provider=FakeProvider(data))
    assert report.version is Version.V1P2
    assert "version_mismatch" in codes(report, "warning")


def test_counts_without_x_total_count_use_a_bounded_read():
    report = check(provider=FakeProvider(district(students_count=2500), total_header=False))
    assert report.ok
    assert report.counts["students"] == 2000 and "students" in report.inexact
    assert report.counts["teachers"] == 1 and "teachers" not in report.inexact


def test_an_empty_collection_is_a_warning():
    data = district()
    data["enrollments"] = []
    report = check(provider=FakeProvider(data))
    assert report.ok and codes(report, "warning") == ["resource_empty"]


def test_a_spec_is_accepted_too():
    report = check(spec(version=Version.V1P1))
    assert report.ok and report.counts["students"] == 20
    oauth1 = ConnectionSpec(credentials=OAuth1Credentials(consumer_key="k", consumer_secret="secret-1",
                                                          oneroster_url="ftp://host/ims/oneroster"))
    assert codes(check(oauth1), "error") == ["base_url_invalid"]


def test_report_serialises_for_scripts():
    data = check().to_dict()
    assert data["ok"] is True and data["version"] == "1.1"
    assert data["counts"]["students"] == {"count": 20, "exact": True}
    assert all(set(f) == {"level", "code", "title", "detail", "fix"} for f in data["findings"])
    assert CLIENT_SECRET not in str(data)


def test_unrelated_collections_can_be_skipped():
    report = check(resources=["students"])
    assert list(report.counts) == ["students"] and report.ok
