"""Bench: full and delta syncs from the sandbox into SQLite and PostgreSQL, side by side.

For each district size (records of all kinds; default 100,000, 300,000 and
``--records``, 1,000,000) a sandbox is served over loopback HTTP by a child
process (``rostersync sandbox serve --json``), and in fresh child processes:

* read alone: the OneRoster client reads every collection of a full sync
  (the floor a sync cannot beat);
* a full sync into a fresh SQLite file and into a fresh PostgreSQL database:
  records/s, the ratio to the read alone, and the peak resident memory of the
  syncing process and its staging writer (psutil, sampled every 20 ms in a
  thread). For the largest district the read alone and the SQLite sync run
  ``--repeat`` times (3), taking turns, and the median run is reported with
  the range (the peak memory is the worst run's).

Then, on a 200,000-student district (``--delta-students``): a full sync, a
full re-sync with no changes, one school day of churn, and the delta sync of
that day, beside the client alone reading what that delta reads (after a first
read that lets the sandbox rebuild its indexes for the new day, reported apart).

Every sync goes through :func:`rostersync.services.build_services`, off-peak
(the Infinite Campus profile's 5 requests in flight). Aims (issue 4): at least
40,000 records/s into SQLite; peak memory under 400 MB at 1M records; one
day's delta in under 10 seconds.

Run:  .venv/bin/python bench/bench_sync.py [--records 1000000] [--sizes 100000,300000]
      [--repeat 3] [--delta-students 200000] [--postgres-url URL | --skip-postgres] [--skip-delta]
      [--profile DIR]   (an extra, profiled SQLite sync per size: cProfile of its main thread)
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CLI = "from rostersync.cli import main; main()"
AIM_RATE, AIM_MEMORY_MB, AIM_DELTA_S = 40_000, 400, 10.0


# -- the sandbox child process ---------------------------------------------------------

class SandboxProcess:
    """``rostersync sandbox serve --json`` in a child process; ``creds`` is its JSON line."""

    def __init__(self, students: int, seed: int = 1) -> None:
        self.students = students
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CLI, "sandbox", "serve", "--json", "--port", "0", "--students", str(students),
             "--seed", str(seed)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, "ROSTERSYNC_LOG_LEVEL": "WARNING"},
        )
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the sandbox of {students:,} students did not start")
        self.creds = json.loads(line)
        self.ready_seconds = time.perf_counter() - started

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# -- PostgreSQL databases -----------------------------------------------------------------

def _dsn(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def create_pg_database(server_url: str) -> str:
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"rostersync_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with psycopg.connect(_dsn(server_url), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        where = make_url(server_url).render_as_string(hide_password=True)
        raise SystemExit(f"PostgreSQL is not reachable at {where} ({exc}); "
                         "pass --postgres-url or --skip-postgres") from None
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(server_url: str, url: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    with psycopg.connect(_dsn(server_url), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- the measuring child process --------------------------------------------------------

class PeakMemory:
    """The peak resident memory of this process and its children (a SQLite sync's staging
    writer process), sampled in a thread. Finding the children scans /proc, so the list is
    refreshed every half second; their sizes, like this process's, every ``interval``."""

    def __init__(self, interval: float = 0.02) -> None:
        import psutil

        self._process = psutil.Process()
        self._children: list = []
        self._children_at = 0.0
        self.start_mb = self.peak_mb = self._rss()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(interval,), daemon=True)

    def _rss(self) -> float:
        import psutil

        now = time.monotonic()
        if now - self._children_at >= 0.5:
            self._children, self._children_at = self._process.children(recursive=True), now
        total = self._process.memory_info().rss
        for child in self._children:
            try:
                total += child.memory_info().rss
            except psutil.Error:  # ended meanwhile
                pass
        return total / 2**20

    def _sample(self, interval: float) -> None:
        while not self._done.wait(interval):
            self.peak_mb = max(self.peak_mb, self._rss())

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._rss())


def _spec(creds: dict):
    from rostersync.source.connection import ConnectionSpec, OAuth2Credentials

    return ConnectionSpec(credentials=OAuth2Credentials(
        client_id=creds["client_id"], client_secret=creds["client_secret"],
        token_url=creds["token_url"], base_url=creds["base_url"]))


