"""Staging a SQLite run from a second process.

A sync's reading thread (HTTP, JSON, building rows) and its staging writer
(binding every value of every row into SQLite) both need Python's GIL, and on
a large district the two threads take turns instead of working at once. For a
SQLite file store the engine therefore hands the batches to
:class:`StagingProcess`: a child Python process (``_stagechild.py``, which imports
only sqlite3 and orjson, so it starts in milliseconds) with its own SQLite
connection, fed batches as JSON over a pipe (orjson writes a batch several
times faster than pickle). It runs :func:`rostersync.store.staging.stage_values`'s
statement, so what lands in the staged tables is exactly what the in-process
writer stages, but it commits every ``COMMIT_ROWS`` rows or ``COMMIT_SECONDS``
(and when the collection ends) rather than every batch, and gives its SQLite
connection a larger page cache: both spare rewriting the staged tables' index
pages into the WAL over and over.

If the parent dies, the child reads end-of-input, rolls back the batch it was
writing and exits; batches already committed are a dead run's staged rows,
which the next run of the connection purges, as with the in-process writer.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import orjson
from sqlalchemy import Engine

from ..oneroster.kinds import Kind
from .engine import SQLITE_PRAGMAS, shares_one_connection, sqlite_path
from .errors import StoreError
from .staging import sqlite_stage_sql

_CHILD = Path(__file__).with_name("_stagechild.py")
_HEADER = struct.Struct(">I")
CACHE_KIB = 32 * 1024  # the child's SQLite page cache
CHILD_CHECKPOINT_PAGES = 65_536  # 1 GiB of WAL with 16 KiB pages: a 1.5M-record district stages below it


class StagingFailed(StoreError):
    """The staging writer process could not stage a batch."""


def usable(engine: Engine) -> bool:
    """True when runs of this store can be staged from a child process (a SQLite file)."""
    return engine.dialect.name == "sqlite" and not shares_one_connection(engine) and sqlite_path(engine) is not None


class StagingProcess:
    """One child process staging the batches of one run; at most ``depth`` batches in flight."""

    def __init__(self, engine: Engine, *, depth: int = 2) -> None:
        path = sqlite_path(engine)
        if engine.dialect.name != "sqlite" or path is None:
            raise ValueError("a staging process needs a SQLite file store")
        self._dialect = engine.dialect
        self._depth = depth
        self._pending = 0
        self._known: set[Kind] = set()
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [sys.executable, "-I", str(_CHILD)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, close_fds=True,
        )
        try:
            # Hardly any checkpoints in the child: they would copy every staged page into the
            # database file on the busiest core, during the fetch; the sync engine does that on a
            # helper thread once the fetch ends (SyncEngine._copy_staged). The bound keeps the WAL
            # of a very large district from growing without limit.
            pragmas = [*SQLITE_PRAGMAS, f"PRAGMA cache_size=-{CACHE_KIB}",
                       f"PRAGMA wal_autocheckpoint={CHILD_CHECKPOINT_PAGES}"]
            self._send(("open", str(path), pragmas))
            self._receive()
        except StagingFailed:
            self.close()
            raise

    @property
    def pid(self) -> int:
        return self._proc.pid

    # -- frames ----------------------------------------------------------------

    def _send(self, message: object) -> None:
        body = orjson.dumps(message, option=orjson.OPT_UTC_Z)
        try:
            # Two writes, not one of header + body: a batch's frame is over a megabyte, and
            # joining would copy it into a fresh allocation (new pages to fault in) each time.
            self._proc.stdin.write(_HEADER.pack(len(body)))
            self._proc.stdin.write(body)
            self._proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as exc:
            raise self._died() from exc

    def _receive(self) -> list:
        header = self._proc.stdout.read(_HEADER.size)
        if len(header) < _HEADER.size:
            raise self._died()
        size = _HEADER.unpack(header)[0]
        body = self._proc.stdout.read(size)
        if len(body) < size:
            raise self._died()
        answer = orjson.loads(body)
        if answer[0] == "error":
            raise StagingFailed(f"staging a batch failed: {answer[1]}: {answer[2]}",
                                fix="Run the sync again; if it fails again, report it with the server log.")
        return answer

    def _died(self) -> StagingFailed:
        code = self._proc.poll()
        return StagingFailed(f"the staging writer process ended unexpectedly (exit code {code})",
                             fix="Run the sync again; if it fails again, report it with the server log.")

    # -- staging ---------------------------------------------------------------

    def stage(self, kind: Kind, run_id: int, connection_id: int, rows: Sequence[tuple]) -> None:
        """Send one batch; waits while ``depth`` batches are still being written. Raises
        :class:`StagingFailed` for this or an earlier batch that could not be staged."""
        with self._lock:
            if kind not in self._known:
                self._send(("sql", kind.value, sqlite_stage_sql(self._dialect, kind)))
                self._known.add(kind)
            while self._pending >= self._depth:
                self._pending -= 1
                self._receive()
            self._send(("rows", kind.value, run_id, connection_id, rows))
            self._pending += 1

    def flush(self) -> None:
        """Wait until every batch sent is committed; raises what staging raised."""
        with self._lock:
            while self._pending:
                self._pending -= 1
                self._receive()
            self._send(("flush",))
            self._receive()

    def close(self) -> None:
        """End the child (what it was writing is rolled back) and wait for it."""
        with self._lock:
            if self._proc.poll() is None:
                try:
                    self._proc.stdin.close()
                except OSError:
                    pass
                try:
                    self._proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
            for stream in (self._proc.stdin, self._proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            self._pending = 0

    def __enter__(self) -> StagingProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
