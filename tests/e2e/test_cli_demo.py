"""``rostersync demo`` on a fresh directory, as a new user runs it: twice, each well under a minute."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

RUNNER = "from rostersync.cli import main; main()"


def rostersync(cwd: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROSTERSYNC_")}
    env.update(COLUMNS="160", PYTHONUNBUFFERED="1")
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-c", RUNNER, *args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=120)
    return result, time.monotonic() - start


def test_demo_syncs_a_district_twice_in_a_fresh_directory(tmp_path):
    first, took = rostersync(tmp_path, "demo")
    assert first.returncode == 0, first.stdout + first.stderr
    assert took < 60
    out = first.stdout
    for text in ("Day 1: full sync", "Day 2: delta sync", "Created", "Unchanged", "records/s",
                 "What changed on day 2", "Fields changed", "rostersync roster demo students",
                 "rostersync changes demo", "rostersync serve", "Demo done"):
        assert text in out, text
    assert "Traceback" not in first.stderr
    assert (tmp_path / "rostersync.db").exists() and (tmp_path / "rostersync.key").exists()

    second, took = rostersync(tmp_path, "demo", "--json")  # again: the demo connection is replaced
    assert second.returncode == 0, second.stdout + second.stderr
    assert took < 60
    body = json.loads(second.stdout)
    assert body["full"]["state"] == body["delta"]["state"] == "applied"
    assert body["full"]["total"]["created"] == body["full"]["records_read"]  # a fresh roster, not a re-sync
    assert body["changes"] and all(set(c) >= {"kind", "sourcedId", "action"} for c in body["changes"])

    listed, _ = rostersync(tmp_path, "connections", "list", "--json")
    assert [c["name"] for c in json.loads(listed.stdout)] == ["demo"]
    students, _ = rostersync(tmp_path, "roster", "demo", "students", "--json", "--limit", "3")
    assert len(json.loads(students.stdout)["records"]) == 3
