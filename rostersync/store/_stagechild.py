"""The staging writer process (see :mod:`rostersync.store.stagewriter`); run by path, it imports
only the standard library and orjson, so it starts in milliseconds.

It reads frames from stdin (a 4-byte big-endian length, then a JSON array) and
answers each on stdout the same way:

* ``["open", database_path, pragmas]`` -> ``["ok"]``: connect to the SQLite file;
* ``["sql", key, sql]`` -> nothing: remember an INSERT statement (qmark parameters:
  run_id, the row's values, connection_id);
* ``["rows", key, run_id, connection_id, rows]`` -> ``["ok", count]`` or
  ``["error", type name, message]``: stage one batch (``rows[i][5]``,
  date_last_modified, is orjson's text of an aware datetime, ``...Z`` in UTC, or null). Batches share a write
  transaction, committed once it holds ``COMMIT_ROWS`` rows or is
  ``COMMIT_SECONDS`` old: committing every batch would rewrite the same index
  pages into the WAL again and again. A batch that fails rolls back the open
  transaction (the run fails anyway);
* ``["flush"]`` -> ``["ok"]`` or an error: commit what is open;
* end of input: roll back whatever is uncommitted and exit.

A thread reads the frames off stdin as they arrive, so the parent can send the
next batch while this one is written.

Two settings keep the writer's per-row cost down. Its garbage collector is off (the
frames hold no cycles, and collecting after every few thousand decoded lists cost
several percent of its time). ``None`` and booleans are bound through registered
adapters: without one, Python 3.11's sqlite3 looks for an adapter and fails, raising
and discarding an AttributeError, for every such value (about 0.6 us each, a few per
row).

Nothing here logs: errors go back to the parent, which decides.
"""

import datetime
import fcntl
import gc
import queue
import sqlite3
import struct
import sys
import threading
from time import monotonic

import orjson

_HEADER = struct.Struct(">I")
_TIME = 5  # position of date_last_modified in a row
_UTC = datetime.timezone.utc
COMMIT_ROWS = 20_000
COMMIT_SECONDS = 0.5
PIPE_BYTES = 1 << 20  # Linux's largest pipe buffer without privileges


def _read(stream):
    """The body of the next frame; None at the end of input."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    size = _HEADER.unpack(header)[0]
    body = stream.read(size)
    if len(body) < size:
        return None
    return body


def _read_ahead(stream, frames: queue.Queue) -> None:
    """Take frames off the pipe as they come. A batch is larger than the pipe's buffer, so
    without this the parent's next batch would wait, half-written, until this one is staged."""
    try:
        while True:
            body = _read(stream)
            if body is None:
                return
            frames.put(body)
    finally:  # end of input, or the pipe failed: the main loop rolls back and exits
        frames.put(None)


def _widen(pipe) -> None:
    try:  # fewer, larger pipe writes for the parent (Linux; best effort)
        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (AttributeError, OSError, ValueError):
        pass


def _write(stream, message) -> None:
    body = orjson.dumps(message)
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


def _sqlite_time(text):
    """orjson's datetime text as the text SQLAlchemy's SQLite DATETIME stores: UTC, 6 fraction digits."""
    if text is None:
        return None
    if text[-1] == "Z":  # UTC: YYYY-MM-DDTHH:MM:SS[.ffffff]Z
        return text[:10] + " " + (text[11:26] if text[19] == "." else text[11:19] + ".000000")
    value = datetime.datetime.fromisoformat(text).astimezone(_UTC)
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _bind_cheaply() -> None:
    """Adapters for the values sqlite3 would otherwise adapt the slow way (see the module
    docstring); each binds exactly what sqlite3 binds without it."""
    sqlite3.register_adapter(bool, int)
    sqlite3.register_adapter(type(None), {}.get)  # None -> None (NULL), in C


def main() -> int:
    gc.disable()
    _bind_cheaply()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    db = None
    statements = {}
    open_rows, opened = 0, 0.0  # rows in the open transaction, when it began
    _widen(stdin)
    frames: queue.Queue = queue.Queue(maxsize=4)
    threading.Thread(target=_read_ahead, args=(stdin, frames), name="frames", daemon=True).start()

    def commit():
        nonlocal open_rows
        if open_rows:
            open_rows = 0
            db.execute("COMMIT")

    while True:
        body = frames.get()
        message = None if body is None else orjson.loads(body)
        if message is None:
            if db is not None:
                db.close()  # an unfinished transaction is rolled back
            return 0
        op = message[0]
        try:
            if op == "open":
                db = sqlite3.connect(message[1], isolation_level=None, check_same_thread=False)
                for pragma in message[2]:
                    db.execute(pragma)
                _write(stdout, ("ok",))
            elif op == "sql":
                statements[message[1]] = message[2]
            elif op == "rows":
                _, key, run_id, connection_id, rows = message
                time = _sqlite_time
                params = [(run_id, *row[:_TIME], time(row[_TIME]), *row[_TIME + 1:], connection_id)
                          for row in rows]
                if not open_rows:
                    db.execute("BEGIN IMMEDIATE")
                    opened = monotonic()
                try:
                    db.executemany(statements[key], params)
                except BaseException:
                    open_rows = 0
                    db.execute("ROLLBACK")
                    raise
                open_rows += len(rows) or 1
                if open_rows >= COMMIT_ROWS or monotonic() - opened >= COMMIT_SECONDS:
                    commit()
                _write(stdout, ("ok", len(rows)))
            elif op == "flush":
                commit()
                _write(stdout, ("ok",))
            else:
                _write(stdout, ("error", "ValueError", f"unknown message {op!r}"))
        except Exception as exc:  # reported to the parent, which raises it
            if open_rows and db is not None and db.in_transaction:
                open_rows = 0
                db.execute("ROLLBACK")
            _write(stdout, ("error", type(exc).__name__, str(exc)))


if __name__ == "__main__":
    sys.exit(main())