def child_read(task: dict) -> dict:
    from rostersync.oneroster.resources import SYNC_RESOURCES
    from rostersync.source.client import OneRosterClient

    records = 0
    with PeakMemory() as memory:
        started = time.perf_counter()
        with OneRosterClient(_spec(task["creds"]), peak=False, timeout=120) as reader:
            for name in SYNC_RESOURCES:
                for _ in reader.read(name):
                    records += 1
        seconds = time.perf_counter() - started
    return {"records": records, "seconds": seconds, "peak_mb": memory.peak_mb, "start_mb": memory.start_mb}


def child_sync(task: dict) -> dict:
    """A fresh store, the sandbox as connection "bench", then ``task["steps"]`` (full, delta, advance)."""
    import httpx

    from rostersync.services import build_services
    from rostersync.settings import Settings
    from rostersync.store.connections import add_connection
    from rostersync.store.engine import begin_write
    from rostersync.sync import client_reader_factory
    from rostersync.vault import generate_key

    creds = task["creds"]
    settings = Settings(database_url=task["url"], secret_key=generate_key())
    services = build_services(settings, reader_factory=client_reader_factory(peak=False, timeout=120))
    spec = _spec(creds)
    with begin_write(services.engine) as db:
        add_connection(db=db, vault=services.vault, name="bench", settings=spec.to_dict(), secrets=spec.secrets(),
                       hold_delete_percent=100, hold_update_percent=100)
    steps = []
    with PeakMemory() as memory:
        for step in task["steps"]:
            if step == "advance":
                response = httpx.post(creds["admin_url"] + "/advance", params={"days": 1}, timeout=600,
                                      headers={"Authorization": f"Bearer {creds['admin_token']}"})
                response.raise_for_status()
                continue
            if step == "delta-read":  # what the next delta sync reads, by the client alone
                steps.append(delta_read_alone(services, creds))
                continue
            profiler = None
            if task.get("profile") and len(steps) == task.get("profile_step", 0):
                import cProfile

                profiler = cProfile.Profile()
                profiler.enable()
            started = time.perf_counter()
            result = services.sync.run("bench", mode=step)
            seconds = time.perf_counter() - started
            if profiler is not None:
                profiler.disable()
                profiler.dump_stats(task["profile"])
            steps.append({"mode": step, "state": result.state, "seconds": seconds,
                          "records_read": result.records_read, "total": result.total.to_dict(),
                          "warnings": len(result.warnings), "errors": [e.message for e in result.errors]})
    services.close()
    return {"steps": steps, "peak_mb": memory.peak_mb, "start_mb": memory.start_mb}


def delta_read_alone(services, creds: dict) -> dict:
    """The client alone reading every collection since the connection's checkpoints (minus the overlap)."""
    from rostersync.oneroster.resources import SYNC_RESOURCES
    from rostersync.source.client import OneRosterClient
    from rostersync.store.checkpoints import get_checkpoints
    from rostersync.store.connections import get_connection

    with services.engine.connect() as db:
        checkpoints = get_checkpoints(db=db, connection_id=get_connection(db=db, name="bench").id)
    records = 0
    started = time.perf_counter()
    with OneRosterClient(_spec(creds), peak=False, timeout=120) as reader:
        for name in SYNC_RESOURCES:
            since = checkpoints[name] - services.sync.overlap if name in checkpoints else None
            for _ in reader.read(name, since=since):
                records += 1
    return {"mode": "delta-read", "state": "read", "seconds": time.perf_counter() - started,
            "records_read": records, "total": {"created": 0, "updated": 0, "deleted": 0}, "warnings": 0,
            "errors": []}


