"""The schedules in-process: for SQLite deployments with no PostgreSQL and no workers.

``rostersync serve`` starts one :class:`EmbeddedScheduler`: a thread that
every ``tick`` seconds claims the nights that are due (the claim is a write
transaction, so two server processes on one store never both take a night)
and runs them on a small thread pool with the same runner, rules and retry
policy as the queued workers. Retries of Transient failures wait in memory;
after a restart, a night that was claimed but not finished is resumed while
its window is still open. The store's sync lock still keeps one sync per
connection across processes (a CLI sync included).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

from ..errors import ConfigError
from ..schedule import Due, current_night, mode_for, window_of
from ..settings import Settings
from ..store.engine import begin_write
from ..store.schedule_tables import claim_night
from . import runner
from .model import JobServices, Order
from .planner import Verdict, review

log = logging.getLogger(__name__)


class EmbeddedScheduler:
    """Runs due syncs in this process. Start with :meth:`start`, end with :meth:`stop`."""

    def __init__(self, services: JobServices, *, tick: float = 30.0, concurrency: int = 1) -> None:
        if concurrency < 1:
            raise ConfigError("the embedded scheduler needs a concurrency of at least 1")
        self.services = services
        self.tick_seconds = tick
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="rostersync-sync")
        self._lock = threading.Lock()
        self._inflight: set[int] = set()
        self._retries: dict[int, tuple[datetime, Order, int]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._resumed = False

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> EmbeddedScheduler:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="rostersync-scheduler", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop scheduling and wait up to ``timeout`` seconds for running syncs."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:  # noqa: BLE001 - the scheduler must outlive a bad tick
                log.exception("the embedded scheduler's tick failed; trying again next tick")
            self._stop.wait(self.tick_seconds)

    # -- work ----------------------------------------------------------------------

    def busy(self) -> set[int]:
        """Connections syncing (or about to) in this process."""
        with self._lock:
            return set(self._inflight)

    def run_now(self, connection_id: int, mode: str = "delta") -> bool:
        """Queue a manual run; False when this process is already syncing the connection."""
        if mode not in ("full", "delta"):
            raise ConfigError(f"sync mode must be full or delta, got {mode!r}")
        return self._submit(Order(connection_id=connection_id, mode=mode), attempt=1)  # type: ignore[arg-type]

    def tick(self, now: datetime | None = None) -> list[Order]:
        """One pass: claim and start what is due, start retries whose time came; returns what started."""
        now = now or self.services.clock()
        started: list[Order] = []
        verdicts = review(self.services, now)
        if not self._resumed:
            self._resumed = True
            started += self._resume(verdicts, now)
        for verdict in verdicts:
            decision = verdict.decision
            if not isinstance(decision, Due) or verdict.row.connection_id in self.busy():
                continue
            order = Order(
                connection_id=verdict.row.connection_id, mode=decision.mode, reason=decision.reason,
                night=decision.night, deadline=decision.window_end,
            )
            with begin_write(self.services.engine) as db:
                claimed = claim_night(db=db, connection_id=order.connection_id, night=decision.night, at=now)
            if claimed and self._submit(order, attempt=1):
                started.append(order)
        with self._lock:
            ready = [(cid, item) for cid, item in self._retries.items() if item[0] <= now]
            for cid, _ in ready:
                del self._retries[cid]
        for _, (_, order, attempt) in ready:
            if self._submit(order, attempt=attempt):
                started.append(order)
        return started

    def _resume(self, verdicts: list[Verdict], now: datetime) -> list[Order]:
        """Nights claimed by a previous process that did not finish, while their window is open."""
        resumed = []
        for verdict in verdicts:
            row, policy = verdict.row, verdict.policy
            if policy is None or row.claimed_night is None:
                continue
            if row.done_night is not None and row.done_night >= row.claimed_night:
                continue
            if current_night(policy, now) != row.claimed_night:
                continue
            mode, reason = mode_for(policy, row.claimed_night, row.last_full_at)
            order = Order(
                connection_id=row.connection_id, mode=mode, reason=reason, night=row.claimed_night,
                deadline=window_of(policy, row.claimed_night)[1],
            )
            if row.retry_at is not None and row.retry_at > now:
                with self._lock:
                    self._retries[row.connection_id] = (row.retry_at, order, row.attempts + 1)
            elif self._submit(order, attempt=row.attempts + 1):
                log.info("resuming the interrupted sync of connection %s", row.name)
                resumed.append(order)
        return resumed

    def _submit(self, order: Order, *, attempt: int) -> bool:
        with self._lock:
            if order.connection_id in self._inflight or self._stop.is_set():
                return False
            self._inflight.add(order.connection_id)
        try:
            self._pool.submit(self._run, order, attempt)
        except RuntimeError:  # the pool is shutting down
            with self._lock:
                self._inflight.discard(order.connection_id)
            return False
        return True

    def _run(self, order: Order, attempt: int) -> None:
        try:
            outcome = runner.execute(self.services, order, attempt=attempt)
            if outcome.kind == "retrying" and outcome.retry_at is not None:
                with self._lock:
                    self._retries[order.connection_id] = (outcome.retry_at, order, attempt + 1)
        except Exception:  # noqa: BLE001 - a failed bookkeeping write must not kill the pool
            log.exception("the scheduled sync of connection %s could not be recorded", order.connection_id)
        finally:
            with self._lock:
                self._inflight.discard(order.connection_id)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until no sync runs in this process (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        while self.busy():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)
        return True


def start_embedded_scheduler(
    settings: Settings,
    services: JobServices | None = None,
    *,
    tick: float = 30.0,
    concurrency: int = 1,
) -> EmbeddedScheduler:
    """Start the in-process scheduler (``rostersync serve`` on SQLite); call ``.stop()`` on shutdown."""
    if services is None:
        from .services import build_job_services

        services = build_job_services(settings)
    return EmbeddedScheduler(services, tick=tick, concurrency=concurrency).start()
