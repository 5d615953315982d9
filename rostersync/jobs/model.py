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


RunSync = Callable[[int, Mode], SyncReport]


@dataclass(kw_only=True)
class JobServices:
    """What the scheduler and the workers use, built once per process.

    ``run_sync(connection_id, mode)`` runs one sync (it may raise; Terminal and
    Transient errors are told apart); ``engine`` is the store; ``clock`` gives
    aware UTC time (tests move it); ``retry`` is the retry policy.
    """

    engine: Engine
    run_sync: RunSync
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Callable[[], datetime] = utcnow
    close: Callable[[], None] = lambda: None
