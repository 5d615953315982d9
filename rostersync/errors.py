"""The error tree of rostersync.

Every error rostersync raises on purpose derives from :class:`RostersyncError`,
whose docstring is the default message. Two markers decide what a caller does
with an error:

    RostersyncError
    +-- Transient            retry later (throttling, timeouts, 5xx, dropped connections)
    +-- Terminal             retrying will not help (bad credentials, forbidden, unknown resource)

Concrete errors mix a marker in, for example ``class RateLimited(SourceError,
Transient)``. Library errors are translated at the boundary with the original
kept as ``__cause__``. Messages never contain secrets, tokens or roster
payloads; ``fix`` carries a plain-language remedy where one is known.
"""

from __future__ import annotations


class RostersyncError(Exception):
    """rostersync failed."""

    def __init__(self, message: str | None = None, *, fix: str | None = None) -> None:
        self.message = message or (type(self).__doc__ or "").strip().splitlines()[0]
        self.fix = fix
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


class Transient(RostersyncError):
    """A temporary failure: retrying later may succeed."""


class Terminal(RostersyncError):
    """A permanent failure: retrying will not help until something changes."""


class ConfigError(Terminal):
    """The configuration is invalid."""


def is_transient(exc: BaseException) -> bool:
    """True when retrying ``exc`` later may succeed."""
    return isinstance(exc, Transient)
