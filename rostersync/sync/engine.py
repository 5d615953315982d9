"""One sync run: plan -> fetch -> stage -> diff -> guard -> apply.

::

    engine = SyncEngine(engine=db_engine, vault=vault, reader_factory=client_reader_factory())
    result = engine.run("springfield", mode="full")          # or mode="delta", dry_run=True
    if result.held:
        engine.approve(result.run_id)                        # or engine.discard(result.run_id)

* **plan**: a full run reads every collection of ``SYNC_RESOURCES`` whole; a
  delta run reads each since its checkpoint minus the overlap window (1 hour;
  a collection without a checkpoint is read whole).
* **fetch/stage**: records are staged on disk in batches (:mod:`.fetch`), from
  a child process on a SQLite file store (:mod:`rostersync.store.stagewriter`).
  A collection that cannot reach the provider at all (no connection, no answer
  in time) ends the reading: the rest are recorded as not read, not retried
  one by one.
* **diff**: in SQL (:mod:`rostersync.store.staging`), each record classified
  as it is staged. Deletions come from ``tobedeleted`` and, in full runs
  only, from absence, for kinds whose every collection came back complete and
  non-empty (users need both students and teachers). References to unknown
  records are counted, never fatal; they never hold a run, so an applied run
  counts them on a second connection while it applies.
* **guard**: :mod:`.guard`; a held run keeps its staged diff for
  :meth:`SyncEngine.approve` (refused if another run was applied since) or
  :meth:`SyncEngine.discard`.
* **apply**: every change, the change feed and the new checkpoints (the
  greatest dateLastModified the provider returned per collection) in one
  transaction. A process killed at any point leaves the roster as it was;
  the next run marks the dead run failed and cleans what it staged.

One run per connection at a time (:func:`rostersync.store.sync_lock`); a
second one raises :class:`SyncAlreadyRunning` at once. A dry run computes and
reports the diff, then drops it. A ``Terminal`` error (refused credentials,
forbidden, a wrong vault key) fails the run with its fix and changes nothing;
the result is returned with ``state == "failed"``. Any other exception is
recorded on the run and re-raised.
"""

from __future__ import annotations

import contextlib
import datetime
import gc
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from ..errors import RostersyncError, Terminal
from ..oneroster.kinds import SYNC_ORDER, Kind
from ..oneroster.resources import RESOURCES, SYNC_RESOURCES
from ..store import runs as store_runs
from ..store import staging
from ..store import stagewriter
from ..store.apply import apply_staged
from ..store.checkpoints import get_checkpoints, set_checkpoints
from ..store.connections import (
    StoredConnection,
    get_connection,
    get_connection_by_id,
    set_last_applied_run,
)
from ..store.engine import begin_write, checkpoint_wal, shares_one_connection, sqlite_path
from ..store.locks import sync_lock
from ..store.tables import OP_ABSENT, OP_CREATE, OP_DELETE, OP_NONE, OP_SAME, OP_SKIP, OP_UPDATE
from ..store.types import UTC
from ..vault import Vault
from .allocator import hold_mmap_threshold
from .errors import ConnectionPaused, RunNotHeld, StoreMoved
from .fetch import COMPLETE, EMPTY, FAILED, CollectionRead, IssueLog, Progress, read_collection
from .guard import Thresholds, hold_reasons
from .reader import ReaderFactory
from .result import KIND_LABELS, Issue, KindCounts, RunResult

DEFAULT_OVERLAP = datetime.timedelta(hours=1)
log = logging.getLogger(__name__)


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(UTC)


_GC_LOCK = threading.Lock()
_GC_USERS = 0
_GC_SAVED: tuple[int, ...] = ()
GC_THRESHOLD0 = 50_000  # allocations between young collections while a sync runs (Python's default: 700)


