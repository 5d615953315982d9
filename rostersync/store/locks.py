"""One sync per connection at a time, across processes.

:func:`sync_lock` fails fast with :class:`SyncAlreadyRunning` when another
process (or thread) holds the connection's lock. The lock dies with its
holder, so a killed process never blocks the next run:

* PostgreSQL: a session-level advisory lock held on a dedicated database
  session; the server releases it when that session ends.
* SQLite: ``flock`` on ``<database>.locks/connection-<id>.lock``; the kernel
  releases it when the process dies.
* In-memory SQLite: a lock inside the process.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator

from sqlalchemy import Engine, text

from .engine import sqlite_path
from .errors import SyncAlreadyRunning

ADVISORY_NAMESPACE = 0x52535943  # "RSYC": the first key of every rostersync sync lock

_memory_locks: dict[tuple[str, int], threading.Lock] = {}
_memory_guard = threading.Lock()


@contextlib.contextmanager
def sync_lock(engine: Engine, *, connection_id: int, name: str) -> Iterator[None]:
    """Hold the sync lock of one connection for the duration of the block."""
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, connection_id, name):
            yield
        return
    path = sqlite_path(engine)
    if path is None:
        with _memory_lock(str(engine.url), connection_id, name):
            yield
        return
    with _file_lock(path, connection_id, name):
        yield


@contextlib.contextmanager
def _advisory_lock(engine: Engine, connection_id: int, name: str) -> Iterator[None]:
    conn = engine.connect()
    try:
        got = conn.execute(
            text("SELECT pg_try_advisory_lock(:ns, :id)"), {"ns": ADVISORY_NAMESPACE, "id": connection_id}
        ).scalar_one()
        conn.commit()
        if not got:
            raise SyncAlreadyRunning(name)
        try:
            yield
        finally:
            try:
                conn.rollback()
                conn.execute(
                    text("SELECT pg_advisory_unlock(:ns, :id)"), {"ns": ADVISORY_NAMESPACE, "id": connection_id}
                )
                conn.commit()
            except Exception:
                conn.invalidate()  # closing the session releases the lock for sure
                raise
    finally:
        conn.close()


@contextlib.contextmanager
def _file_lock(database: os.PathLike, connection_id: int, name: str) -> Iterator[None]:
    folder = f"{os.fspath(database)}.locks"
    os.makedirs(folder, exist_ok=True)
    fd = os.open(os.path.join(folder, f"connection-{connection_id}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncAlreadyRunning(name) from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _memory_lock(url: str, connection_id: int, name: str) -> Iterator[None]:
    with _memory_guard:
        lock = _memory_locks.setdefault((url, connection_id), threading.Lock())
    if not lock.acquire(blocking=False):
        raise SyncAlreadyRunning(name)
    try:
        yield
    finally:
        lock.release()
