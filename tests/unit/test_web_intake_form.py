"""The intake form: labels as Infinite Campus shows them, validation, and secrets never echoed."""

from __future__ import annotations

import datetime

from rostersync.source.connection import OAuth1Credentials, OAuth2Credentials
from rostersync.web import intake_form
from rostersync.web.findings import from_report, has_errors
from rostersync.netguard import NetPolicy
from rostersync.web.queries import expiry_warning
from rostersync.notify import sign_payload
from rostersync.web.security import mask, new_token, token_hash

PUBLIC = NetPolicy(resolver=lambda host, port: ["93.184.215.14"])

GOOD_OAUTH2 = {
    "provider": "infinite_campus", "auth": "oauth2", "client_id": " 6a1f-client ",
    "client_secret": "s3cr3t-value-WXYZ",
    "token_url": "https://district.infinitecampus.org/campus/oauth2/token?appName=springfield",
    "base_url": "district.infinitecampus.org/campus/api/oneroster/v1p2/springfield/ims/oneroster/",
}


def test_fields_carry_infinite_campus_labels():
    labels = [f.label for f in intake_form.FIELDS]
    for label in ("Client ID", "Client Secret", "Token URL", "Base URL", "Consumer Key", "Consumer Secret",
                  "OneRoster URL"):
        assert label in labels
    assert all(f.note for f in intake_form.FIELDS)


def test_a_good_oauth2_submission_becomes_a_spec():
    sub = intake_form.parse(GOOD_OAUTH2, PUBLIC)
    assert sub.errors == {}
    spec = intake_form.to_spec(sub)
    assert isinstance(spec.credentials, OAuth2Credentials)
    assert spec.credentials.client_id == "6a1f-client"
    assert spec.credentials.base_url.startswith("https://district.infinitecampus.org/campus/api/")
    assert spec.profile == "infinite_campus"


def test_missing_fields_say_where_to_find_them():
    sub = intake_form.parse({"auth": "oauth2", "client_id": "x"}, PUBLIC)
    assert set(sub.errors) == {"client_secret", "token_url", "base_url"}
    assert "Information to Share" in sub.errors["token_url"]


def test_only_the_chosen_kind_is_validated():
    sub = intake_form.parse({**GOOD_OAUTH2, "consumer_key": ""}, PUBLIC)
    assert sub.errors == {}


def test_urls_are_checked_before_any_request():
    sub = intake_form.parse({**GOOD_OAUTH2, "token_url": "https://169.254.169.254/latest/meta-data/token"}, PUBLIC)
    assert "link-local" in sub.errors["token_url"]
    sub = intake_form.parse({**GOOD_OAUTH2, "base_url": "https://x.org/campus/oauth2/token?appName=a"}, PUBLIC)
    assert "Token URL" in sub.errors["base_url"]
    sub = intake_form.parse({**GOOD_OAUTH2, "token_url": "https://x.org/campus/api/oneroster"}, PUBLIC)
    assert "does not look like a Token URL" in sub.errors["token_url"]


def test_secrets_are_never_put_back_in_the_form():
    sub = intake_form.parse({**GOOD_OAUTH2, "base_url": ""}, PUBLIC)
    assert sub.shown_value("client_secret") == ""
    assert sub.shown_value("client_id") == "6a1f-client"
    assert sub.secret_hint("client_secret") == "••••WXYZ"


def test_classic_credentials_with_expiry():
    form = {"provider": "generic", "auth": "oauth1", "consumer_key": "ck", "consumer_secret": "cs-secret-1234",
            "oneroster_url": "https://oneroster.example.org/ims/oneroster/v1p1", "signature_method": "HMAC-SHA1",
            "token_expiration_date": "2027-01-31"}
    sub = intake_form.parse(form, PUBLIC)
    assert sub.errors == {}
    creds = intake_form.to_spec(sub).credentials
    assert isinstance(creds, OAuth1Credentials)
    assert creds.signature_method == "HMAC-SHA1" and creds.expires_on == datetime.date(2027, 1, 31)
    bad = intake_form.parse({**form, "token_expiration_date": "31/01/2027", "signature_method": "MD5"}, PUBLIC)
    assert "date" in bad.errors["token_expiration_date"] and "signature_method" in bad.errors


def test_findings_hide_secrets_and_sort_errors_first():
    report = {"findings": [
        {"level": "ok", "title": "Token obtained"},
        {"level": "error", "title": "Refused secret s3cr3t-value-WXYZ", "detail": "client_secret=abc123",
         "fix": "Copy it again"},
    ]}
    findings = from_report(report, secrets=["s3cr3t-value-WXYZ"])
    assert findings[0].level == "error" and has_errors(findings)
    assert "s3cr3t-value-WXYZ" not in findings[0].title and "abc123" not in findings[0].detail


def test_masks_show_at_most_four_characters():
    assert mask("abcdefghijklmnop") == "••••mnop"
    assert mask("short") == "••••"  # too short to reveal anything
    assert mask("") == ""


def test_tokens_are_long_and_stored_hashed():
    token = new_token()
    assert len(token) >= 43  # 256 bits in urlsafe base64
    assert token_hash(token) != token and len(token_hash(token)) == 64
    assert new_token() != token


def test_webhook_signature_is_hmac_sha256_over_timestamp_and_body():
    import hashlib
    import hmac

    expected = hmac.new(b"k" * 16, b"1700000000.{}", hashlib.sha256).hexdigest()
    assert sign_payload("k" * 16, "1700000000", b"{}") == expected


def test_expiry_warning_30_days_ahead():
    today = datetime.date(2026, 9, 1)
    assert expiry_warning(datetime.date(2026, 10, 15), today) == ""
    assert "in 30 days" in expiry_warning(datetime.date(2026, 10, 1), today)
    assert "expired" in expiry_warning(datetime.date(2026, 8, 1), today)