@contextlib.contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect garbage less often while syncs run: a sync allocates millions of short-lived
    objects (refcounting frees them; they hold no cycles), and Python's default of a young
    collection every 700 allocations costs about a sixth of the run's CPU."""
    global _GC_USERS, _GC_SAVED
    with _GC_LOCK:
        if _GC_USERS == 0:
            _GC_SAVED = gc.get_threshold()
            gc.set_threshold(max(GC_THRESHOLD0, _GC_SAVED[0]), *_GC_SAVED[1:])
        _GC_USERS += 1
    try:
        yield
    finally:
        with _GC_LOCK:
            _GC_USERS -= 1
            if _GC_USERS == 0:
                gc.set_threshold(*_GC_SAVED)


class SyncEngine:
    """Runs, approves and discards syncs of stored connections (see the module docstring)."""

    def __init__(
        self,
        *,
        engine: Engine,
        vault: Vault,
        reader_factory: ReaderFactory,
        clock: Callable[[], datetime.datetime] = _utcnow,
        overlap: datetime.timedelta = DEFAULT_OVERLAP,
        batch_size: int = 2_000,
        max_warnings: int = 200,
        staging_process: bool = True,
    ) -> None:
        self.engine = engine
        self.vault = vault
        self.reader_factory = reader_factory
        self.clock = clock
        self.overlap = overlap
        self.batch_size = batch_size
        self.max_warnings = max_warnings
        # stage from a child process when the store is a SQLite file (rostersync.store.stagewriter)
        self.staging_process = staging_process and stagewriter.usable(engine)
        hold_mmap_threshold()  # a sync's multi-megabyte buffers go back to the system when freed (.allocator)

    # -- public API ------------------------------------------------------------

    def run(
        self, connection: str, *, mode: str = "full", dry_run: bool = False, progress: Progress | None = None,
    ) -> RunResult:
        """Sync one connection by name; returns the run's result (applied, held, discarded or failed)."""
        if mode not in store_runs.MODES:
            raise ValueError(f"mode must be 'full' or 'delta', got {mode!r}")
        with self.engine.connect() as db:
            conn = get_connection(db=db, name=connection)
        if conn.paused:
            raise ConnectionPaused(conn.name)
        with sync_lock(self.engine, connection_id=conn.id, name=conn.name):
            conn, checkpoints, run_id = self._start(conn.id, mode, dry_run)
            try:
                with _fewer_collections():
                    self._sync(conn, run_id, mode, dry_run, checkpoints, progress)
            except BaseException as exc:
                self._crash(run_id, exc)
                raise
        result = self.result(run_id)
        total = result.total
        log.info("%s sync %d of %r %s: %d records read, %d created, %d updated, %d deleted, %d warnings, %.1fs",
                 mode, run_id, conn.name, "previewed" if dry_run else result.state, result.records_read,
                 total.created, total.updated, total.deleted, len(result.warnings), result.duration)
        return result

    def approve(self, run_id: int) -> RunResult:
        """Apply a held run's staged diff exactly; :class:`StoreMoved` if another run was applied since."""
        run = self._held(run_id)
        with sync_lock(self.engine, connection_id=run.connection_id, name=run.connection_name):
            run = self._held(run_id)
            self._apply(run.id, run.connection_id, run.base_run_id)
        return self.result(run_id)

    def discard(self, run_id: int) -> RunResult:
        """Drop a held run's staged diff; the store is left as it is."""
        run = self._held(run_id)
        with sync_lock(self.engine, connection_id=run.connection_id, name=run.connection_name):
            with begin_write(self.engine, foreign_keys=False) as db:
                run = self._held(run_id, db=db)
                store_runs.update_run(db=db, run_id=run_id, state=store_runs.DISCARDED)
                staging.clear_run(db=db, run_id=run_id)
        return self.result(run_id)

    def result(self, run_id: int) -> RunResult:
        """The result of any run, as stored."""
        with self.engine.connect() as db:
            return RunResult.from_run(store_runs.get_run(db=db, run_id=run_id))

    # -- the steps -------------------------------------------------------------

    def _start(self, connection_id: int, mode: str, dry_run: bool):
        with begin_write(self.engine) as db:
            store_runs.fail_interrupted_runs(db=db, connection_id=connection_id, now=self.clock())
            staging.purge_stale(db=db, connection_id=connection_id)
            conn = get_connection_by_id(db=db, connection_id=connection_id)
            checkpoints = get_checkpoints(db=db, connection_id=connection_id)
            run_id = store_runs.create_run(
                db=db, connection_id=connection_id, mode=mode, dry_run=dry_run,
                base_run_id=conn.last_applied_run_id, now=self.clock(),
            )
        return conn, checkpoints, run_id

    def _plan(self, mode: str, checkpoints: Mapping[str, datetime.datetime]):
        for name in SYNC_RESOURCES:
            checkpoint = checkpoints.get(name) if mode == "delta" else None
            yield name, (checkpoint - self.overlap if checkpoint is not None else None)

    def _sync(self, conn: StoredConnection, run_id: int, mode: str, dry_run: bool,
              checkpoints: Mapping[str, datetime.datetime], progress: Progress | None) -> None:
        issues = IssueLog(self.max_warnings)
        reads: dict[str, CollectionRead] = {}
        try:
            self._fetch(conn, run_id, mode, checkpoints, issues, reads, progress)
        except Terminal as exc:
            self._fail(run_id, Issue("terminal", exc.message, fix=exc.fix), reads)
            return
        if reads and all(r.state == FAILED for r in reads.values()):
            # Nothing could be read (provider down, network gone): a failure, not an empty success.
            first = next(r.error for r in reads.values())
            self._fail(run_id, Issue("unreachable", "no collection could be read"
                                     + (f": {first.message}" if first else ""),
                                     fix=first.fix if first else None), reads)
            return
        copying = self._copy_staged()  # meanwhile, the staged pages go into the database file
        try:
            diff = self._diff(conn, run_id, mode, checkpoints, issues, reads)
        except BaseException:
            _join(copying)
            raise
        if dry_run or diff.held:
            _join(copying)
            with begin_write(self.engine, foreign_keys=not dry_run) as db:
                diff.record_references(db, staging.unresolved_references(db=db, run_id=run_id, connection_id=conn.id))
                if dry_run:
                    staging.clear_run(db=db, run_id=run_id)
                store_runs.update_run(db=db, run_id=run_id, finished_at=self.clock(),
                                      state=store_runs.DISCARDED if dry_run else store_runs.HELD)
        else:
            self._apply(run_id, conn.id, conn.last_applied_run_id, diff=diff, copying=copying)

    def _fetch(self, conn: StoredConnection, run_id: int, mode: str, checkpoints: Mapping[str, datetime.datetime],
               issues: IssueLog, reads: dict[str, CollectionRead], progress: Progress | None) -> None:
        """Read and stage every collection of the plan into ``reads``; Terminal errors propagate."""
        reader = self._reader(conn)
        process = None
        try:
            if self.staging_process:
                try:
                    process = stagewriter.StagingProcess(self.engine)
                except (OSError, stagewriter.StagingFailed) as exc:  # stage from a thread instead
                    log.warning("the staging writer process did not start (%s); staging in this process", exc)
            unreachable = None  # a collection that could not reach the provider at all
            plan = list(self._plan(mode, checkpoints))
            prefetch = getattr(reader, "prefetch", None)
            for number, (name, since) in enumerate(plan):
                if unreachable is not None:  # every other collection would spend its retries the same way
                    reads[name] = _not_read(name, since, unreachable)
                    continue
                if prefetch is not None and number + 1 < len(plan):  # the next collection's first page
                    prefetch(plan[number + 1][0], since=plan[number + 1][1])
                reads[name] = read_collection(
                    engine=self.engine, reader=reader, run_id=run_id, connection_id=conn.id, name=name, since=since,
                    issues=issues, batch_size=self.batch_size, progress=progress, process=process,
                )
                if reads[name].unreachable:
                    unreachable = reads[name]
        finally:
            if process is not None:
                process.close()
            close = getattr(reader, "close", None)
            if callable(close):
                close()

    def _diff(self, conn: StoredConnection, run_id: int, mode: str, checkpoints: Mapping[str, datetime.datetime],
              issues: IssueLog, reads: Mapping[str, CollectionRead]) -> _Diff:
        """Classify the staged rows, count, guard; record it all on the run. References are
        checked afterwards (:meth:`_Diff.record_references`): they never hold a run, so an
        applied run counts them while it applies."""
        warnings = [r.error for r in reads.values() if r.error is not None]
        if mode == "full":
            warnings += [
                Issue("collection_empty", f"{r.name} came back empty; no {r.kind.value} record was deleted",
                      fix="If the district really has none, nothing is wrong; otherwise check the data shared "
                          "with this connection.")
                for r in reads.values() if r.state == EMPTY
            ]
        # No WAL checkpoint at this commit: the run's staged pages are being copied meanwhile
        # (see _copy_staged), and the apply copies what this commits before it begins.
        with begin_write(self.engine, checkpoint=False) as db:
            for kind in self._reconcilable(mode, reads):
                staging.mark_absent(db=db, kind=kind, run_id=run_id, connection_id=conn.id)
            counts, repeated = {}, []
            for kind in SYNC_ORDER:
                ops, dups = staging.op_and_duplicate_counts(db=db, kind=kind, run_id=run_id)
                counts[kind] = _counts(ops)
                if dups:
                    repeated.append(kind)
            warnings += _duplicate_issues(db, run_id, repeated)
            reasons = hold_reasons(counts, staging.live_counts(db=db, connection_id=conn.id), Thresholds.of(conn))
            diff = _Diff(run_id, bool(reasons), warnings, issues.finish())
            store_runs.update_run(
                db=db, run_id=run_id,
                records_read=sum(r.records for r in reads.values()),
                counts={kind.value: c.to_dict() for kind, c in counts.items()},
                collections={name: r.to_dict() for name, r in reads.items()},
                warnings=diff.warnings(),
                hold_reasons=reasons,
                pending_checkpoints=_new_checkpoints(reads, checkpoints),
            )
        return diff

    def _reader(self, conn: StoredConnection):
        secrets = conn.secrets(self.vault)
        try:
            return self.reader_factory(conn, secrets)
        except ValueError as exc:
            raise Terminal(f"the settings of connection {conn.name!r} are not valid: {exc}",
                           fix="Remove the connection and add it again.") from exc

    @staticmethod
    def _reconcilable(mode: str, reads: Mapping[str, CollectionRead]) -> list[Kind]:
        if mode != "full":
            return []
        by_kind: dict[Kind, list[CollectionRead]] = {}
        for read in reads.values():
            by_kind.setdefault(read.kind, []).append(read)
        return [kind for kind in SYNC_ORDER
                if kind in by_kind and all(r.state == COMPLETE for r in by_kind[kind])]

    def _apply(self, run_id: int, connection_id: int, expected_base: int | None, *, diff: _Diff | None = None,
               copying: threading.Thread | None = None) -> None:
        """Apply the run in one transaction. With ``diff`` (a run just read, not yet checked for
        references), the references are counted on a second connection meanwhile (reading the
        staged tables and the roster as committed before the apply, which gives the same answer
        as after it) and recorded in the same transaction.

        ``copying`` is the thread of :meth:`_copy_staged`. The apply waits for it, then
        checkpoints what the diff committed since, and only then begins: its transaction starts
        on a WAL that is all in the database file, so SQLite writes the apply's pages over the
        WAL from its start instead of after the staged ones. The WAL of a 1M-record first sync
        then peaks at about 760 MB instead of 1.35 GB, and the apply writes into file pages
        the kernel already holds (allocating fresh ones cost the apply several seconds of
        kernel time on this machine). If a reader of another process still needs the WAL,
        SQLite appends instead, as before; nothing else changes.

        The apply commits without a checkpoint; the transaction that empties the staged tables
        right after copies the apply's pages and its own in one checkpoint."""
        now = self.clock()
        pool = counting = None
        if copying is not None:
            copying.join()
            self._checkpoint()
        if diff is not None and not shares_one_connection(self.engine):
            pool = ThreadPoolExecutor(1, thread_name_prefix="rostersync-apply")
            counting = pool.submit(self._count_references, run_id, connection_id)
        try:
            with begin_write(self.engine, checkpoint=False) as db:
                conn = get_connection_by_id(db=db, connection_id=connection_id)
                if conn.last_applied_run_id != expected_base:
                    raise StoreMoved(run_id, conn.last_applied_run_id)
                if diff is not None and counting is None:
                    diff.record_references(db, staging.unresolved_references(
                        db=db, run_id=run_id, connection_id=connection_id))
                run = store_runs.get_run(db=db, run_id=run_id)
                apply_staged(db=db, run_id=run_id, connection_id=connection_id, now=now, counts=run.counts)
                set_checkpoints(
                    db=db, connection_id=connection_id, run_id=run_id, now=now,
                    values={name: datetime.datetime.fromisoformat(v) for name, v in run.pending_checkpoints.items()},
                )
                set_last_applied_run(db=db, connection_id=connection_id, run_id=run_id)
                if counting is not None:
                    diff.record_references(db, counting.result())
                store_runs.update_run(db=db, run_id=run_id, state=store_runs.APPLIED,
                                      finished_at=run.finished_at or now)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)
        with begin_write(self.engine, foreign_keys=False) as db:
            staging.clear_run(db=db, run_id=run_id)

    def _copy_staged(self) -> threading.Thread | None:
        """Start checkpointing what the run staged on a helper thread (a SQLite file store:
        the staging writer commits without checkpoints), so it overlaps the diff; None when
        there is nothing to copy (PostgreSQL, an in-memory store)."""
        if sqlite_path(self.engine) is None:
            return None
        thread = threading.Thread(target=self._checkpoint, name="rostersync-copy-staged", daemon=True)
        thread.start()
        return thread

    def _checkpoint(self) -> None:
        try:
            checkpoint_wal(self.engine)
        except Exception as exc:  # the apply's own commit path checkpoints later anyway
            log.warning("copying the staged pages into the database file failed (%s); left to the next commit",
                        type(exc).__name__)

    def _count_references(self, run_id: int, connection_id: int) -> list[staging.Unresolved]:
        with self.engine.connect() as db:
            return staging.unresolved_references(db=db, run_id=run_id, connection_id=connection_id)

    def _held(self, run_id: int, *, db=None):
        if db is None:
            with self.engine.connect() as db:
                return self._held(run_id, db=db)
        run = store_runs.get_run(db=db, run_id=run_id)
        if run.state != store_runs.HELD:
            raise RunNotHeld(run_id, run.state)
        return run

    def _fail(self, run_id: int, error: Issue, reads: Mapping[str, CollectionRead]) -> None:
        with begin_write(self.engine, foreign_keys=False) as db:
            staging.clear_run(db=db, run_id=run_id)
            store_runs.update_run(
                db=db, run_id=run_id, state=store_runs.FAILED, finished_at=self.clock(), errors=[error.to_dict()],
                records_read=sum(r.records for r in reads.values()),
                collections={name: r.to_dict() for name, r in reads.items()},
            )

    def _crash(self, run_id: int, exc: BaseException) -> None:
        if isinstance(exc, RostersyncError):
            error = Issue("error", exc.message, fix=exc.fix)
        elif isinstance(exc, KeyboardInterrupt):
            error = Issue("interrupted", "the sync was interrupted and changed nothing", fix="Run it again.")
        else:
            error = Issue("internal", f"the sync stopped on an unexpected {type(exc).__name__} and changed nothing",
                          fix="Run it again; if it happens again, report it with the server log.")
        try:
            if self.result(run_id).state == store_runs.APPLIED:  # stopped while cleaning up after the commit
                with begin_write(self.engine, foreign_keys=False) as db:
                    staging.clear_run(db=db, run_id=run_id)
            else:
                self._fail(run_id, error, {})
        except Exception:  # the original error matters more; the next run cleans up
            pass


