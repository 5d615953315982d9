"""Errors raised while reading a district's roster.

    RostersyncError                       (rostersync.errors)
    +-- SourceError                       talking to a OneRoster provider failed
        +-- ProviderUnavailable   [T]     HTTP 5xx: the provider is down or failing
        +-- RateLimited           [T]     HTTP 429: slow down; ``retry_after`` seconds
        +-- Timeout               [T]     no answer in time
        +-- ConnectionDropped     [T]     the connection failed or was cut
        +-- CredentialsRefused    [X]     client id/secret or consumer key/secret refused
        +-- TokenUrlNotFound      [X]     HTTP 404 from the token endpoint
        +-- Forbidden             [X]     HTTP 403 (e.g. demographics not shared)
        +-- NotFound              [X]     HTTP 404: unknown resource or object
        +-- InvalidResponse       [X]     an answer that is not what OneRoster promises
        +-- BadRequest            [X]     HTTP 400 (with the provider's imsx description)

    [T] also derives from ``Transient`` (retry later may succeed);
    [X] also derives from ``Terminal`` (something must change first).

Every class's docstring is its default message and ``default_fix`` its default
remedy; pass ``fix=`` for a more specific one. ``status`` keeps the HTTP status
when there was one. Messages never quote secrets, tokens or roster payloads.
"""

from __future__ import annotations

from rostersync.errors import RostersyncError, Terminal, Transient

__all__ = [
    "SourceError",
    "ProviderUnavailable",
    "RateLimited",
    "Timeout",
    "ConnectionDropped",
    "CredentialsRefused",
    "TokenUrlNotFound",
    "Forbidden",
    "NotFound",
    "InvalidResponse",
    "BadRequest",
]


class SourceError(RostersyncError):
    """Reading from the OneRoster provider failed."""

    default_fix: str | None = None

    def __init__(
        self, message: str | None = None, *, fix: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message, fix=fix)
        self.fix = fix or self.default_fix
        self.status = status


# -- transient: retrying later may succeed ---------------------------------


class ProviderUnavailable(SourceError, Transient):
    """The OneRoster provider is failing (server error)."""

    default_fix = (
        "The district's system is having trouble; rostersync retries later. If it keeps "
        "happening, ask the district whether their student information system is down."
    )


class RateLimited(SourceError, Transient):
    """The OneRoster provider asked us to slow down."""

    default_fix = "rostersync waits and retries; syncing off-peak (at night) avoids this."

    def __init__(
        self,
        message: str | None = None,
        *,
        fix: str | None = None,
        status: int | None = 429,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, fix=fix, status=status)
        self.retry_after = retry_after


class Timeout(SourceError, Transient):
    """The OneRoster provider did not answer in time."""

    default_fix = "rostersync retries later; a smaller page size (limit) can help a slow provider."


class ConnectionDropped(SourceError, Transient):
    """The connection to the OneRoster provider failed or was cut."""

    default_fix = (
        "Check the host name in the URL and that the district's server is reachable from here; "
        "rostersync retries later."
    )


# -- terminal: something must change first ---------------------------------


class CredentialsRefused(SourceError, Terminal):
    """The OneRoster provider refused the credentials."""

    default_fix = (
        "Copy the credentials again from the district's OneRoster connection, with no spaces "
        "before or after; if they were regenerated, use the new ones."
    )


class TokenUrlNotFound(SourceError, Terminal):
    """The token endpoint was not found (HTTP 404)."""

    default_fix = (
        'Copy the Token URL exactly as shown under "Information to Share"; it ends with '
        "/campus/oauth2/token?appName=..."
    )


class Forbidden(SourceError, Terminal):
    """The OneRoster provider refused access to this data (HTTP 403)."""

    default_fix = (
        'Ask the district to include this data in the connection\'s "Data to Share" '
        "(for /demographics: Demographics)."
    )


class NotFound(SourceError, Terminal):
    """The OneRoster provider does not know this resource or object (HTTP 404)."""

    default_fix = "Check the Base URL and the OneRoster version of the connection."


class InvalidResponse(SourceError, Terminal):
    """The OneRoster provider answered with something that is not valid OneRoster."""

    default_fix = "Check that the URL points at the OneRoster API, not at a login or web page."


class BadRequest(SourceError, Terminal):
    """The OneRoster provider rejected the request as malformed (HTTP 400)."""

    default_fix = "This provider does not support the request as sent; see the description."
