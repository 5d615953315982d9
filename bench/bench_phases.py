"""Bench: where one full sync into SQLite spends its time, phase by phase and process by process.

    .venv/bin/python bench/bench_phases.py                 # 1M records (157,480 students)
    .venv/bin/python bench/bench_phases.py --students 47244 --runs 2

A sandbox is served by a child process on the same machine (as in
bench_sync.py); this process syncs it into a fresh SQLite file through
``build_services`` and prints, per run: each collection's wall time with the
CPU of this process and of the sandbox; the wall and CPU of the fetch, diff
and apply phases; the CPU of the staging writer process; and the ceiling the
measured CPU implies (a perfect overlap of the three processes during the
fetch, followed by the apply, on this machine's cores). A second run with
``--runs 2`` is a full re-sync of unchanged data.

``--statements SECONDS`` also prints, for the diff and the apply, every SQL
statement, commit and WAL checkpoint of this process that took at least that
long: when it started (seconds from the start of the diff), how long it took,
and on which thread, so the apply's use of the two cores can be read off.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import threading
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_sync  # noqa: E402  (the sandbox child and connection helpers)


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Timings:
    """Wraps methods to add up their wall and CPU time (this process's CPU: every thread)."""

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = {}

    def wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return original(*args, **kwargs)
            finally:
                entry = self.totals.setdefault(label, [0.0, 0.0])
                entry[0] += time.perf_counter() - wall
                entry[1] += time.process_time() - cpu

        setattr(owner, name, timed)


class StatementLog:
    """The slow statements, commits and checkpoints of the sync's diff and apply (``--statements``)."""

    def __init__(self, engine, engine_module, threshold: float) -> None:
        from sqlalchemy import event

        self.threshold = threshold
        self.start: float | None = None  # set when the diff begins
        self.lines: list[tuple[float, float, str, str]] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)
        begin_write, checkpoint_wal = engine_module.begin_write, engine_module.checkpoint_wal

        @contextlib.contextmanager
        def timed_begin_write(*args, **kwargs):
            with begin_write(*args, **kwargs) as db:
                yield db
                began = time.perf_counter()  # the commit runs as the block exits
            self._add(began, "COMMIT" + (" (no checkpoint)" if kwargs.get("checkpoint") is False else ""))

        def timed_checkpoint(engine):
            began = time.perf_counter()
            try:
                return checkpoint_wal(engine)
            finally:
                self._add(began, "WAL checkpoint (helper)")

        engine_module.begin_write, engine_module.checkpoint_wal = timed_begin_write, timed_checkpoint

    def _before(self, conn, cursor, statement, parameters, context, executemany) -> None:
        conn.info["bench_began"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany) -> None:
        began = conn.info.pop("bench_began", None)
        if began is not None:
            self._add(began, " ".join(statement.split())[:90])

    def _add(self, began: float, what: str) -> None:
        took = time.perf_counter() - began
        if self.start is not None and took >= self.threshold:
            self.lines.append((began - self.start, took, threading.current_thread().name, what))

    def report(self) -> str:
        rows = [f"    {at:6.2f} s +{took:5.2f} s  {thread:<20} {what}" for at, took, thread, what in sorted(self.lines)]
        return "\n".join(["  slow statements of the diff and apply (start, duration, thread):", *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=157_480, help="district size (157,480 students: 1M records)")
    parser.add_argument("--runs", type=int, default=1, help="full syncs in a row (the later ones change nothing)")
    parser.add_argument("--statements", type=float, metavar="SECONDS",
                        help="also list the diff's and apply's statements that took at least SECONDS")
    args = parser.parse_args()

    import rostersync.sync.engine as engine_module
    from rostersync.services import build_services
    from rostersync.settings import Settings
    from rostersync.store.connections import add_connection
    from rostersync.store.engine import begin_write
    from rostersync.sync import client_reader_factory
    from rostersync.sync.engine import SyncEngine
    from rostersync.vault import generate_key

    box = bench_sync.SandboxProcess(args.students)
    sandbox_pid = box.proc.pid
    timings = Timings()
    collections: list[str] = []
    original_read = engine_module.read_collection

    def read_collection(**kwargs):
        wall, cpu, served = time.perf_counter(), time.process_time(), _cpu_of(sandbox_pid)
        read = original_read(**kwargs)
        wall, cpu, served = time.perf_counter() - wall, time.process_time() - cpu, _cpu_of(sandbox_pid) - served
        collections.append(f"  {kwargs['name']:<18} {read.records:>9,} records {wall:6.2f} s wall, "
                           f"CPU {cpu:5.2f} s here, {served:5.2f} s sandbox")
        return read

    engine_module.read_collection = read_collection
    timings.wrap(SyncEngine, "_fetch", "fetch and stage")
    timings.wrap(SyncEngine, "_diff", "diff")
    timings.wrap(SyncEngine, "_apply", "apply (+ references)")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", secret_key=generate_key())
            services = build_services(settings, reader_factory=client_reader_factory(peak=False, timeout=120))
            spec = bench_sync._spec(box.creds)
            with begin_write(services.engine) as db:
                add_connection(db=db, vault=services.vault, name="bench", settings=spec.to_dict(),
                               secrets=spec.secrets(), hold_delete_percent=100, hold_update_percent=100)
            statements = (StatementLog(services.engine, engine_module, args.statements)
                          if args.statements is not None else None)
            if statements is not None:
                original_diff = SyncEngine._diff

                def diff(self, *a, **k):
                    statements.start = time.perf_counter()
                    return original_diff(self, *a, **k)

                SyncEngine._diff = diff
            print(f"## One full sync into SQLite, step by step ({bench_sync.machine()})\n")
            for number in range(1, args.runs + 1):
                timings.totals.clear()
                collections.clear()
                if statements is not None:
                    statements.lines.clear()
                    statements.start = None
                wall, cpu, child, served = (time.perf_counter(), time.process_time(), _children_cpu(),
                                            _cpu_of(sandbox_pid))
                result = services.sync.run("bench", mode="full")
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                child, served = _children_cpu() - child, _cpu_of(sandbox_pid) - served
                n = result.records_read
                print(f"run {number}: {n:,} records in {wall:.1f} s = {n / wall:,.0f} records/s "
                      f"({result.total.created:,} created, {result.total.updated:,} updated); "
                      f"peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")
                print("\n".join(collections))
                for label, (phase_wall, phase_cpu) in timings.totals.items():
                    print(f"  {label:<22} {phase_wall:6.2f} s wall, CPU {phase_cpu:6.2f} s here "
                          f"({phase_cpu / n * 1e6:.1f} us/record)")
                print(f"  CPU of the staging writer process {child:.2f} s ({child / n * 1e6:.1f} us/record), "
                      f"of the sandbox {served:.2f} s ({served / n * 1e6:.1f} us/record), "
                      f"of this process {cpu:.2f} s")
                fetch_wall, fetch_cpu = timings.totals.get("fetch and stage", [0.0, 0.0])
                apply_wall = timings.totals.get("apply (+ references)", [0.0, 0.0])[0]
                diff_wall = timings.totals.get("diff", [0.0, 0.0])[0]
                cores = os.cpu_count() or 1
                overlap = (fetch_cpu + child + served) / cores
                ceiling = n / (overlap + diff_wall + apply_wall)
                print(f"  fetch: {100 * (fetch_cpu + child + served) / (fetch_wall * cores):.0f}% of {cores} cores "
                      f"busy; a perfect overlap of the fetch ({overlap:.1f} s) then diff and apply gives at most "
                      f"{ceiling:,.0f} records/s")
                if statements is not None:
                    print(statements.report())
                print()
            services.close()
    finally:
        box.stop()


if __name__ == "__main__":
    main()
