"""The state of one simulated Infinite Campus site, independent of HTTP.

:class:`SandboxSite` ties together what a site is: the district (behind an
:class:`~.overlay.OverlaySource`), one OneRoster service per version, the
OAuth 2 token issuer and OAuth 1.0a verifier, the fault switches, the
counters, and the "Data to Share" demographics switch. :meth:`advance` plays
school days while no API request is reading the district (a
:class:`ReadGate` holds new requests back and waits for running ones).
"""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

from ..oneroster.kinds import Version
from ..provider import OneRosterService
from .auth import OAuth1Verifier, TokenIssuer
from .faults import Faults
from .overlay import OverlaySource
from .stats import SandboxStats

APP_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")


class ReadGate:
    """Many API requests read the district at once; an advance waits for them and holds new ones.

    Readers are coroutines on the server's event loop (they poll briefly while
    a writer is in); the writer is any thread.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    async def enter(self) -> None:
        while True:
            with self._cond:
                if not self._writing:
                    self._readers += 1
                    return
            await asyncio.sleep(0.005)

    def leave(self) -> None:
        with self._cond:
            self._readers -= 1
            if self._readers == 0:
                self._cond.notify_all()

    def write(self):
        """A context manager: exclusive access for changing the district."""
        gate = self

        class _Writing:
            def __enter__(self) -> None:
                with gate._cond:
                    while gate._writing:
                        gate._cond.wait()
                    gate._writing = True
                    while gate._readers:
                        gate._cond.wait()

            def __exit__(self, *exc: object) -> None:
                with gate._cond:
                    gate._writing = False
                    gate._cond.notify_all()

        return _Writing()


class SandboxSite:
    """Everything one sandbox serves, and the switches that change how."""

    def __init__(
        self,
        *,
        district: Any,
        app_name: str,
        issuer: TokenIssuer,
        verifier: OAuth1Verifier,
        faults: Faults,
        admin_token: str,
        demographics: bool = True,
        max_limit: int = 50_000,
        default_limit: int = 100,
    ) -> None:
        if not isinstance(app_name, str) or not APP_NAME_RE.match(app_name):
            raise ValueError(
                f"app_name {app_name!r} is not usable in a URL: use letters, digits, '.', '_' or '-' (at most 64)"
            )
        self.district = district
        self.source = OverlaySource(district)
        self.app_name = app_name
        self.issuer = issuer
        self.verifier = verifier
        self.faults = faults
        self.admin_token = admin_token
        self.demographics = demographics
        self.services = {
            version: OneRosterService(self.source, version=version, max_limit=max_limit,
                                      default_limit=default_limit)
            for version in Version
        }
        self.stats = SandboxStats(tokens_issued=lambda: issuer.tokens_issued, faults_fired=faults.counts)
        self.gate = ReadGate()
        self._advance_lock = threading.Lock()
        self._name: str | None = None

    @property
    def district_name(self) -> str:
        if self._name is None:
            self._name = str(self.district.summary().get("name") or "Sandbox District")
        return self._name

    # the paths of this site ---------------------------------------------------------------

    @property
    def token_path(self) -> str:
        return "/campus/oauth2/token"

    def base_path(self, version: Version) -> str:
        """The New Look (OAuth 2) Base URL path of ``version``."""
        if Version(version) is Version.V1P1:
            return f"/campus/api/oneroster/v1p1/{self.app_name}/ims/oneroster/v1p1"
        return f"/campus/api/oneroster/v1p2/{self.app_name}/ims/oneroster/rostering/v1p2"

    @property
    def classic_path(self) -> str:
        """The Classic (OAuth 1.0a, OneRoster 1.1) OneRoster URL path."""
        return f"/campus/oneroster/{self.app_name}/ims/oneroster/v1p1"

    # changing the district ---------------------------------------------------------------------

    def advance(self, days: int = 1) -> dict:
        """Play ``days`` school days (between requests); returns the district's summary."""
        with self._advance_lock:
            with self.gate.write():
                self.district.advance(days)
            return self.summary()

    def summary(self) -> dict:
        summary = dict(self.district.summary())
        summary["demographics_shared"] = self.demographics
        summary["inserted_by_faults"] = self.source.inserted
        return summary
