"""Fetch and stage: read one collection from the reader into the staged tables.

Records go to the database in batches (each its own short write transaction)
written by a background thread while the next batch is read, so memory stays
flat and reading overlaps writing. Malformed records (a :class:`RecordError`, a record with
severe problems, one too big to store) are reported with their kind and
sourcedId and never stop the collection; a record that is unusable but has a
sourcedId is staged as ``skip`` so its stored copy is kept, not deleted.

A collection ends ``complete``, ``empty`` (nothing usable came back) or
``failed`` (the reader raised a non-Terminal error: what it staged is dropped).
A ``Terminal`` error propagates: the engine fails the whole run.
"""

from __future__ import annotations

import datetime
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from ..errors import RostersyncError, Terminal
from ..oneroster.kinds import Kind, Version
from ..oneroster.records import Record, RecordError, parse_record
from ..oneroster.resources import RESOURCES
from ..source.errors import ConnectionDropped, Timeout
from ..store import staging
from ..store.engine import begin_write, shares_one_connection
from ..store.stagewriter import StagingFailed, StagingProcess
from .fastrows import fast_rows
from .reader import RosterReader
from .result import Issue
from .rows import RowRefused, skipped_values, staged_values

Progress = Callable[[str, int, "int | None"], None]  # (collection, records so far, total if known)

COMPLETE, EMPTY, FAILED = "complete", "empty", "failed"


class IssueLog:
    """A run's warnings, capped; field problems are summed per kind and field."""

    def __init__(self, limit: int = 200) -> None:
        self.limit = limit
        self.items: list[Issue] = []
        self.omitted = 0
        self._problems: dict[tuple[str, str], list[Any]] = {}

    def add(self, issue: Issue) -> None:
        if len(self.items) < self.limit:
            self.items.append(issue)
        else:
            self.omitted += issue.count

    def malformed(self, kind: Kind, sourced_id: str | None, message: str) -> None:
        self.add(Issue("malformed", message, kind=kind.value, sourced_id=sourced_id,
                       fix="Ask the district to correct this record in their SIS; it was left as it was."))

    def problems(self, record: Record) -> None:
        for problem in record.problems:
            key = (record.KIND.value, problem.field)
            entry = self._problems.get(key)
            if entry is None:
                self._problems[key] = [1, record.sourced_id, str(problem)]
            else:
                entry[0] += 1

    def finish(self) -> list[Issue]:
        out = list(self.items)
        for (kind, fieldname), (count, example, text) in sorted(self._problems.items()):
            out.append(Issue(
                "problems",
                f"{count} {kind} record(s) have a questionable {fieldname!r} (e.g. {kind} {example!r}: {text}); "
                "they were stored as sent",
                kind=kind, sourced_id=example, count=count,
            ))
        if self.omitted:
            out.append(Issue("omitted", f"{self.omitted} more warnings were not recorded", count=self.omitted))
        return out


@dataclass
class CollectionRead:
    name: str
    kind: Kind
    since: datetime.datetime | None
    state: str = COMPLETE
    records: int = 0  # items the reader yielded
    staged: int = 0  # usable records staged
    newest: datetime.datetime | None = None  # greatest dateLastModified seen
    error: Issue | None = None
    unreachable: bool = False  # failed without a single record: no connection, or no answer in time

    def to_dict(self) -> dict[str, Any]:
        return {"state": self.state, "records": self.records, "staged": self.staged,
                "since": self.since.isoformat() if self.since else None,
                "error": self.error.to_dict() if self.error else None}