def in_child(task: dict) -> dict:
    """Run one measurement in a fresh interpreter, so its memory is its own.

    The task (with the sandbox's credentials) goes over stdin, never on a command line."""
    out = subprocess.run([sys.executable, __file__, "--child"], cwd=ROOT, capture_output=True, input=json.dumps(task),
                         text=True, env={**os.environ, "ROSTERSYNC_LOG_LEVEL": "ERROR"})
    if out.returncode != 0:
        raise RuntimeError(f"{task['task']} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- the orchestra ------------------------------------------------------------------------

@contextlib.contextmanager
def sqlite_file(workdir: Path):
    """The URL of a new SQLite store in ``workdir``, deleted afterwards (with its WAL and lock files)."""
    path = workdir / f"bench_{uuid.uuid4().hex[:8]}.db"
    try:
        yield f"sqlite:///{path}"
    finally:
        for leftover in workdir.glob(path.name + "*"):
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()

def full_syncs(size: int, args, workdir: Path) -> dict[str, Any]:
    from rostersync.sandbox.district import records_for_total

    box = SandboxProcess(records_for_total(size))
    row: dict[str, Any] = {"size": size, "students": box.students, "sandbox_ready_s": box.ready_seconds}
    try:
        in_child({"task": "read", "creds": box.creds})  # warm-up: the sandbox builds its caches
        # The largest district is measured args.repeat times, the read alone and the sync taking
        # turns (each sync into a fresh store), and reported by its median run: this shared
        # machine's speed drifts by 10% from one minute to the next.
        reads, syncs = [], []
        for _ in range(args.repeat if size == args.records else 1):
            reads.append(in_child({"task": "read", "creds": box.creds}))
            with sqlite_file(workdir) as url:
                syncs.append(in_child({"task": "sync", "creds": box.creds, "steps": ["full"], "url": url}))
        row["read"] = _median(reads, lambda r: r["seconds"])
        row["read"]["runs"] = sorted(r["seconds"] for r in reads)
        row["sqlite"] = _median(syncs, lambda r: r["steps"][0]["seconds"])
        row["sqlite"]["runs"] = sorted(r["steps"][0]["seconds"] for r in syncs)
        row["sqlite"]["peak_mb"] = max(r["peak_mb"] for r in syncs)  # the worst run's
        if args.profile:  # a separate run: the profiler slows the sync down
            row["profile"] = str(workdir / f"sqlite_{size}.prof")
            with sqlite_file(workdir) as url:
                in_child({"task": "sync", "creds": box.creds, "steps": ["full"], "profile": row["profile"],
                          "url": url})
        if not args.skip_postgres:
            url = create_pg_database(args.postgres_url)
            try:
                row["postgresql"] = in_child({"task": "sync", "creds": box.creds, "url": url, "steps": ["full"]})
            finally:
                drop_pg_database(args.postgres_url, url)
    finally:
        box.stop()
    return row


def _median(results: list[dict], seconds) -> dict:
    """The run of median time (the upper one of an even count), as a copy."""
    return dict(sorted(results, key=seconds)[len(results) // 2])


def _spread(runs: list[float]) -> str:
    return f", median of {len(runs)}: {runs[0]:.1f} to {runs[-1]:.1f} s" if len(runs) > 1 else ""


def delta_scenario(students: int, args, workdir: Path) -> dict[str, Any]:
    box = SandboxProcess(students)
    try:
        with sqlite_file(workdir) as url:
            result = in_child({"task": "sync", "creds": box.creds, "url": url,
                               "steps": ["full", "full", "advance", "delta-read", "delta-read", "delta"]})
    finally:
        box.stop()
    result["students"] = students
    return result


def rate(records: int, seconds: float) -> float:
    return records / seconds if seconds else 0.0


def report(rows: list[dict], delta: dict | None, args) -> str:
    lines = [f"## Sync benchmark ({datetime.date.today().isoformat()}, {machine()})", "",
             f"Load average (1 min) when the run started / ended: {args.load_before:.1f} / "
             f"{os.getloadavg()[0]:.1f}. Page cache when it started: {args.cache_before}.", ""]
    lines += ["Full sync from the sandbox (served by a child process on the same machine), off-peak, "
              "5 requests in flight.", ""]
    head = "| records | students | read alone | SQLite | PostgreSQL | peak memory (SQLite / PostgreSQL) |"
    lines += [head, "|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        read = row["read"]
        base = rate(read["records"], read["seconds"])
        cells = [f"{row['size']:,}", f"{row['students']:,}",
                 f"{base:,.0f}/s ({read['seconds']:.1f} s{_spread(read.get('runs', []))})"]
        mems = []
        for backend in ("sqlite", "postgresql"):
            if backend not in row:
                cells.append("-")
                continue
            step = row[backend]["steps"][0]
            r = rate(step["records_read"], step["seconds"])
            cells.append(f"{r:,.0f}/s ({step['seconds']:.1f} s{_spread(row[backend].get('runs', []))}, "
                         f"{r / base:.2f}x of read)")
            mems.append(f"{row[backend]['peak_mb']:.0f} MB")
        cells.append(" / ".join(mems))
        lines.append("| " + " | ".join(cells) + " |")
    if delta is not None:
        full, resync, first_read, day_read, day = delta["steps"]
        lines += ["", f"Delta on a {delta['students']:,}-student district ({full['records_read']:,} records), SQLite:",
                  "", "| run | seconds | records read | records/s | created / updated / deleted |",
                  "|---|---:|---:|---:|---:|"]
        for label, step in (("full sync", full), ("full re-sync, no changes", resync),
                            ("one day's delta: first read after the day (the sandbox re-indexes)", first_read),
                            ("one day's delta: the client's read alone", day_read), ("one day's delta sync", day)):
            t = step["total"]
            changes = "-" if step["mode"] == "delta-read" else f"{t['created']:,} / {t['updated']:,} / {t['deleted']:,}"
            lines.append(f"| {label} | {step['seconds']:.1f} | {step['records_read']:,} | "
                         f"{rate(step['records_read'], step['seconds']):,.0f} | {changes} |")
        lines.append(f"\nPeak memory of the delta scenario's process: {delta['peak_mb']:.0f} MB.")
    lines += ["", "Aims: " + "; ".join(aims(rows, delta))]
    return "\n".join(lines)


def aims(rows: list[dict], delta: dict | None) -> list[str]:
    out = []
    largest = rows[-1]
    step = largest["sqlite"]["steps"][0]
    r = rate(step["records_read"], step["seconds"])
    out.append(f"SQLite {r:,.0f} records/s at {largest['size']:,} (aim >= {AIM_RATE:,}: "
               f"{'met' if r >= AIM_RATE else 'MISSED'})")
    peak = max(row[b]["peak_mb"] for row in rows for b in ("sqlite", "postgresql") if b in row)
    out.append(f"peak memory {peak:.0f} MB up to {largest['size']:,} records (aim < {AIM_MEMORY_MB} MB: "
               f"{'met' if peak < AIM_MEMORY_MB else 'MISSED'})")
    if delta is not None:
        seconds = delta["steps"][-1]["seconds"]
        out.append(f"one day's delta {seconds:.1f} s (aim < {AIM_DELTA_S:.0f} s: "
                   f"{'met' if seconds < AIM_DELTA_S else 'MISSED'})")
    return out


def page_cache() -> str:
    """The kernel's page cache (``Cached`` in /proc/meminfo): how much else the kernel holds in
    memory bears on what it costs a sync to grow its files (see docs/benchmarks.md)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("Cached:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def machine() -> str:
    import psutil

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} CPUs ({cpu}), {psutil.virtual_memory().total / 2**30:.0f} GB RAM, "
            f"Python {platform.python_version()}, SQLite {__import__('sqlite3').sqlite_version}")


def print_profile(path: str, top: int = 25) -> None:
    import pstats

    print(f"\n### cProfile of the SQLite full sync's main thread ({path})")
    stats = pstats.Stats(path)
    stats.sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="the largest district (records)")
    parser.add_argument("--sizes", default="100000,300000", help="smaller districts measured too (records)")
    parser.add_argument("--delta-students", type=int, default=200_000, help="district of the delta scenario")
    parser.add_argument("--postgres-url", default=os.environ.get("ROSTERSYNC_TEST_PG_URL", PG_DEFAULT),
                        help="a PostgreSQL server URL; a fresh database is created and dropped per run")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of the largest district's read alone and SQLite sync (the median is reported)")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-delta", action="store_true")
    parser.add_argument("--profile", metavar="DIR", help="keep a cProfile of each SQLite full sync in DIR")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        task = json.loads(sys.stdin.read())
        result = child_read(task) if task["task"] == "read" else child_sync(task)
        print(json.dumps(result))
        return

    import tempfile

    args.load_before = os.getloadavg()[0]
    args.cache_before = page_cache()

    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()} | {args.records})
    sizes = [s for s in sizes if s <= args.records]
    with tempfile.TemporaryDirectory(prefix="bench_sync_") as tmp:
        workdir = Path(args.profile) if args.profile else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        rows = []
        for size in sizes:
            print(f"... {size:,} records", file=sys.stderr, flush=True)
            rows.append(full_syncs(size, args, workdir))
        delta = None
        if not args.skip_delta:
            print(f"... delta on {args.delta_students:,} students", file=sys.stderr, flush=True)
            delta = delta_scenario(args.delta_students, args, workdir)
    print(report(rows, delta, args))
    if args.profile:
        for row in rows:
            print_profile(row["profile"])


if __name__ == "__main__":
    main()
