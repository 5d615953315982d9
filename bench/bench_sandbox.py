"""How fast the sandbox serves a district, and how much memory the server needs.

Starts ``rostersync sandbox serve --json`` as a subprocess (a real server
process on loopback), then, as a sync would, pages through every collection
a full sync reads (orgs, academicSessions, demographics, students, teachers,
courses, classes, enrollments) with a token, in several passes measured side
by side:

* full pass at limit 10,000, one request at a time (Infinite Campus at peak);
* full pass at limit 50,000 (Infinite Campus's page cap);
* small pages (limit 100) of /enrollments, one at a time, then 5 at once
  (Infinite Campus's off-peak maximum).

Prints pages/s, records/s and MB/s per pass, the server's CPU time per pass
(user + system, and per record served: the cost a sync pays when the sandbox
shares its machine) and the server's peak resident memory (VmHWM) next to its
memory once the district was built.

    ./dev bench sandbox                      # ~1,000,000 records
    ./dev bench sandbox --records 100000     # quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import psutil
from rich.console import Console
from rich.table import Table

from rostersync.oneroster.resources import RESOURCES, SYNC_RESOURCES
from rostersync.sandbox.district import records_for_total

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Pass:
    name: str
    pages: int = 0
    records: int = 0
    bytes: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0  # the server process's user + system CPU seconds during the pass
    peak_rss: int = 0

    def row(self) -> list[str]:
        s = self.seconds or 1e-9
        return [self.name, f"{self.pages:,}", f"{self.records:,}", f"{self.bytes / 1e6:,.1f}", f"{s:,.1f}",
                f"{self.pages / s:,.0f}", f"{self.records / s:,.0f}", f"{self.bytes / 1e6 / s:,.1f}",
                f"{self.server_cpu:,.2f}", f"{self.server_cpu / max(self.records, 1) * 1e6:,.2f}",
                f"{self.peak_rss / 2**20:,.0f}"]


def peak_rss(pid: int) -> int:
    """The process's peak resident set size in bytes (Linux VmHWM; else the current RSS)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return psutil.Process(pid).memory_info().rss


def cpu_seconds(pid: int) -> float:
    """The process's user + system CPU time so far."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


class Server:
    def __init__(self, students: int, seed: int) -> None:
        cmd = [sys.executable, "-c", "from rostersync.cli import main; main()", "sandbox", "serve",
               "--students", str(students), "--seed", str(seed), "--port", "0", "--json", "--max-limit", "50000"]
        started = time.perf_counter()
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the sandbox did not start: {self.process.stderr.read()}")
        self.startup = time.perf_counter() - started
        self.creds = json.loads(line)
        self.pid = self.process.pid
        self.rss_ready = psutil.Process(self.pid).memory_info().rss

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def token(creds: dict) -> str:
    response = httpx.post(creds["token_url"], data={"grant_type": "client_credentials"},
                          auth=(creds["client_id"], creds["client_secret"]))
    response.raise_for_status()
    return response.json()["access_token"]


def fetch(client: httpx.Client, url: str, params: dict | None = None) -> tuple[httpx.Response, int]:
    response = client.get(url, params=params)
    response.raise_for_status()
    envelope = orjson.loads(response.content)
    return response, len(next(iter(envelope.values())))


def full_pass(server: Server, limit: int) -> Pass:
    result = Pass(f"every collection, limit {limit:,}, 1 at a time")
    base = server.creds["base_url"]
    with httpx.Client(headers={"Authorization": f"Bearer {token(server.creds)}"}, timeout=300) as client:
        started, cpu = time.perf_counter(), cpu_seconds(server.pid)
        for name in SYNC_RESOURCES:
            url: str | None = f"{base}/{name}?limit={limit}"
            while url:
                response, n = fetch(client, url)
                result.pages += 1
                result.records += n
                result.bytes += len(response.content)
                url = response.links.get("next", {}).get("url")
        result.seconds = time.perf_counter() - started
        result.server_cpu = cpu_seconds(server.pid) - cpu
    result.peak_rss = peak_rss(server.pid)
    return result


def small_pages(server: Server, pages: int, workers: int) -> Pass:
    result = Pass(f"/enrollments, limit 100, {workers} at a time")
    url = server.creds["base_url"] + "/enrollments"
    lock = threading.Lock()
    with httpx.Client(headers={"Authorization": f"Bearer {token(server.creds)}"}, timeout=300,
                      limits=httpx.Limits(max_connections=workers)) as client:
        total = int(client.get(url, params={"limit": 1}).headers["X-Total-Count"])
        offsets = [(i * 100) % max(total, 1) for i in range(pages)]

        def one(offset: int) -> None:
            response, n = fetch(client, url, {"limit": 100, "offset": offset})
            with lock:
                result.pages += 1
                result.records += n
                result.bytes += len(response.content)

        started, cpu = time.perf_counter(), cpu_seconds(server.pid)
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(one, offsets))
        result.seconds = time.perf_counter() - started
        result.server_cpu = cpu_seconds(server.pid) - cpu
    result.peak_rss = peak_rss(server.pid)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="about this many records in all")
    parser.add_argument("--students", type=int, default=None, help="district size (overrides --records)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--small-pages", type=int, default=2000, help="pages of 100 in the small-page passes")
    args = parser.parse_args()
    students = args.students or records_for_total(args.records)

    console = Console(width=max(Console().width, 150))
    console.print(f"Starting the sandbox: {students:,} students ...")
    server = Server(students, args.seed)
    try:
        creds = server.creds
        counts = httpx.get(creds["admin_url"] + "/stats",
                           headers={"Authorization": f"Bearer {creds['admin_token']}"}).json()["district"]["counts"]
        passes = [full_pass(server, 10_000), full_pass(server, 50_000),
                  small_pages(server, args.small_pages, 1), small_pages(server, args.small_pages, 5)]
        stats = httpx.get(creds["admin_url"] + "/stats",
                          headers={"Authorization": f"Bearer {creds['admin_token']}"}).json()
    finally:
        server.stop()

    served = sum(counts.values())
    console.print(f"District: {students:,} students, {served:,} records "
                  f"({', '.join(f'{k} {v:,}' for k, v in counts.items())}); "
                  f"a full pass reads {sum(counts[RESOURCES[n].kind.value] for n in ('orgs', 'academicSessions', 'demographics', 'users', 'courses', 'classes', 'enrollments')):,}.")
    table = Table(title="rostersync sandbox over loopback HTTP")
    for column in ("pass", "pages", "records", "MB", "s", "pages/s", "records/s", "MB/s", "server CPU s",
                   "server CPU us/record", "server peak RSS MiB"):
        table.add_column(column, justify="left" if column == "pass" else "right")
    for p in passes:
        table.add_row(*p.row())
    console.print(table)
    ratio = passes[3].pages / passes[3].seconds / (passes[2].pages / passes[2].seconds)
    console.print(f"Server start (generate + listen): {server.startup:.1f} s; RSS when ready "
                  f"{server.rss_ready / 2**20:,.0f} MiB; peak RSS {max(p.peak_rss for p in passes) / 2**20:,.0f} MiB; "
                  f"5-at-a-time vs 1-at-a-time small pages: {ratio:.2f}x; "
                  f"max in flight seen by the server: {stats['max_in_flight']}; "
                  f"status codes: {stats['statuses']}.")
    console.print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
                  f"{psutil.virtual_memory().total / 2**30:.0f} GiB RAM, Python {platform.python_version()}; "
                  f"{time.strftime('%Y-%m-%d')}.")


if __name__ == "__main__":
    main()