@dataclass
class _Diff:
    """What :meth:`SyncEngine._diff` decided, and the run's warnings around the reference check."""

    run_id: int
    held: bool
    head: list[Issue]  # failed and empty collections, duplicates
    tail: list[Issue]  # malformed records and field problems

    def warnings(self, unresolved: Sequence[staging.Unresolved] = ()) -> list[dict[str, Any]]:
        return [w.to_dict() for w in [*self.head, *(_unresolved_issue(u) for u in unresolved), *self.tail]]

    def record_references(self, db, unresolved: Sequence[staging.Unresolved]) -> None:
        store_runs.update_run(
            db=db, run_id=self.run_id, warnings=self.warnings(unresolved),
            unresolved={u.ref.label: {"count": u.count, "examples": u.examples} for u in unresolved},
        )


def _join(thread: threading.Thread | None) -> None:
    if thread is not None:
        thread.join()


def _not_read(name: str, since: datetime.datetime | None, cause: CollectionRead) -> CollectionRead:
    """A collection left unread because ``cause`` could not reach the provider: failed, so
    nothing of its kind is reconciled."""
    kind = RESOURCES[name].kind
    return CollectionRead(name, kind, since, state=FAILED, error=Issue(
        "collection_not_read",
        f"{name} was not read because {cause.name} could not reach the provider; no {kind.value} record "
        "was deleted",
        fix=cause.error.fix if cause.error else "Run the sync again later.",
    ))


