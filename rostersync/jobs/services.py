"""Wiring the job machinery to the store, the vault and the sync engine."""

from __future__ import annotations

from sqlalchemy import Engine

from ..schedule import Mode, RetryPolicy
from ..settings import Settings
from ..store.connections import get_connection_by_id
from ..store.engine import create_engine_for
from ..sync import ConnectionPaused, RunResult, SyncEngine, client_reader_factory
from ..sync.reader import ReaderFactory
from ..vault import Vault
from .model import JobServices, SyncReport


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
) -> JobServices:
    """Services for a worker, a scheduler or ``rostersync serve`` (pass its ``engine`` to share it)."""
    owned = engine is None
    engine = engine or create_engine_for(settings.database_url)
    sync = SyncEngine(
        engine=engine,
        vault=Vault.from_settings(settings),
        reader_factory=reader_factory or client_reader_factory(timeout=settings.http_timeout),
    )
    return JobServices(
        engine=engine,
        run_sync=sync_runner(sync, engine),
        retry=retry or RetryPolicy(),
        close=engine.dispose if owned else (lambda: None),
    )
