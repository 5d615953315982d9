"""``rostersync sandbox serve`` as a district admin and a script would use it: a real process."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from rostersync.cli import app as cli_app

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from rostersync.cli import main; main()"]  # the `rostersync` command
JSON_KEYS = {"client_id", "client_secret", "token_url", "base_url", "base_url_v1p2", "consumer_key",
             "consumer_secret", "oneroster_url"}


def read_line(process: subprocess.Popen, timeout: float) -> str:
    """The next line of the process's stdout (read by a thread: pipes are block-buffered)."""
    lines: queue.Queue = getattr(process, "lines", None)
    if lines is None:
        lines = process.lines = queue.Queue()  # type: ignore[attr-defined]
        threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        raise AssertionError(f"serve printed nothing in time (exit code {process.poll()})") from None


def serve(*args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "sandbox", "serve", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=REPO, env={**os.environ, **(env or {})})


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[subprocess.Popen, dict]]:
    process = serve("--students", "30000", "--port", "0", "--json", "--seed", "3")
    try:
        line = read_line(process, timeout=60)
        yield process, json.loads(line)
    finally:
        stop(process)


def test_json_prints_one_line_with_what_a_district_copies(served):
    _, creds = served
    assert JSON_KEYS <= set(creds)
    assert creds["token_url"].endswith("/campus/oauth2/token?appName=rostersync")
    assert creds["base_url"].endswith("/campus/api/oneroster/v1p1/rostersync/ims/oneroster/v1p1")
    assert creds["base_url_v1p2"].endswith("/campus/api/oneroster/v1p2/rostersync/ims/oneroster/rostering/v1p2")
    assert creds["oneroster_url"].endswith("/campus/oneroster/rostersync/ims/oneroster/v1p1")
    assert creds["token_url"].startswith("http://127.0.0.1:") and ":0/" not in creds["token_url"]


def test_a_script_pages_through_30000_students_with_a_token(served):
    _, creds = served
    token = httpx.post(creds["token_url"], data={"grant_type": "client_credentials"},
                       auth=(creds["client_id"], creds["client_secret"])).json()["access_token"]
    seen, url, total = set(), creds["base_url"] + "/students?limit=10000", None
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
        while url:
            response = client.get(url)
            assert response.status_code == 200, response.text[:300]
            total = int(response.headers["X-Total-Count"])
            page = response.json()["users"]
            seen.update(u["sourcedId"] for u in page)
            url = response.links.get("next", {}).get("url")
    assert total == len(seen) and total >= 29_000


def test_sigusr1_and_the_advance_command_move_to_the_next_school_day(served):
    process, creds = served
    stats = lambda: httpx.get(creds["admin_url"] + "/stats",  # noqa: E731
                              headers={"Authorization": f"Bearer {creds['admin_token']}"}).json()
    day = stats()["district"]["day"]
    os.kill(process.pid, signal.SIGUSR1)
    deadline = time.monotonic() + 30
    while stats()["district"]["day"] != day + 1:
        assert time.monotonic() < deadline, "SIGUSR1 did not advance the district"
        time.sleep(0.1)
    result = subprocess.run([*CLI, "sandbox", "advance"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "ROSTERSYNC_SANDBOX_ADMIN_URL": creds["admin_url"],
                                 "ROSTERSYNC_SANDBOX_ADMIN_TOKEN": creds["admin_token"]})
    assert result.returncode == 0, result.stderr
    assert f"school day {day + 2}" in result.stdout
    assert stats()["district"]["day"] == day + 2


def test_the_panel_labels_values_as_infinite_campus_does():
    process = serve("--students", "40", "--port", "0", "--no-demographics", "--client-id", "district-app",
                    env={"ROSTERSYNC_SANDBOX_APP_NAME": "lincoln", "COLUMNS": "60"})
    try:
        lines = []
        while not lines or not lines[-1].startswith("╰"):
            lines.append(read_line(process, timeout=30).rstrip("\n"))
        text = "\n".join(lines)
        for label in ("Client ID", "Client Secret", "Token URL", "Base URL", "Consumer Key", "Consumer Secret",
                      "OneRoster URL"):
            assert f"│ {label} " in text
        token_line = next(line for line in lines if "│ Token URL" in line)
        token_url = token_line.split()[3]
        assert token_url.endswith("/campus/oauth2/token?appName=lincoln")  # whole, even on a narrow terminal
        secret = next(line for line in lines if "│ Client Secret" in line).split()[3]
        assert "district-app" in text
        token = httpx.post(token_url, data={"grant_type": "client_credentials"}, auth=("district-app", secret))
        base = next(line for line in lines if "│ Base URL " in line).split()[3]
        demographics = httpx.get(base + "/demographics",
                                 headers={"Authorization": f"Bearer {token.json()['access_token']}"})
        assert demographics.status_code == 403
    finally:
        stop(process)
    assert process.returncode == 0


@pytest.mark.parametrize(
    ("args", "words"),
    [(["--fault", "ratelimit=0.2"], "unknown fault 'ratelimit'"),
     (["--fault", "drop=2"], "between 0 and 1"),
     (["--students", "0"], "students must be a whole number"),
     (["--client-auth", "digest"], "client_auth")],
)
def test_bad_options_exit_2_with_a_plain_message(args, words):
    result = CliRunner().invoke(cli_app, ["sandbox", "serve", "--port", "0", *args])  # fails before serving
    assert result.exit_code == 2
    assert words in result.stderr and "Traceback" not in result.stderr


def test_options_have_environment_twins():
    result = CliRunner().invoke(cli_app, ["sandbox", "serve", "--port", "0"],
                                env={"ROSTERSYNC_SANDBOX_FAULTS": "no_link drop=7"})
    assert result.exit_code == 2 and "fault drop must be a fraction" in result.stderr
    result = CliRunner().invoke(cli_app, ["sandbox", "serve", "--port", "0"], env={"ROSTERSYNC_SANDBOX_STUDENTS": "-4"})
    assert result.exit_code == 2 and "students" in result.stderr
