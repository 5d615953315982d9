"""Connections: pasted Base URLs, version detection, credentials round trips, profiles."""

from __future__ import annotations

import datetime

import pytest

from rostersync.oneroster.kinds import Version
from rostersync.source.connection import (
    ConnectionSpec,
    OAuth1Credentials,
    OAuth2Credentials,
    looks_like_infinite_campus,
    normalize_base_url,
    parse_version,
)
from rostersync.source.profiles import INFINITE_CAMPUS, get_profile

IC = "https://district.infinitecampus.org/campus/api/oneroster"


@pytest.mark.parametrize(
    "pasted,root,version",
    [
        (f"{IC}/v1p2/app/ims/oneroster/rostering/v1p2", f"{IC}/v1p2/app/ims/oneroster", Version.V1P2),
        (f"  {IC}/v1p2/app/ims/oneroster/rostering/v1p2/ \n", f"{IC}/v1p2/app/ims/oneroster", Version.V1P2),
        (f"{IC}/v1p2/app/ims/oneroster", f"{IC}/v1p2/app/ims/oneroster", Version.V1P2),
        (f"{IC}/v1p2/app/ims/oneroster/", f"{IC}/v1p2/app/ims/oneroster", Version.V1P2),
        (f"{IC}/v1p1/app", f"{IC}/v1p1/app/ims/oneroster", Version.V1P1),
        (f"{IC}/v1p1/app/ims/oneroster/v1p1", f"{IC}/v1p1/app/ims/oneroster", Version.V1P1),
        ("https://ic.example.org/campus/oneroster/district/ims/oneroster/v1p1/",
         "https://ic.example.org/campus/oneroster/district/ims/oneroster", Version.V1P1),
        ("https://ic.example.org/campus/oneroster/district",
         "https://ic.example.org/campus/oneroster/district/ims/oneroster", Version.V1P1),
        ("HTTPS://Vendor.Example.com/ims/oneroster/v1p2", "https://vendor.example.com/ims/oneroster", Version.V1P2),
        ("vendor.example.com", "https://vendor.example.com/ims/oneroster", None),
        ("http://127.0.0.1:8080/ims/oneroster/v1p1/users", "http://127.0.0.1:8080/ims/oneroster", Version.V1P1),
    ],
)
def test_base_urls_are_accepted_as_districts_paste_them(pasted, root, version):
    assert normalize_base_url(pasted) == (root, version)


@pytest.mark.parametrize(
    "pasted,message",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("ftp://host/ims/oneroster", "https://"),
        ("https://", "no host"),
        ("https://district.infinitecampus.org/campus/oauth2/token?appName=app", "Token URL"),
        ("https://user:pw@host/ims/oneroster", "user name or password"),
        ("https://host:99999/x", "port"),
    ],
)
def test_unusable_base_urls_say_why(pasted, message):
    with pytest.raises(ValueError, match=message):
        normalize_base_url(pasted)


def test_api_root_uses_the_explicit_version_over_the_url():
    creds = OAuth2Credentials(client_id="id", client_secret="secret", token_url="https://h/t",
                              base_url=f"{IC}/v1p2/app/ims/oneroster")
    assert ConnectionSpec(credentials=creds).api_root == f"{IC}/v1p2/app/ims/oneroster/rostering/v1p2"
    assert ConnectionSpec(credentials=creds).resolved_version is Version.V1P2
    explicit = ConnectionSpec(credentials=creds, version=Version.V1P1)
    assert explicit.api_root == f"{IC}/v1p2/app/ims/oneroster/v1p1"
    generic = ConnectionSpec(credentials=OAuth2Credentials(
        client_id="id", client_secret="secret", token_url="https://h/t", base_url="https://h/ims/oneroster"))
    assert generic.resolved_version is Version.V1P1  # the default when nothing says otherwise


