"""The connection check's vocabulary: every finding code with its level, title and
a plain-language fix, in Infinite Campus's own words for an Infinite Campus
site and in general terms for any other provider.

Titles and fixes may hold ``{placeholders}`` filled from the finding's context
(``{label}``, ``{resource}``, ``{host}``, ``{days}``...).
"""

from __future__ import annotations

from dataclasses import dataclass

IC_CONNECTION = (
    "In Infinite Campus, open Instruction > Settings > Digital Learning Applications Configuration, "
    "select the application, then its OneRoster Connections"
)
IC_SHARE = f'{IC_CONNECTION}, and copy it exactly as shown under "Information to Share"'


@dataclass(frozen=True)
class Entry:
    level: str  # ok | warning | error
    title: str
    ic_fix: str = ""
    fix: str = ""  # for other providers; falls back to ic_fix when empty


CATALOG: dict[str, Entry] = {
    # -- what was typed ------------------------------------------------------
    "no_credentials": Entry(
        "error", "No credentials were given",
        "Enter the Client ID, Client Secret, Token URL and Base URL of a \"OneRoster 1.1 with OAuth 2.0\" "
        f"connection. {IC_SHARE}.",
        "Enter either the OAuth 2.0 values (Client ID, Client Secret, Token URL, Base URL) or the OAuth 1.0a "
        "values (Consumer Key, Consumer Secret, OneRoster URL) the provider issued."),
    "missing_field": Entry(
        "error", "The {label} is missing", f"{IC_SHARE}.",
        "Copy the {label} from the provider's OneRoster credentials."),
    "mixed_credentials": Entry(
        "warning", "Both OAuth 2.0 and OAuth 1.0a values were given; using {kind}",
        "Leave the other set of fields empty.", "Leave the other set of fields empty."),
    "whitespace_in_value": Entry(
        "warning", "The {label} contains spaces or line breaks",
        "Copy it again without spaces; if the error persists, regenerate the secret in the OneRoster connection."),
    "base_url_invalid": Entry(
        "error", "The {label} cannot be used",
        f"The Base URL looks like https://<your Campus host>/campus/api/oneroster/v1p1/<appName>/ims/oneroster. "
        f"{IC_SHARE}.",
        "Copy the OneRoster base URL exactly as the provider shows it; it usually ends with /ims/oneroster/v1p1."),
    "base_url_is_token_url": Entry(
        "error", "The {label} is the Token URL",
        "The Token URL and the Base URL are two different values under \"Information to Share\"; "
        "the Base URL contains /campus/api/oneroster/."),
    "token_url_invalid": Entry(
        "error", "The Token URL cannot be used",
        f"It must start with https:// and end with /campus/oauth2/token?appName=... {IC_SHARE}.",
        "Copy the token URL exactly as the provider shows it."),
    "token_url_is_base_url": Entry(
        "error", "The Token URL is a OneRoster API address, not the token endpoint",
        "The Token URL ends with /campus/oauth2/token?appName=...; the address with /api/oneroster/ in it "
        "is the Base URL."),
    "token_url_unusual": Entry(
        "warning", "The Token URL does not look like an Infinite Campus token URL",
        f"An Infinite Campus Token URL ends with /campus/oauth2/token?appName=... {IC_SHARE}."),
    "token_url_no_app_name": Entry(
        "warning", "The Token URL has no ?appName=... part",
        f"Infinite Campus needs the appName at the end of the Token URL. {IC_SHARE}."),
    "plain_http": Entry(
        "warning", "The {label} uses plain http, so credentials and student data would travel unencrypted",
        "Use the https:// address of the Campus server.", "Use the provider's https:// address."),
    "invalid_option": Entry("error", "The {label} is not valid", "", ""),
    "ic_oauth1_disabled": Entry(
        "error", "These are Classic OAuth 1.0 credentials, which Infinite Campus no longer accepts",
        "Infinite Campus disabled OAuth 1.0 connections with release Campus.2431. Generate a "
        "\"OneRoster 1.1 with OAuth 2.0\" connection instead: Instruction > Settings > Digital Learning "
        "Applications Configuration > OneRoster Connections > Generate New OneRoster Connection, and share "
        "its Client ID, Client Secret, Token URL and Base URL."),
    "credentials_expired": Entry(
        "error", "The credentials expired on {date}",
        "Set a new Token Expiration Date on the OneRoster Provisioning record (System Administration > "
        "Learning Interoperability > OneRoster Provisioning), or better, generate a \"OneRoster 1.1 with "
        "OAuth 2.0\" connection.",
        "Ask the provider to extend or reissue the credentials."),
    "credentials_expire_soon": Entry(
        "warning", "The credentials expire in {days} days ({date})",
        "Extend the Token Expiration Date on the OneRoster Provisioning record before then (at most 13 "
        "months ahead), or generate a \"OneRoster 1.1 with OAuth 2.0\" connection, which does not expire.",
        "Ask the provider to extend the credentials before then."),
    "credentials_expiry": Entry("ok", "The credentials are valid until {date}"),
    # -- reaching the server -------------------------------------------------
    "host_not_found": Entry(
        "error", "The host {host} could not be found",
        f"Check the host name for typos; it is the address of the district's Campus server. {IC_SHARE}.",
        "Check the host name for typos."),
    "tls_certificate": Entry(
        "error", "The TLS certificate of {host} was not accepted",
        "The server's certificate is expired, self-signed or issued for another name. Use the server's "
        "public https:// address, or ask the district's IT to renew the certificate."),
    "timeout": Entry(
        "error", "{host} did not answer in time",
        "Check that the Campus server is reachable from the internet (not only inside the district's "
        "network) and try again; a firewall may be dropping the connection.",
        "Check that the server is reachable from the internet and try again."),
    "unreachable": Entry(
        "error", "Could not connect to {host}",
        "Check the address and that the Campus server accepts connections from outside the district.",
        "Check the address and that the server accepts connections from outside."),
    "rate_limited": Entry(
        "warning", "The provider asked us to slow down",
        "Try the check again in a few minutes; regular syncs run off-peak."),
    "provider_unavailable": Entry(
        "error", "The provider failed while answering",
        "The district's server reported an error; try again later. If it persists, ask the district's "
        "Campus administrator to check the OneRoster connection."),
    # -- the token -----------------------------------------------------------
    "token_url_not_found": Entry(
        "error", "The Token URL answered 404 (not found)",
        f"Copy the Token URL exactly as shown under \"Information to Share\"; it ends with "
        f"/campus/oauth2/token?appName=... ({IC_CONNECTION}).",
        "Copy the token URL exactly as the provider shows it."),
    "client_secret_refused": Entry(
        "error", "The Client ID or Client Secret was refused",
        f"Copy the Client ID and Client Secret again, with no spaces before or after. {IC_CONNECTION}; if the "
        "secret was regenerated there, use the new one.",
        "Copy the client ID and secret again; if they were regenerated, use the new ones."),
    "token_url_wrong": Entry(
        "error", "The Token URL did not answer with a token",
        f"It is probably not the token endpoint. {IC_SHARE}; it ends with /campus/oauth2/token?appName=...",
        "Copy the token URL exactly as the provider shows it."),
    "token_refused": Entry(
        "error", "The token endpoint refused to issue a token",
        f"Check that the OneRoster connection is enabled. {IC_CONNECTION}."),
    "token_ok": Entry("ok", "Got an access token from the Token URL ({method} client authentication)"),
    # -- the Base URL --------------------------------------------------------
    "api_refused_token": Entry(
        "error", "The OneRoster API refused the access token",
        "The Client ID and Secret work, but the Base URL does not accept their token: the Token URL and the "
        "Base URL probably come from two different connections (different appName). Copy both again from "
        "the same OneRoster connection."),
    "oauth1_refused": Entry(
        "error", "The Consumer Key or Consumer Secret was refused",
        "Copy the Consumer Key (with its prefix) and the Consumer Secret again from the OneRoster "
        "Provisioning record, check that its Status is Active and its Token Expiration Date has not passed.",
        "Copy the consumer key and secret again, and check the signature method (HMAC-SHA256 or HMAC-SHA1) "
        "the provider expects."),
    "base_url_is_website": Entry(
        "error", "The Base URL points at the Campus web site rather than the OneRoster API",
        "Copy the Base URL exactly as shown under \"Information to Share\"; it contains "
        "/campus/api/oneroster/ (the address you log in to Campus with will not work).",
        "Copy the OneRoster base URL from the provider; the address of its web site will not work."),
    "base_url_not_found": Entry(
        "error", "The Base URL answered 404 (not found)",
        f"Check the appName and the OneRoster version (1.1 or 1.2) in the Base URL. {IC_SHARE}.",
        "Check the base URL and the OneRoster version."),
    "base_url_not_oneroster": Entry(
        "error", "The Base URL did not answer like a OneRoster API",
        f"{IC_SHARE}.", "Copy the OneRoster base URL exactly as the provider shows it."),
    "base_url_ok": Entry("ok", "Reached the OneRoster API"),
    # -- the data ------------------------------------------------------------
    "demographics_not_shared": Entry(
        "error", "Demographics are not shared",
        f"{IC_CONNECTION}, edit the connection and select Demographics under \"Data to Share\", then save.",
        "Ask the provider to share demographics with this application."),
    "demographics_ok": Entry("ok", "Demographics are shared"),
    "resource_forbidden": Entry(
        "error", "{resource} are not shared",
        f"{IC_CONNECTION}, edit the connection and check \"Data to Share\".",
        "Ask the provider to share this data with the application."),
    "resource_not_found": Entry(
        "warning", "The provider does not offer /{resource}",
        "Syncs will go on without it; ask the district whether this data should be shared."),
    "resource_failed": Entry("error", "Reading /{resource} failed", ""),
    "resource_empty": Entry(
        "warning", "No {resource} were shared",
        "Check that the connection covers the current school year and the right schools; Infinite Campus "
        "shares active-year data only.",
        "Check with the provider that this data is shared."),
    "collections_ok": Entry("ok", "Read every collection"),
    "version_detected": Entry("ok", "The provider speaks OneRoster {version}"),
    "version_mismatch": Entry(
        "warning", "The data looks like OneRoster {detected}, but the connection is set to {configured}",
        "Set the OneRoster version to match the connection (\"OneRoster 1.1 with OAuth 2.0\" is 1.1); "
        "changing it later changes every user's id."),
    "clock_skew": Entry(
        "warning", "This machine's clock is {skew} off the provider's",
        "OAuth 1.0a signatures carry a timestamp and providers reject large differences: synchronise this "
        "machine's clock (NTP)."),
    "clock_ok": Entry("ok", "Clocks agree ({skew} apart)"),
}
