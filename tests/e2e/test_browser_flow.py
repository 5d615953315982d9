"""The whole flow in a real headless Chromium (Debian's), against the sandbox over loopback.

Staff sign in, create a district and its link; the district admin completes
the intake, first with a wrong secret (the fix is shown), then correctly; staff
run a sync, review and approve a held run, browse a class roster and change
the sync window (a refused one first). Every
page visited is saved as a screenshot under artifacts/screenshots/. Also: every
input has a label, every action is reachable with the keyboard, and the intake
form works with JavaScript turned off.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def _need_browser():
    problem = None
    try:
        from playwright.sync_api import sync_playwright  # noqa: F401
    except ImportError:
        problem = "playwright is not installed"
    if problem is None and not os.path.exists(CHROMIUM):
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)


@pytest.fixture(scope="module")
def browser():
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The sandbox, and rostersync serving on 127.0.0.1 with its embedded scheduler."""
    from rostersync.sandbox.server import start_sandbox
    from rostersync.web.app import create_app
    from rostersync.web.server import ServerThread, build_server_services
    from rostersync.web.testing import add_staff, fast_password_hashing, local_settings

    folder = tmp_path_factory.mktemp("browser")
    settings = local_settings(folder)
    fast_password_hashing()
    with start_sandbox(students=60, seed=11) as sandbox:
        services = build_server_services(settings, vendor_name="Otus", tick=3600)
        add_staff(services)
        with ServerThread(create_app(settings, services=services)) as server:
            yield type("Stack", (), dict(sandbox=sandbox, services=services, url=server.url))
        services.close()


class Shots:
    def __init__(self, name: str) -> None:
        self.folder = SHOTS
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob(f"{name}-*.png"):
            old.unlink()
        self.name, self.n = name, 0

    def __call__(self, page, what: str) -> None:
        self.n += 1
        page.screenshot(path=str(self.folder / f"{self.name}-{self.n:02d}-{what}.png"), full_page=True)


