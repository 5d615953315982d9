"""Bench: the OneRoster client against its floor and a naive client, side by side.

One sandbox district (default about 1,000,000 records of all kinds) is served
by a child process, so the server does not share the readers' interpreter
lock. Every contender reads every collection of a full sync
(``SYNC_RESOURCES``) and parses every record with ``parse_record``:

* client: :class:`OneRosterClient` with the Infinite Campus profile, off-peak
  (10,000 records a page, 5 requests in flight, retries, de-duplication);
* floor: the same pages fetched with plain httpx on the same number of
  threads, decoded with orjson and parsed: no client logic at all;
* naive: one request at a time, 100 records a page, ``response.json()``.

Run:  .venv/bin/python bench/bench_client.py [--records 1000000] [--rounds 2] [--skip-naive]

It prints records/s and the ratios to the floor (the aim: client within 1.5x
of the floor), in wall time and in this process's CPU time (steadier on a busy
machine), plus how much each contender's memory grew (the client must stay
flat: bounded look-ahead, no collection held whole; it does keep a 64-bit hash
per sourcedId read, about 35 MB per million).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import psutil

from rostersync.oneroster.records import RecordError, parse_record
from rostersync.oneroster.resources import RESOURCES, SYNC_RESOURCES
from rostersync.source.client import OneRosterClient
from rostersync.source.connection import ConnectionSpec, OAuth2Credentials
from rostersync.source.profiles import INFINITE_CAMPUS

PAGE = INFINITE_CAMPUS.page_size
THREADS = INFINITE_CAMPUS.max_in_flight


def serve(records: int, conn) -> None:
    """Child process: run a sandbox until told to stop."""
    from rostersync.sandbox.district import records_for_total
    from rostersync.sandbox.server import start_sandbox

    with start_sandbox(students=records_for_total(records), seed=1) as box:
        conn.send(box.credentials.to_dict())
        conn.recv()


def token(http: httpx.Client, creds: dict) -> str:
    answer = http.post(creds["token_url"], data={"grant_type": "client_credentials"},
                       auth=(creds["client_id"], creds["client_secret"]))
    answer.raise_for_status()
    return answer.json()["access_token"]


def parse_page(name: str, body: bytes, decode: Callable[[bytes], dict]) -> int:
    resource = RESOURCES[name]
    items = decode(body)[resource.envelope]
    for obj in items:
        try:
            parse_record(resource.kind, obj)
        except RecordError:
            pass
    return len(items)


def floor(creds: dict) -> int:
    """The same pages as the client, fetched concurrently with plain httpx, orjson-decoded, parsed."""
    total_records = 0
    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=THREADS)) as http:
        http.headers["Authorization"] = "Bearer " + token(http, creds)
        with ThreadPoolExecutor(THREADS) as pool:
            for name in SYNC_RESOURCES:
                url = f"{creds['base_url']}/{name}"
                first = http.get(url, params={"limit": PAGE, "offset": 0})
                total = int(first.headers["x-total-count"])
                total_records += parse_page(name, first.content, orjson.loads)
                offsets = range(PAGE, total, PAGE)
                pages = pool.map(lambda o: http.get(url, params={"limit": PAGE, "offset": o}).content, offsets)
                for body in pages:
                    total_records += parse_page(name, body, orjson.loads)
    return total_records


def client(creds: dict) -> int:
    spec = ConnectionSpec(credentials=OAuth2Credentials(
        client_id=creds["client_id"], client_secret=creds["client_secret"],
        token_url=creds["token_url"], base_url=creds["base_url"]))
    count = 0
    with OneRosterClient(spec, profile=INFINITE_CAMPUS, peak=False, timeout=60) as reader:
        for name in SYNC_RESOURCES:
            for _ in reader.read(name):
                count += 1
    return count


def naive(creds: dict) -> int:
    """Sequential, 100 records a page, stdlib JSON: what a first attempt looks like."""
    count = 0
    with httpx.Client(timeout=60) as http:
        http.headers["Authorization"] = "Bearer " + token(http, creds)
        for name in SYNC_RESOURCES:
            url, offset = f"{creds['base_url']}/{name}", 0
            while True:
                response = http.get(url, params={"limit": 100, "offset": offset})
                n = parse_page(name, response.content, lambda body: response.json())
                count, offset = count + n, offset + n
                if n < 100:
                    break
    return count


def measure(fn: Callable[[dict], int], creds: dict) -> tuple[int, float, float, float]:
    """(records, wall seconds, CPU seconds of this process, MB of memory growth at peak)."""
    process = psutil.Process()
    start_rss = process.memory_info().rss
    peak = [start_rss]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started, cpu = time.perf_counter(), time.process_time()
    records = fn(creds)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    done.set()
    sampler.join()
    return records, seconds, cpu, (peak[0] - start_rss) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000, help="district size (records of all kinds)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of client and floor (best is kept)")
    parser.add_argument("--skip-naive", action="store_true", help="leave out the naive client (slow)")
    args = parser.parse_args()

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(target=serve, args=(args.records, child), daemon=True)
    started = time.perf_counter()
    server.start()
    creds = parent.recv()
    print(f"sandbox of ~{args.records:,} records ready in {time.perf_counter() - started:.1f} s "
          f"(page {PAGE:,}, {THREADS} in flight)")
    try:
        floor(creds)  # warm-up: the provider builds its indexes and caches on the first read
        results: dict[str, tuple[int, float, float, float]] = {}
        for _ in range(args.rounds):
            for name, fn in (("floor", floor), ("client", client)):
                run = measure(fn, creds)
                if name not in results or run[1] < results[name][1]:
                    results[name] = run
        if not args.skip_naive:
            results["naive"] = measure(naive, creds)
    finally:
        parent.send("stop")
        server.join(30)

    base, base_cpu = results["floor"][1], results["floor"][2]
    print(f"{'reader':<8} {'records':>10} {'seconds':>8} {'records/s':>10} {'vs floor':>9} "
          f"{'CPU s':>7} {'CPU vs floor':>13} {'memory':>8}")
    for name, (records, seconds, cpu, grown) in results.items():
        print(f"{name:<8} {records:>10,} {seconds:>8.2f} {records / seconds:>10,.0f} {seconds / base:>8.2f}x "
              f"{cpu:>7.2f} {cpu / base_cpu:>12.2f}x {grown:>6.0f}MB")
    ratio = results["client"][1] / base
    print(f"client / floor = {ratio:.2f}x wall, {results['client'][2] / base_cpu:.2f}x CPU (aim: within 1.5x)"
          + ("" if ratio <= 1.5 else "  <-- MISSED"))
    if "naive" in results:
        print(f"naive / client = {results['naive'][1] / results['client'][1]:.1f}x slower")


if __name__ == "__main__":
    main()
