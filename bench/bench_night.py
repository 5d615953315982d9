"""One night of scheduled syncs for many sandbox districts, drained by 1, 2 and 4 workers.

    ./dev bench night                         # 1,000 districts, delta night, 1/2/4 workers
    ./dev bench night --districts 200 --modes delta,full --workers 1,2

What it does, on the local PostgreSQL (a scratch database it creates):

1. Serves N sandbox districts from "fleet" processes: one uvicorn server per
   fleet listening on one loopback address per district (127.1.x.y), so each
   district has its own Infinite Campus URLs and credentials. 80% are small
   (--small students), 20% medium (--medium students).
2. Adds N connections in a fixed-offset time zone where it is now about
   midnight (so the Infinite Campus profile really runs off-peak), and runs a
   first full night (4 workers) to fill the store.
3. For each mode and worker count: plays one school day of churn in every
   district, VACUUMs (autovacuum's job in production; it may be off on a test
   server), lets the scheduler queue the next night (``enqueue_due`` with the
   clock at the start of that night's window), starts W worker processes,
   waits until they are registered, and measures the time to drain: from the
   queue being filled to the last district's outcome being recorded.

It prints, side by side, drain time, districts/s and records/s per worker
count, the speed-up over one worker, and CPU seconds per district-night spent
by the workers, the sandbox fleets, the PostgreSQL backends of the bench
database, and everything else on the machine ("others": other people's work
on a shared machine shows up there). docs/scaling.md extrapolates from the
CPU figures, which travel to other machines better than wall-clock times.
Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

APP_NAME = "rostersync"
PG_SERVER = os.environ.get("ROSTERSYNC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DB_NAME = "rostersync_bench_night"


def district_plan(index: int, small: int, medium: int) -> tuple[int, str, str, str]:
    """(students, host, client_id, client_secret) of district ``index``: deterministic."""
    students = medium if index % 5 == 0 else small
    host = f"127.1.{index // 250}.{index % 250 + 1}"
    secret = hashlib.sha256(f"bench-night-{index}".encode()).hexdigest()[:32]
    return students, host, f"bench-{index}", secret


# -- the fleet: many sandbox districts in one process --------------------------------------------


def serve_fleet(first: int, count: int, small: int, medium: int, port: int) -> None:
    """Serve districts first..first+count-1 on their own loopback addresses; obey stdin commands."""
    import threading

    import uvicorn

    from rostersync.sandbox.app import create_sandbox_app
    from rostersync.sandbox.auth import OAuth1Verifier, TokenIssuer
    from rostersync.sandbox.district import generate
    from rostersync.sandbox.faults import Faults
    from rostersync.sandbox.site import SandboxSite

    sites, apps, socks = {}, {}, []
    for index in range(first, first + count):
        students, host, client_id, secret = district_plan(index, small, medium)
        site = SandboxSite(
            district=generate(seed=index + 1, students=students),
            app_name=APP_NAME,
            issuer=TokenIssuer(clients={client_id: secret}),
            verifier=OAuth1Verifier(consumers={}),
            faults=Faults(),
            admin_token=secret,
        )
        sites[host], apps[host] = site, create_sandbox_app(site)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        socks.append(sock)

    async def dispatch(scope, receive, send):
        if scope["type"] == "lifespan":
            return
        await apps[scope["server"][0]](scope, receive, send)

    server = uvicorn.Server(uvicorn.Config(dispatch, log_level="warning", access_log=False, lifespan="off",
                                           timeout_keep_alive=30, backlog=4096))
    thread = threading.Thread(target=server.run, kwargs={"sockets": socks}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    print("READY", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "advance":
            for site in sites.values():
                site.advance(1)
            print("ADVANCED", flush=True)
        elif command == "quit":
            break
    server.should_exit = True
    thread.join(10)


class Fleet:
    def __init__(self, first: int, count: int, args, port: int) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-fleet", str(first), str(count), "--small", str(args.small),
             "--medium", str(args.medium), "--port", str(port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
        )
        self._expect("READY")

    def _expect(self, word: str) -> None:
        line = self.proc.stdout.readline()
        if line.strip() != word:
            raise RuntimeError(f"the sandbox fleet answered {line!r} instead of {word}")

    def advance(self) -> None:
        self.proc.stdin.write("advance\n")
        self.proc.stdin.flush()

    def wait_advanced(self) -> None:
        self._expect("ADVANCED")

    def stop(self) -> None:
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(15)
        except Exception:
            self.proc.kill()
            self.proc.wait()


# -- the driver --------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.1.0.1", 0))
        return sock.getsockname()[1]


def _drop_database() -> None:
    import psycopg

    with psycopg.connect(PG_SERVER, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def _fresh_database() -> str:
    import psycopg

    with psycopg.connect(PG_SERVER, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    return PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{DB_NAME}"


def night_zone() -> str:
    """A fixed-offset zone where it is now about midnight: the districts really are off-peak
    (the Infinite Campus profile allows 5 requests in flight off-peak, 1 during the school day)."""
    hour = dt.datetime.now(dt.timezone.utc).hour
    return f"Etc/GMT+{hour}" if hour <= 12 else f"Etc/GMT-{24 - hour}"


def _add_connections(engine, vault, args) -> list[int]:
    from rostersync.source.connection import ConnectionSpec
    from rostersync.store import add_connection, begin_write

    ids = []
    with begin_write(engine) as db:
        for index in range(args.districts):
            _, host, client_id, secret = district_plan(index, args.small, args.medium)
            base = f"http://{host}:{args.port}"
            spec = ConnectionSpec.from_dict(
                {"auth": "oauth2", "client_id": client_id, "token_url": f"{base}/campus/oauth2/token?appName={APP_NAME}",
                 "base_url": f"{base}/campus/api/oneroster/v1p1/{APP_NAME}/ims/oneroster/v1p1",
                 "timezone": args.zone},
                {"client_secret": secret},
            )
            conn = add_connection(db=db, vault=vault, name=f"district-{index:04d}", settings=spec.to_dict(),
                                  secrets=spec.secrets(), timezone=args.zone)
            ids.append(conn.id)
    return ids


def _busy_cpu() -> float:
    """CPU seconds the whole machine spent busy so far (every process, other people's included)."""
    import psutil

    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def _backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend serving the bench database."""
    import psutil
    import psycopg

    from rostersync.jobs.pg import conninfo_from_url

    with psycopg.connect(conninfo_from_url(url), autocommit=True) as conn:
        pids = [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
    out = {}
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
            out[pid] = times.user + times.system
        except psutil.Error:
            pass
    return out


def _cpu(pids: list[int]) -> float:
    import psutil

    total = 0.0
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            for p in [proc, *proc.children(recursive=True)]:
                times = p.cpu_times()
                total += times.user + times.system
        except psutil.Error:
            pass
    return total


WORKER = """
import sys
from rostersync.jobs.services import build_job_services
from rostersync.jobs.worker import WorkerOptions, run_worker
from rostersync.settings import Settings

settings = Settings()
run_worker(settings, WorkerOptions(name=sys.argv[1], poll=0.5, tick_seconds=None),
           services=build_job_services(settings))
"""


def _vacuum(url: str) -> None:
    """What autovacuum does between nights in production (it may be off on a test server)."""
    import psycopg

    from rostersync.jobs.pg import conninfo_from_url

    with psycopg.connect(conninfo_from_url(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def _wait_for_workers(url: str, count: int, procs) -> None:
    """Until ``count`` workers are registered (imports done, listening): startup is not part of the night."""
    import psycopg

    from rostersync.jobs.pg import JOB_SCHEMA, conninfo_from_url

    deadline = time.monotonic() + 120
    with psycopg.connect(conninfo_from_url(url), autocommit=True) as conn:
        while conn.execute(f"SELECT count(*) FROM {JOB_SCHEMA}.procrastinate_workers").fetchone()[0] < count:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError("the workers did not start")
            time.sleep(0.1)


def _night(engine, url, key, ids, workers: int, night: dt.date, fleets: list[Fleet], zone: str) -> dict:
    """Queue ``night`` (its window's first minute), drain it with ``workers`` processes, measure."""
    from sqlalchemy import func, select

    from rostersync.jobs.app import build_job_app, enqueue_due
    from rostersync.jobs.model import JobServices
    from rostersync.schedule import Policy, window_of
    from rostersync.settings import Settings
    from rostersync.store.schedule_tables import sync_schedules
    from rostersync.store.tables import sync_runs

    settings = Settings(database_url=url, secret_key=key)
    services = JobServices(engine=engine, run_sync=lambda *_: None)
    start_of_night = window_of(Policy(timezone=zone), night)[0] + dt.timedelta(minutes=1)
    with engine.connect() as db:
        last_run = db.execute(select(func.coalesce(func.max(sync_runs.c.id), 0))).scalar_one()
    env = {**os.environ, "ROSTERSYNC_DATABASE_URL": url, "ROSTERSYNC_SECRET_KEY": key, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, f"bench-{n}"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for n in range(workers)]
    try:
        _wait_for_workers(url, workers, procs)
        app = build_job_app(settings, services=services, tick_seconds=None)
        cpu_workers0, cpu_fleet0, busy0 = _cpu([p.pid for p in procs]), _cpu([f.proc.pid for f in fleets]), _busy_cpu()
        backends0 = _backend_cpu(url)
        t0 = time.perf_counter()
        with app.open():
            queued = enqueue_due(app, services, now=start_of_night)
        while True:
            with engine.connect() as db:
                done = db.execute(
                    select(func.count()).select_from(sync_schedules)
                    .where(sync_schedules.c.done_night == night)
                ).scalar_one()
            if done >= len(queued):
                break
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("a worker exited during the night")
            time.sleep(0.2)
        drain = time.perf_counter() - t0
        cpu_workers = _cpu([p.pid for p in procs]) - cpu_workers0
        cpu_fleet = _cpu([f.proc.pid for f in fleets]) - cpu_fleet0
        machine = _busy_cpu() - busy0
        cpu_pg = sum(cpu - backends0.get(pid, 0.0) for pid, cpu in _backend_cpu(url).items())
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
    with engine.connect() as db:
        rows = db.execute(
            select(sync_runs.c.state, sync_runs.c.mode, func.count(), func.sum(sync_runs.c.records_read))
            .where(sync_runs.c.id > last_run).group_by(sync_runs.c.state, sync_runs.c.mode)
        ).all()
    states = {f"{mode}/{state}": count for state, mode, count, _ in rows}
    records = sum(int(r or 0) for *_, r in rows)
    n = len(queued)
    return {
        "workers": workers, "districts": n, "drain_seconds": round(drain, 2),
        "districts_per_second": round(n / drain, 2), "records": records,
        "records_per_second": round(records / drain), "runs": states,
        "cpu_seconds_per_district": {
            "workers": round(cpu_workers / n, 4), "sandbox": round(cpu_fleet / n, 4),
            "postgresql": round(cpu_pg / n, 4),
        },
        "machine_busy_share": round(machine / (drain * (os.cpu_count() or 1)), 2),
        "others_cpu_seconds": round(machine - cpu_workers - cpu_fleet - cpu_pg, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--districts", type=int, default=1000)
    parser.add_argument("--workers", default="1,2,4", help="worker counts to measure, e.g. 1,2,4")
    parser.add_argument("--modes", default="delta", help="nights to measure: delta, full or delta,full")
    parser.add_argument("--small", type=int, default=50, help="students in a small district")
    parser.add_argument("--medium", type=int, default=500, help="students in a medium district (1 in 5)")
    parser.add_argument("--fleets", type=int, default=2, help="sandbox server processes")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--out", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("--keep", action="store_true", help=f"keep the scratch database {DB_NAME} afterwards")
    parser.add_argument("--serve-fleet", nargs=2, type=int, metavar=("FIRST", "COUNT"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fleet:
        serve_fleet(args.serve_fleet[0], args.serve_fleet[1], args.small, args.medium, args.port)
        return

    import logging
    from zoneinfo import ZoneInfo

    logging.disable(logging.WARNING)
    from rostersync.jobs.pg import conninfo_from_url, ensure_job_schema
    from rostersync.store import create_engine_for, migrate
    from rostersync.store.engine import begin_write
    from rostersync.store.schedule_tables import set_policy
    from rostersync.vault import Vault, generate_key

    worker_counts = [int(w) for w in args.workers.split(",")]
    modes = [m.strip() for m in args.modes.split(",")]
    args.port = _free_port()
    args.zone = night_zone()
    url = _fresh_database()
    engine = create_engine_for(url)
    migrate(engine)
    ensure_job_schema(conninfo_from_url(url))
    key = generate_key()

    t = time.perf_counter()
    per_fleet = -(-args.districts // args.fleets)
    fleets = [Fleet(first, min(per_fleet, args.districts - first), args, args.port)
              for first in range(0, args.districts, per_fleet)]
    setup = {"fleet_start_seconds": round(time.perf_counter() - t, 1)}
    ids = _add_connections(engine, Vault.from_key_text(key), args)
    students = sum(district_plan(i, args.small, args.medium)[0] for i in range(args.districts))

    # Nights from tomorrow on; the weekly full sync falls on the nights measured in "full" mode.
    first_night = dt.datetime.now(ZoneInfo(args.zone)).date() + dt.timedelta(days=1)
    plan = [("full", 4)] + [(mode, w) for mode in modes for w in worker_counts]
    nights = [first_night + dt.timedelta(days=k) for k in range(len(plan))]
    results: list[dict] = []
    try:
        for (mode, workers), night in zip(plan, nights):
            weekday = night.weekday() if mode == "full" else (night.weekday() + 3) % 7
            with begin_write(engine) as db:
                for cid in ids:
                    set_policy(db=db, connection_id=cid, window_start=None, window_end=None,
                               full_weekday=weekday, summer_pause=None)
            if results:  # one school day of churn before every night but the first
                for fleet in fleets:
                    fleet.advance()
                for fleet in fleets:
                    fleet.wait_advanced()
            _vacuum(url)
            figures = _night(engine, url, key, ids, workers, night, fleets, args.zone)
            figures["mode"] = mode if results else "first full"
            results.append(figures)
            if not args.json:
                print(f"  {figures['mode']:>10} night, {workers} worker(s): {figures['drain_seconds']:8.1f} s  "
                      f"{figures['districts_per_second']:6.2f} districts/s  {figures['records_per_second']:7d} "
                      f"records/s  runs {figures['runs']}", flush=True)
    finally:
        for fleet in fleets:
            fleet.stop()
        engine.dispose()
        if not args.keep:
            _drop_database()

    report = {"districts": args.districts, "students": students, "zone": args.zone, "small": args.small, "medium": args.medium,
              "cpus": os.cpu_count(), "setup": setup, "nights": results}
    for mode in modes:
        rows = [r for r in results[1:] if r["mode"] == mode]
        base = next((r for r in rows if r["workers"] == 1), rows[0])
        for r in rows:
            r["speedup_vs_1_worker"] = round(base["drain_seconds"] / r["drain_seconds"], 2)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"\nOne night for {args.districts} districts ({students} students; 80% of {args.small}, "
          f"20% of {args.medium}) on {os.cpu_count()} CPUs, sandbox and PostgreSQL on the same machine\n")
    print(f"{'night':>10} {'workers':>7} {'drain s':>9} {'districts/s':>12} {'records/s':>10} {'speed-up':>9} "
          f"{'cpu s/district: workers':>24} {'sandbox':>8} {'postgres':>9} {'others':>7}")
    for r in results:
        cpu = r["cpu_seconds_per_district"]
        print(f"{r['mode']:>10} {r['workers']:>7} {r['drain_seconds']:>9.1f} {r['districts_per_second']:>12.2f} "
              f"{r['records_per_second']:>10} {r.get('speedup_vs_1_worker', '-'):>9} {cpu['workers']:>24.3f} "
              f"{cpu['sandbox']:>8.3f} {cpu['postgresql']:>9.3f} {r['others_cpu_seconds'] / r['districts']:>7.3f}")


if __name__ == "__main__":
    main()