def assert_every_input_labelled(page) -> None:
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('input, select, textarea')]
        .filter(el => el.type !== 'hidden' && !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
        .map(el => el.name || el.id)""")
    assert unlabelled == [], f"inputs without a label: {unlabelled}"


def assert_keyboard_reaches_everything(page) -> None:
    """Tab through the page: every visible link, button, field and summary gets the focus
    (a radio group once: within it, arrow keys move, as browsers do)."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    targets = page.evaluate("""() => {
        const els = [...document.querySelectorAll('a[href], button, input, select, textarea, summary')]
          .filter(el => el.type !== 'hidden' && !el.disabled && el.offsetParent !== null);
        els.forEach((el, i) => el.setAttribute('data-kb', el.type === 'radio' ? 'radio:' + el.name : String(i)));
        return new Set(els.map(el => el.getAttribute('data-kb'))).size; }""")
    seen: set[str] = set()
    for _ in range(targets * 3 + 10):
        page.keyboard.press("Tab")
        mark = page.evaluate("() => document.activeElement && document.activeElement.getAttribute('data-kb')")
        if mark is not None:
            seen.add(mark)
        if len(seen) == targets:
            return
    missing = page.evaluate("""(seen) => [...document.querySelectorAll('[data-kb]')]
        .filter(el => !seen.includes(el.getAttribute('data-kb'))).map(el => el.outerHTML.slice(0, 80))""", list(seen))
    raise AssertionError(f"not reachable with Tab: {missing}")


def wait_for_state(page, url: str, state: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        page.goto(url)
        if page.locator(f".state:has-text('{state}')").first.is_visible():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"the district did not reach {state!r}: {page.locator('.state').first.inner_text()}")
        time.sleep(0.3)


def sign_in(page, url: str, shots: Shots) -> None:
    page.goto(url + "/")
    assert "/login" in page.url
    shots(page, "login")
    page.get_by_label("User name").fill("staff")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(url + "/")


def create_district(page, url: str, name: str, shots: Shots) -> str:
    page.get_by_role("link", name="New district").click()
    assert_every_input_labelled(page)
    shots(page, "new-district")
    page.get_by_label("District name").fill(name)
    page.get_by_role("button", name="Create district and intake link").click()
    page.wait_for_selector("#intake-link")
    shots(page, "link-created")
    link = page.locator("#intake-link").input_value()
    assert link.startswith(url + "/intake/")
    return link


def fill_oauth2(page, creds, secret: str) -> None:
    page.get_by_label("Client ID", exact=True).fill(creds.client_id)
    page.get_by_label("Client Secret", exact=True).fill(secret)
    page.get_by_label("Token URL", exact=True).fill(creds.token_url)
    page.get_by_label("Base URL", exact=True).fill(creds.base_url)


def test_the_whole_flow(browser, stack):
    shots = Shots("flow")
    sandbox, url = stack.sandbox, stack.url
    creds = sandbox.credentials
    staff = browser.new_context(viewport={"width": 1280, "height": 900})
    page = staff.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, url, shots)
    shots(page, "dashboard-empty")
    link = create_district(page, url, "Springfield Public Schools", shots)

    # The district admin, in a browser of their own.
    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    admin.goto(link)
    assert admin.get_by_text('Instructions for "New Look" navigation').is_visible()
    assert_every_input_labelled(admin)
    assert_keyboard_reaches_everything(admin)
    assert not admin.locator("#fields-oauth1").is_visible()  # JS shows only the chosen kind
    shots(admin, "intake")
    fill_oauth2(admin, creds, "wrong-secret-" + "q" * 24)
    admin.get_by_role("button", name="Check and send").click()
    admin.wait_for_selector("#results")
    results = admin.locator("#results").inner_text()
    assert "Client Secret" in results and "How to fix it" in results
    assert admin.get_by_label("Client ID", exact=True).input_value() == creds.client_id  # kept
    assert admin.get_by_label("Client Secret", exact=True).input_value() == ""  # secrets are retyped
    shots(admin, "intake-wrong-secret")
    admin.get_by_label("Client Secret", exact=True).fill(creds.client_secret)
    admin.get_by_role("button", name="Check and send").click()
    admin.wait_for_selector("text=Thank you: the credentials work")
    assert creds.client_secret not in admin.content()
    shots(admin, "intake-done")
    admin.goto(link)
    assert "already been used" in admin.content()
    shots(admin, "intake-spent")

    # Staff: the notification, a full sync.
    page.goto(url + "/")
    assert "sent working credentials" in page.content()
    page.get_by_role("link", name="Springfield Public Schools").click()
    district_url = page.url
    shots(page, "district-ready")
    page.get_by_label("Sync", exact=True).select_option("full")
    page.get_by_role("button", name="Sync now").click()
    wait_for_state(page, district_url, "Healthy")
    assert_keyboard_reaches_everything(page)
    shots(page, "district-healthy")
    run_link = page.locator("dl.summary a[href^='/runs/']").first
    run_link.click()
    assert "Per kind" in page.content()
    shots(page, "run-applied")

    # A held run: tighten the guard, let the district change, sync the changes.
    from rostersync.store.connections import update_connection
    from rostersync.store.engine import begin_write

    with begin_write(stack.services.engine) as db:
        update_connection(db=db, name="springfield-public-schools", hold_update_percent=0, hold_delete_percent=0,
                          hold_min_records=1)
    sandbox.advance(2)
    page.goto(district_url)
    page.get_by_label("Sync", exact=True).select_option("delta")
    page.get_by_role("button", name="Sync now").click()
    wait_for_state(page, district_url, "Held for review")
    shots(page, "district-held")
    page.goto(url + "/")
    assert "was held for review" in page.content()  # the notification of the held run
    page.get_by_role("link", name="Review held runs").click()
    shots(page, "held-runs")
    page.locator("a", has_text=re.compile(r"Review run #\d+")).first.click()
    assert "What would change" in page.content()
    assert_keyboard_reaches_everything(page)
    shots(page, "held-run")
    page.get_by_role("button", name="Approve and apply").click()
    page.wait_for_selector("text=The held run was applied")
    shots(page, "held-run-approved")
    wait_for_state(page, district_url, "Healthy")

    # Roster browser: a school, its classes, a class roster, a person's classes, search.
    page.get_by_role("link", name="Browse the roster").click()
    shots(page, "roster-schools")
    page.locator("table.data tbody a").first.click()
    shots(page, "roster-school")
    page.locator("table.data tbody a").first.click()
    assert page.get_by_role("heading", name=re.compile(r"Students \(\d+\)")).is_visible()
    shots(page, "roster-class")
    student = page.locator("table.data tbody a").first
    name = student.inner_text()
    student.click()
    assert page.get_by_role("heading", name=re.compile(r"Classes \(\d+\)")).is_visible()
    shots(page, "roster-person")
    page.get_by_label("Search people, classes and schools").fill(name.split()[-1])
    page.get_by_role("button", name="Search").click()
    assert name in page.content()
    shots(page, "roster-search")

    # The sync schedule: a window that is empty is refused next to its field; a good one is saved.
    page.goto(district_url)
    page.get_by_label("Starts at").fill("01:00")
    page.get_by_label("Ends at").fill("01:00")
    page.get_by_role("button", name="Save schedule").click()
    page.wait_for_selector("#window-error")
    assert "is empty" in page.locator("#window-error").inner_text()
    shots(page, "schedule-refused")
    page.get_by_label("Ends at").fill("04:30")
    page.get_by_label("Weekly full sync on the night of").select_option("wed")
    page.get_by_role("button", name="Save schedule").click()
    page.wait_for_selector("text=The sync schedule was saved.")
    summary = "01:00-04:30 America/Chicago, full on wed"
    assert page.locator("#schedule-summary").inner_text() == summary
    assert page.get_by_label("Starts at").input_value() == "01:00"
    shots(page, "schedule-saved")

    page.goto(url + "/audit")
    assert "approved held run" in page.content() and "credentials received" in page.content()
    assert "changed the sync schedule" in page.content() and summary in page.content()
    shots(page, "audit-log")


def test_intake_works_without_javascript(browser, stack):
    shots = Shots("nojs")
    staff = browser.new_context().new_page()
    sign_in(staff, stack.url, shots)
    link = create_district(staff, stack.url, "Shelbyville Unified", shots)
    admin = browser.new_context(java_script_enabled=False).new_page()
    admin.goto(link)
    assert admin.locator("#fields-oauth1").is_visible()  # without JS both kinds are shown
    shots(admin, "intake")
    fill_oauth2(admin, stack.sandbox.credentials, stack.sandbox.credentials.client_secret)
    admin.get_by_role("button", name="Check and send").click()
    admin.wait_for_selector("text=Thank you: the credentials work")
    shots(admin, "intake-done")
