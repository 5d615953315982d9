"""Backoff, Retry-After and the in-flight cap."""

from __future__ import annotations

import threading
import time
from email.utils import formatdate

import httpx

from rostersync.source.responses import error_for_response, parse_retry_after
from rostersync.source.retry import Backoff, InFlight


def test_backoff_grows_exponentially_is_capped_and_jittered():
    low = Backoff(base=0.5, cap=8.0, rng=lambda: 0.0)
    high = Backoff(base=0.5, cap=8.0, rng=lambda: 0.999)
    assert [low.delay(n, None) for n in (1, 2, 3, 4, 5, 6)] == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0]
    assert all(low.delay(n, None) < high.delay(n, None) <= 8.0 for n in range(1, 10))


def test_retry_after_wins_over_backoff_and_overlong_waits_are_refused():
    backoff = Backoff(base=0.5, max_attempts=5, budget=100, max_retry_after=60, rng=lambda: 0.0)
    assert backoff.delay(1, 12.0) == 12.0
    assert backoff.should_retry(1, 0.0, 12.0, 12.0)
    assert not backoff.should_retry(1, 0.0, 90.0, 90.0)  # longer than we are willing to wait
    assert not backoff.should_retry(1, 95.0, 12.0, 12.0)  # over the time budget
    assert not backoff.should_retry(5, 0.0, 1.0, None)  # out of attempts


def test_retry_after_as_seconds_or_http_date():
    now = time.time()
    assert parse_retry_after("120", now=now) == 120
    assert 55 <= parse_retry_after(formatdate(now + 60, usegmt=True), now=now) <= 61
    assert parse_retry_after("soon", now=now) is None
    response = httpx.Response(429, headers={"Retry-After": "3"}, request=httpx.Request("GET", "https://h/x?secret=1"))
    error = error_for_response(response, now=now)
    assert error.retry_after == 3 and "secret" not in str(error)


def test_in_flight_never_exceeds_the_limit_and_remembers_the_peak():
    gate = InFlight(3)
    inside = []
    lock = threading.Lock()

    def work():
        with gate:
            with lock:
                inside.append(gate.current)
            time.sleep(0.01)

    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert max(inside) <= 3 and gate.peak == 3