class BatchWriter:
    """Stages batches while the next batch is read, so reading the provider and writing the
    database overlap: on a background thread, or through the run's :class:`StagingProcess`
    when it has one (a SQLite file store). At most ``depth`` batches wait, so memory stays bounded."""

    def __init__(self, engine: Engine, kind: Kind, run_id: int, connection_id: int, *, depth: int = 2,
                 process: StagingProcess | None = None) -> None:
        self._engine, self._kind, self._run_id, self._connection_id = engine, kind, run_id, connection_id
        self._process = process
        self._queue: queue.Queue[list[tuple] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._stop = False
        self._thread: threading.Thread | None = None
        if process is None and not shares_one_connection(engine):  # else write on the caller's thread
            self._thread = threading.Thread(target=self._work, name=f"stage-{kind.value}", daemon=True)
            self._thread.start()

    def _write(self, rows: list[tuple]) -> None:
        with begin_write(self._engine) as db:
            staging.stage_values(db=db, kind=self._kind, run_id=self._run_id, connection_id=self._connection_id,
                                 values=rows)

    def _work(self) -> None:
        while (rows := self._queue.get()) is not None:
            if self._error is not None or self._stop:
                continue
            try:
                self._write(rows)
            except BaseException as exc:  # re-raised on the reading thread
                self._error = exc

    def put(self, rows: list[tuple]) -> None:
        if self._process is not None:
            self._process.stage(self._kind, self._run_id, self._connection_id, rows)
        elif self._thread is None:
            self._write(rows)
        else:
            self._raise()
            self._queue.put(rows)

    def close(self) -> None:
        """Wait until every batch is written; raises what the writer raised."""
        if self._process is not None:
            self._process.flush()
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
        self._raise()

    def abort(self) -> None:
        """Stop writing (queued batches are dropped) and wait until nothing more can be written."""
        self._stop = True
        if self._process is not None:
            try:
                self._process.flush()
            except StagingFailed:
                pass
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error


def read_collection(
    *,
    engine: Engine,
    reader: RosterReader,
    run_id: int,
    connection_id: int,
    name: str,
    since: datetime.datetime | None,
    issues: IssueLog,
    batch_size: int = 2_000,
    progress: Progress | None = None,
    process: StagingProcess | None = None,
) -> CollectionRead:
    """Read and stage one collection (see the module docstring); Terminal errors propagate, and so
    does :class:`StagingFailed` (the store, not the provider, failed). ``process`` stages the
    batches from a child process (:mod:`rostersync.store.stagewriter`)."""
    kind = RESOURCES[name].kind
    out = CollectionRead(name, kind, since)
    batch: list[tuple] = []
    newest = None
    writer = BatchWriter(engine, kind, run_id, connection_id, process=process)
    read_pages = getattr(reader, "read_pages", None)
    read_objects = getattr(reader, "read_objects", None)
    version = getattr(reader, "version", None)
    records = staged = 0
    try:
        if version is not None and (read_pages or read_objects) is not None:  # plain records: the fast route
            pages = (read_pages(name, since=since) if read_pages is not None
                     else ([obj] for obj in read_objects(name, since=since)))
            row_lists = _page_rows(pages, kind, name, version, issues)
        else:
            row_lists = ([_row(item, kind, name, issues)] for item in reader.read(name, since=since))
        for rows in row_lists:
            for row in rows:
                records += 1
                if row is None:
                    continue
                if not row[2]:  # skip
                    staged += 1
                    modified = row[5]  # date_last_modified
                    if modified is not None and (newest is None or modified > newest):
                        newest = modified
                batch.append(row)
                if len(batch) >= batch_size:
                    out.records, out.staged = records, staged
                    writer.put(batch)
                    batch = []
                    if progress is not None:
                        progress(name, records, None)
        out.records, out.staged = records, staged
        if batch:
            writer.put(batch)
        writer.close()
        out.newest = newest
    except RostersyncError as exc:
        out.records, out.staged = records, staged
        writer.abort()
        if isinstance(exc, (Terminal, StagingFailed)):
            raise
        with begin_write(engine) as db:
            staging.drop_collection(db=db, kind=kind, run_id=run_id, collection=name)
        out.state = FAILED
        out.unreachable = out.records == 0 and isinstance(exc, (ConnectionDropped, Timeout))
        out.error = Issue(
            "collection_failed",
            f"{name} could not be read completely ({exc.message}); nothing from it was applied and "
            f"no {kind.value} record was deleted",
            fix=getattr(exc, "fix", None) or "Run the sync again later.",
        )
        return out
    except BaseException:
        writer.abort()
        raise
    if progress is not None:
        progress(name, out.records, None)
    if out.staged == 0:
        out.state = EMPTY
    return out


_SLICE = 500  # objects turned into rows at a time


def _page_rows(pages: Iterator[list[Any]], kind: Kind, collection: str, version: Version,
               issues: IssueLog) -> Iterator[list[tuple | None]]:
    """The staged values of each JSON object the reader yields, a page at a time (None to drop
    one): plain ones by the fast route, the others through the typed parser, which reports
    their problems."""
    fast = fast_rows(kind, collection, version)
    for page in pages:
        # a slice at a time, so the writer gets its first batch of a page early, not after all of it
        for start in range(0, len(page), _SLICE):
            objects = page[start:start + _SLICE]
            rows = list(map(fast, objects)) if fast is not None else [None] * len(objects)
            if None in rows:
                for at, row in enumerate(rows):
                    if row is None:
                        rows[at] = _parsed_row(objects[at], kind, collection, version, issues)
            yield rows


def _parsed_row(obj: Any, kind: Kind, collection: str, version: Version, issues: IssueLog) -> tuple | None:
    try:
        item: Record | RecordError = parse_record(kind, obj, version)
    except RecordError as exc:
        item = exc
    return _row(item, kind, collection, issues)


def _row(item: Any, kind: Kind, collection: str, issues: IssueLog) -> tuple | None:
    """The staged values of one item the reader yielded (see :func:`.rows.staged_values`); None to drop it."""
    if isinstance(item, RecordError):
        issues.malformed(kind, item.sourced_id, item.message)
        return None
    if not isinstance(item, Record) or item.KIND is not kind:
        got = item.KIND.value if isinstance(item, Record) else type(item).__name__
        issues.add(Issue("malformed", f"{collection} returned a {got} where a {kind.value} belongs; ignored",
                         kind=kind.value, sourced_id=getattr(item, "sourced_id", None)))
        return None
    severe = item.severe_problems if item.problems else None
    if severe:
        issues.malformed(kind, item.sourced_id, f"{kind.value} {item.sourced_id!r}: "
                         + "; ".join(str(p) for p in severe))
        return skipped_values(kind, item.sourced_id, collection)
    try:
        row = staged_values(item, collection)
    except RowRefused as exc:
        issues.malformed(kind, item.sourced_id, f"{kind.value} {item.sourced_id!r} {exc}")
        return skipped_values(kind, item.sourced_id, collection)
    if item.problems:
        issues.problems(item)
    return row
