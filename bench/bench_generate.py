"""How fast and how big sandbox districts are: generation, churn, rendering.

Run: ``.venv/bin/python bench/bench_generate.py [total_records ...]`` (default
10k, 100k and 1M records). Each size runs in a fresh interpreter so resident
memory is its own; tracemalloc's peak is measured in a second, separate run
(tracing slows Python down). Prints one table, sizes side by side.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time


def measure(total: int, trace: bool) -> dict:
    import psutil

    from rostersync.oneroster.kinds import Kind, Version
    from rostersync.sandbox.district import generate, records_for_total

    students = records_for_total(total)
    process = psutil.Process()
    rss_before = process.memory_info().rss
    if trace:
        import tracemalloc

        tracemalloc.start()
        generate(seed=1, students=students)
        return {"traced_peak_mb": tracemalloc.get_traced_memory()[1] / 1e6}
    start = time.perf_counter()
    district = generate(seed=1, students=students)
    generated = time.perf_counter() - start
    rss = (process.memory_info().rss - rss_before) / 1e6
    records = sum(district.summary()["counts"].values())
    start = time.perf_counter()
    district.advance(5)
    advanced = (time.perf_counter() - start) / 5
    view = district.records(Kind.ENROLLMENT, Version.V1P2)
    page = min(len(view), 20_000)
    start = time.perf_counter()
    view[:page]
    rendered = page / (time.perf_counter() - start)
    return {"students": students, "records": records, "generate_s": generated, "rss_mb": rss,
            "day_s": advanced, "render_per_s": rendered}


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(measure(int(argv[1]), argv[2] == "trace")))
        return
    sizes = [int(a) for a in argv] or [10_000, 100_000, 1_000_000]
    rows = []
    for total in sizes:
        result = {}
        for mode in ("plain", "trace"):
            out = subprocess.run([sys.executable, __file__, "--one", str(total), mode],
                                 check=True, capture_output=True, text=True).stdout
            result.update(json.loads(out))
        rows.append(result)
    print(f"{'records':>10} {'students':>9} {'generate s':>11} {'records/s':>10} {'RSS MB':>8} "
          f"{'traced MB':>10} {'1 day s':>8} {'renders/s':>10}")
    for r in rows:
        print(f"{r['records']:>10,} {r['students']:>9,} {r['generate_s']:>11.2f} "
              f"{r['records'] / r['generate_s']:>10,.0f} {r['rss_mb']:>8.1f} {r['traced_peak_mb']:>10.1f} "
              f"{r['day_s']:>8.3f} {r['render_per_s']:>10,.0f}")
    base = rows[0]
    for r in rows[1:]:
        print(f"{r['records'] / base['records']:.0f}x the records: {r['generate_s'] / base['generate_s']:.1f}x "
              f"the time, {r['traced_peak_mb'] / base['traced_peak_mb']:.1f}x the traced memory")


if __name__ == "__main__":
    main(sys.argv[1:])