def _counts(ops: Mapping[str, int]) -> KindCounts:
    return KindCounts(
        created=ops.get(OP_CREATE, 0), updated=ops.get(OP_UPDATE, 0),
        deleted=ops.get(OP_DELETE, 0) + ops.get(OP_ABSENT, 0),
        unchanged=ops.get(OP_SAME, 0) + ops.get(OP_NONE, 0), skipped=ops.get(OP_SKIP, 0),
    )


def _duplicate_issues(db, run_id: int, kinds: Sequence[Kind]) -> list[Issue]:
    """Warnings for the sourcedIds of ``kinds`` that the run read more than once."""
    out = []
    for kind in kinds:
        total, dups = staging.duplicates(db=db, kind=kind, run_id=run_id, limit=20)
        for dup in dups:
            if dup.conflicting:
                text = f"{kind.value} {dup.sourced_id!r} was read {dup.count} times with different content; " \
                       "the stored copy was kept"
            else:
                text = f"{kind.value} {dup.sourced_id!r} was read {dup.count} times (identical copies; applied once)"
            out.append(Issue("duplicate", text, kind=kind.value, sourced_id=dup.sourced_id,
                             fix="Report the duplicate sourcedId to the district's SIS vendor."))
        if total > len(dups):
            out.append(Issue("duplicate", f"{total - len(dups)} more {KIND_LABELS[kind]} were read more than once",
                             kind=kind.value, count=total - len(dups)))
    return out


def _unresolved_issue(u: staging.Unresolved) -> Issue:
    target = KIND_LABELS[u.ref.target]
    examples = ", ".join(f"{u.kind.value} {sid!r} -> {missing!r}" for sid, missing in u.examples)
    return Issue(
        "unresolved",
        f"{u.count} {KIND_LABELS[u.kind]} refer to {target} that are not in the roster ({u.ref.label}; e.g. {examples})",
        fix="Usually the district's data shared with this connection leaves those records out; they are kept as sent.",
        kind=u.kind.value, sourced_id=u.examples[0][0] if u.examples else None, count=u.count,
    )


def _new_checkpoints(reads: Mapping[str, CollectionRead], old: Mapping[str, datetime.datetime]) -> dict[str, str]:
    """The greatest dateLastModified per collection that was read completely (never moving back)."""
    out = {}
    for name, read in reads.items():
        if read.state == COMPLETE and read.newest is not None:
            previous = old.get(name)
            if previous is None or read.newest > previous:
                out[name] = read.newest.isoformat()
    return out

