"""Wiring the job machinery to the store, the vault and the sync engine
(built by :func:`rostersync.services.build_services`)."""

from __future__ import annotations

from sqlalchemy import Engine

from ..schedule import Mode, RetryPolicy
from ..services import Services, build_services
from ..settings import Settings
from ..store.connections import get_connection_by_id
from ..sync import ConnectionPaused, RunResult, SyncEngine
from ..sync.reader import ReaderFactory
from .model import Announce, JobServices, SyncReport
from .notices import run_notifier


def report_from_result(result: RunResult) -> SyncReport:
    """The scheduler's view of a sync engine result."""
    if result.state == "held":
        reasons = "; ".join(result.hold_reasons) or "the guard held the run"
        return SyncReport(state="held", run_id=result.run_id, message=f"held for review: {reasons}")
    if result.state == "failed":
        first = result.errors[0] if result.errors else None
        return SyncReport(
            state="failed",
            run_id=result.run_id,
            message=first.message if first else "the sync failed",
            fix=first.fix if first else None,
            terminal=any(issue.code == "terminal" for issue in result.errors),
        )
    failed = [name for name, read in result.collections.items() if read.get("state") == "failed"]
    if failed:
        # Applied, but those collections were not read (a provider hiccup): worth another try tonight.
        first = next((w for w in result.warnings if w.code == "collection_failed"), None)
        return SyncReport(
            state="incomplete",
            run_id=result.run_id,
            message=f"{len(failed)} of {len(result.collections)} collections could not be read "
                    f"({', '.join(failed)}); the rest was applied",
            fix=first.fix if first else None,
        )
    return SyncReport(state="applied", run_id=result.run_id)


def sync_runner(sync: SyncEngine, engine: Engine):
    """``run_sync(connection_id, mode)`` over a :class:`SyncEngine`."""

    def run_sync(connection_id: int, mode: Mode) -> SyncReport:
        with engine.connect() as db:
            name = get_connection_by_id(db=db, connection_id=connection_id).name
        try:
            result = sync.run(name, mode=mode)
        except ConnectionPaused:
            return SyncReport(state="paused", message="paused")
        return report_from_result(result)

    return run_sync


def build_job_services(
    settings: Settings,
    *,
    engine: Engine | None = None,
    retry: RetryPolicy | None = None,
    reader_factory: ReaderFactory | None = None,
    shared: Services | None = None,
    announce: Announce | None = None,
) -> JobServices:
    """Services for a worker, a scheduler or ``rostersync serve``: pass its ``engine`` to share the
    store, or ``shared`` to share the store, the vault and the sync engine (neither is closed with these).

    The store is not migrated here and the key must exist (the sync engine only reads it). Runs that
    end held or failed are announced by ``announce``, by default the dashboard's notifications and
    webhook (:mod:`rostersync.jobs.notices`).
    """
    core = shared if shared is not None else build_services(settings, engine=engine, reader_factory=reader_factory,
                                                            migrate=False, create_key=False)
    if announce is None:
        announce = run_notifier(settings, engine=core.engine, vault=core.vault)
    return JobServices(
        engine=core.engine,
        run_sync=sync_runner(core.sync, core.engine),
        retry=retry or RetryPolicy(),
        announce=announce,
        close=core.close if shared is None else (lambda: None),
    )