def test_secrets_stay_out_of_repr_and_of_to_dict_unless_asked():
    spec = ConnectionSpec(credentials=OAuth2Credentials(
        client_id="id", client_secret="top-secret-1", token_url="https://h/t", base_url="https://h",
        scopes=("roster.readonly",)), version=Version.V1P2, timezone="America/Denver")
    assert "top-secret-1" not in repr(spec)
    public = spec.to_dict()
    assert "top-secret-1" not in str(public)
    assert spec.secrets() == {"client_secret": "top-secret-1"}
    assert ConnectionSpec.from_dict(public, spec.secrets()) == spec
    assert ConnectionSpec.from_dict(spec.to_dict(include_secrets=True)) == spec


def test_oauth1_round_trip_with_expiry_and_signature_method():
    spec = ConnectionSpec(credentials=OAuth1Credentials(
        consumer_key="key", consumer_secret="consumer-secret-2", oneroster_url="https://h/ims/oneroster/v1p1",
        signature_method="hmac-sha1", expires_on=datetime.date(2026, 12, 31)), profile="generic")
    assert spec.credentials.signature_method == "HMAC-SHA1"
    public = spec.to_dict()
    assert public["auth"] == "oauth1" and public["expires_on"] == "2026-12-31"
    assert "consumer-secret-2" not in repr(spec) + str(public)
    assert ConnectionSpec.from_dict(public, spec.secrets()) == spec


def test_from_dict_names_what_is_missing():
    with pytest.raises(ValueError, match="'client_secret'"):
        ConnectionSpec.from_dict({"client_id": "a", "token_url": "https://h/t", "base_url": "https://h"})
    with pytest.raises(ValueError, match="signature method 'RSA-SHA1'"):
        OAuth1Credentials(consumer_key="k", consumer_secret="s", oneroster_url="https://h", signature_method="RSA-SHA1")


def test_versions_parse_from_what_people_type():
    assert parse_version("1.2") is Version.V1P2
    assert parse_version("v1p1") is Version.V1P1
    assert parse_version(" ") is None
    with pytest.raises(ValueError, match="not 1.1 or 1.2"):
        parse_version("2.0")


def test_infinite_campus_sites_are_recognised():
    assert looks_like_infinite_campus(f"{IC}/v1p1/app")
    assert looks_like_infinite_campus("https://sis.district.k12.us/campus/oneroster/district/ims/oneroster/v1p1")
    assert not looks_like_infinite_campus("https://oneroster.classlink.com/ims/oneroster/v1p1")


def test_profiles_are_data_with_peak_hours_in_the_district_zone():
    assert get_profile("infinite_campus") is INFINITE_CAMPUS
    assert get_profile("Infinite-Campus") is INFINITE_CAMPUS
    with pytest.raises(ValueError, match="choose one of infinite_campus, generic"):
        get_profile("powerschool")
    utc = datetime.timezone.utc
    tuesday_9am_chicago = datetime.datetime(2026, 3, 10, 14, 0, tzinfo=utc)
    tuesday_9pm_chicago = datetime.datetime(2026, 3, 11, 2, 0, tzinfo=utc)
    saturday_noon = datetime.datetime(2026, 3, 7, 18, 0, tzinfo=utc)
    assert INFINITE_CAMPUS.is_peak(tuesday_9am_chicago, "America/Chicago")
    assert not INFINITE_CAMPUS.is_peak(tuesday_9pm_chicago, "America/Chicago")
    assert not INFINITE_CAMPUS.is_peak(saturday_noon, "America/Chicago")
    # 15:30 UTC is 9:30 in Chicago but 5:30 in Honolulu: the district's own zone decides
    assert not INFINITE_CAMPUS.is_peak(datetime.datetime(2026, 3, 10, 15, 30, tzinfo=utc), "Pacific/Honolulu")
    assert INFINITE_CAMPUS.concurrency(peak=True) == 1 and INFINITE_CAMPUS.concurrency(peak=False) == 5
    assert INFINITE_CAMPUS.page_size == 10_000 and INFINITE_CAMPUS.max_page_size == 50_000
