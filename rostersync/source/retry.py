"""Retrying politely: backoff, a shared throttle gate, and a cap on requests in flight.

* :class:`Backoff`: capped exponential backoff with full jitter, honouring a
  provider's ``Retry-After``; bounded in attempts and in total waiting.
* :class:`Gate`: when the provider says "slow down", every thread of the
  client waits, not only the one that was told.
* :class:`InFlight`: at most ``limit`` requests at once; remembers the peak.

Time comes from an injected ``clock`` (seconds) and ``sleep``, so tests run
without waiting.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Backoff:
    base: float = 0.5
    cap: float = 30.0
    max_attempts: int = 6
    budget: float = 300.0  # total seconds one request may spend waiting
    max_retry_after: float = 900.0  # a longer Retry-After is not waited for
    rng: Callable[[], float] = random.random

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed ``attempt`` (1-based)."""
        if retry_after is not None:
            # the provider's word, plus a little jitter so threads do not return in lockstep
            return retry_after + self.rng() * min(1.0, self.base)
        ceiling = min(self.cap, self.base * (2 ** (attempt - 1)))
        return ceiling / 2 + self.rng() * ceiling / 2

    def should_retry(self, attempt: int, waited: float, delay: float, retry_after: float | None) -> bool:
        """True when another attempt fits in the attempt count and the waiting budget."""
        if attempt >= self.max_attempts:
            return False
        if retry_after is not None and retry_after > self.max_retry_after:
            return False
        return waited + delay <= self.budget


class Gate:
    """A shared 'not before' time: a throttled thread holds every thread back."""

    def __init__(self, *, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._not_before = 0.0

    def hold_until(self, moment: float) -> None:
        with self._lock:
            self._not_before = max(self._not_before, moment)

    def wait(self) -> float:
        """Sleep until the gate opens; returns the seconds slept."""
        slept = 0.0
        while True:
            with self._lock:
                remaining = self._not_before - self._clock()
            if remaining <= 0:
                return slept
            self._sleep(remaining)
            slept += remaining


class InFlight:
    """Bounds concurrent requests to ``limit`` (adjustable) and records the peak."""

    def __init__(self, limit: int) -> None:
        self._cond = threading.Condition()
        self.limit = limit
        self.current = 0
        self.peak = 0

    def set_limit(self, limit: int) -> None:
        with self._cond:
            self.limit = max(1, limit)
            self._cond.notify_all()

    def __enter__(self) -> InFlight:
        with self._cond:
            while self.current >= self.limit:
                self._cond.wait()
            self.current += 1
            self.peak = max(self.peak, self.current)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self.current -= 1
            self._cond.notify()
