"""What the sandbox served: requests per path, status codes, concurrency.

:class:`SandboxStats` is filled by :class:`StatsMiddleware`, a pure ASGI
middleware around the whole site, so every request counts (token requests,
API calls, the Campus page, admin calls), including ones whose body was cut
off. A request is "in flight" from its first byte in until its last byte out.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

MAX_PATHS = 10_000  # distinct paths counted by name; the rest under OTHER
OTHER = "(other)"


class SandboxStats:
    """Counters of one sandbox; read them from any thread."""

    def __init__(self, *, tokens_issued: Callable[[], int] = lambda: 0,
                 faults_fired: Callable[[], dict[str, int]] = dict) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()  # URL path -> requests
        self.statuses: Counter[int] = Counter()  # HTTP status -> responses started
        self.in_flight = 0
        self.max_in_flight = 0
        self.total = 0
        self.bytes_sent = 0
        self._tokens_issued = tokens_issued
        self._faults_fired = faults_fired

    @property
    def tokens_issued(self) -> int:
        return self._tokens_issued()

    @property
    def faults(self) -> dict[str, int]:
        """Faults fired so far, by name."""
        return self._faults_fired()

    def begin(self, path: str) -> None:
        with self._lock:
            self.total += 1
            if path in self.requests or len(self.requests) < MAX_PATHS:
                self.requests[path] += 1
            else:
                self.requests[OTHER] += 1
            self.in_flight += 1
            if self.in_flight > self.max_in_flight:
                self.max_in_flight = self.in_flight

    def status(self, code: int) -> None:
        with self._lock:
            self.statuses[code] += 1

    def sent(self, n: int) -> None:
        with self._lock:
            self.bytes_sent += n

    def end(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def reset_max_in_flight(self) -> None:
        with self._lock:
            self.max_in_flight = self.in_flight

    def requests_under(self, prefix: str) -> int:
        """Requests whose path starts with ``prefix``."""
        with self._lock:
            return sum(n for path, n in self.requests.items() if path.startswith(prefix))

    def to_dict(self) -> dict:
        with self._lock:
            out = {
                "requests": self.total,
                "requests_by_path": dict(self.requests.most_common(200)),
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "in_flight": self.in_flight,
                "max_in_flight": self.max_in_flight,
                "bytes_sent": self.bytes_sent,
            }
        out["tokens_issued"] = self.tokens_issued
        out["faults"] = self.faults
        return out


class StatsMiddleware:
    """ASGI middleware recording every HTTP request into ``stats``."""

    def __init__(self, app, *, stats: SandboxStats) -> None:
        self.app = app
        self.stats = stats

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        stats = self.stats
        stats.begin(scope.get("path", ""))
        done = False

        async def counting_send(message) -> None:
            nonlocal done
            kind = message["type"]
            if kind == "http.response.start":
                stats.status(message["status"])
            elif kind == "http.response.body":
                stats.sent(len(message.get("body", b"")))
            await send(message)
            if kind == "http.response.body" and not message.get("more_body", False) and not done:
                done = True  # the last byte is out: no longer in flight
                stats.end()

        try:
            await self.app(scope, receive, counting_send)
        finally:
            if not done:
                stats.end()
