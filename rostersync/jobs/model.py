"""The small values the job machinery passes around: orders, reports, outcomes, services."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import Engine

from ..schedule import Mode, RetryPolicy

MANUAL = "manual"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Order:
    """One sync to run: a night's scheduled run (``night`` set) or a manual run."""

    connection_id: int
    mode: Mode
    reason: str = MANUAL
    night: date | None = None
    deadline: datetime | None = None  # end of the night's window; None for manual runs

    @property
    def scheduled(self) -> bool:
        return self.night is not None

    def to_job_args(self) -> dict[str, Any]:
        """JSON-able keyword arguments for a queued job."""
        return {
            "connection_id": self.connection_id,
            "mode": self.mode,
            "reason": self.reason,
            "night": self.night.isoformat() if self.night else None,
            "deadline": self.deadline.isoformat() if self.deadline else None,
        }

    @classmethod
    def from_job_args(cls, args: dict[str, Any]) -> Order:
        night = args.get("night")
        deadline = args.get("deadline")
        if args.get("mode") not in ("full", "delta"):
            raise ValueError(f"job mode must be full or delta, got {args.get('mode')!r}")
        return cls(
            connection_id=int(args["connection_id"]),
            mode=args["mode"],
            reason=str(args.get("reason") or MANUAL),
            night=date.fromisoformat(night) if night else None,
            deadline=datetime.fromisoformat(deadline) if deadline else None,
        )


@dataclass(frozen=True)
class SyncReport:
    """How one sync run ended, as the scheduler sees it."""

    state: str  # applied | incomplete (applied, some collections failed) | held | failed | paused
    run_id: int | None = None
    message: str | None = None
    fix: str | None = None
    terminal: bool = False  # a failure retrying cannot fix (credentials, forbidden)


@dataclass(frozen=True)
class Outcome:
    """What running an order did. ``kind`` is one of the schedule table's outcomes."""

    kind: str  # synced | held | error | gave_up | skipped | retrying | missed
    message: str
    run_id: int | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class RunEnded:
    """A run people need to hear about: held for review, or failed for good.

    ``event`` is ``run.held`` or ``run.failed``. A failure is announced once its
    order stops: the connection went to Error (``outcome="error"``) or ran out
    of retries (``outcome="gave_up"``); an attempt that will be retried is not.
    ``message`` and ``fix`` are the plain-language ones the dashboard shows
    (never a secret or roster data); ``detail`` says why retrying stopped.
    """

    event: str  # run.held | run.failed
    outcome: str  # held | error | gave_up
    connection_id: int
    connection_name: str
    mode: Mode
    reason: str  # why it ran: "manual", "nightly delta sync", "weekly full sync", ...
    scheduled: bool
    run_id: int | None = None  # None when the sync failed before its run was recorded
    message: str = ""
    fix: str | None = None
    detail: str = ""
    attempts: int = 1


RunSync = Callable[[int, Mode], SyncReport]
Announce = Callable[[RunEnded], None]


def _no_announce(event: RunEnded) -> None:
    return None


@dataclass(kw_only=True)
class JobServices:
    """What the scheduler and the workers use, built once per process.

    ``run_sync(connection_id, mode)`` runs one sync (it may raise; Terminal and
    Transient errors are told apart); ``engine`` is the store; ``clock`` gives
    aware UTC time (tests move it); ``retry`` is the retry policy;
    ``announce(event)`` is told of every run that ended held or failed for good
    (a staff notification and the webhook; whatever it raises is logged, never
    passed on to the job).
    """

    engine: Engine
    run_sync: RunSync
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Callable[[], datetime] = utcnow
    announce: Announce = _no_announce
    close: Callable[[], None] = lambda: None
