"""The web workspace in a real browser: Debian's headless Chromium driven by Playwright for Python, against a real
uvicorn on 127.0.0.1 serving the deployment of web_fixtures.py. A commissioner and a provider sign in by the link
the outbox carries, act, and see each other's acts; axe-core checks every page for WCAG 2.2 A and AA; every page
fits a phone's width. Marker `browser` (`pytest -m "not browser"` leaves them out); without Chromium they skip,
except in CI (KPIBOT_REQUIRE_SERVICES=1), where that is a failure.

Set KPIBOT_SCREENSHOTS=DIR to keep a screenshot of each page at 1280 and 390 px wide in DIR.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from intake_fixtures import ALICE, sample_csv
from services import free_port
from sqlmodel import Session, col, select
from web_fixtures import CAROL, Workspace

from bot.storage.models import OutboxMessage
from bot.web import signin as links
from bot.web.server import _Server, config_for

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]  # /work/shared/RECIPES.md: as root, and no reaching for hosts
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
REASON = "1.1 looks far above the count of quit dates set last quarter"


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: str) -> str:
    """SQLite only: the browser is what these test; both databases are under the HTTP tests."""
    path = tmp_path / "kpibot.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install -e '.[dev]')")
    if not os.access(CHROMIUM, os.X_OK):
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        found = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield found
        found.close()


def _missing(why: str) -> None:
    if os.environ.get("KPIBOT_REQUIRE_SERVICES") == "1":
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture
def site(workspace: Workspace) -> Iterator[str]:
    """The workspace served by uvicorn on a free port of 127.0.0.1, its sign-in links pointing there."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = workspace.app.settings
    workspace.app.settings = settings.model_copy(update={"web": settings.web.model_copy(update={"base_url": url})})
    server = _Server(config_for(workspace.app, "127.0.0.1", port, clock=workspace.clock))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield url
    server.should_exit = True
    thread.join(10)


def sign_in_by_link(ws: Workspace, browser: Any, site: str, email: str, width: int = 1280) -> Any:
    """A new browser context for `email`, signed in as a person does: ask for a link, open it, press Continue."""
    page = browser.new_context(viewport={"width": width, "height": 900}, base_url=site).new_page()
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("button", name="Send me a sign-in link").click()
    page.get_by_role("heading", name="Check your email or Telegram").wait_for()
    with Session(ws.engine) as session:
        message = session.exec(select(OutboxMessage).where(OutboxMessage.kind == links.KIND,
                                                           OutboxMessage.address == email)
                               .order_by(col(OutboxMessage.id).desc())).first()
    assert message is not None  # what the person would read in their email
    link = next(word for word in message.body_text.split() if links.PATH in word)
    page.goto(link)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/overview" if email == CAROL else "**/provider")
    return page


def accessible(page: Any) -> None:
    """axe-core finds no WCAG 2.2 A or AA violation on the page as it stands."""
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert result.violations_count == 0, f"{page.url}:\n{result.generate_report()}"


def fits(page: Any) -> None:
    """Nothing but a table's own scrolling region is wider than the window."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    widest = page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                     && !(e.parentElement && e.parentElement.closest('.table-scroll')))
        .slice(0, 3).map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').trim().slice(0, 40))""")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the window: {widest}"


def shoot(page: Any, name: str) -> None:
    folder = os.environ.get("KPIBOT_SCREENSHOTS")
    if folder:
        width = page.viewport_size["width"]
        page.screenshot(path=str(Path(folder) / f"{name}-{width}.png"), full_page=True)


def test_a_commissioner_queries_one_return_and_signs_off_another_and_the_provider_corrects_it(
        workspace: Workspace, browser: Any, site: str) -> None:
    carol = sign_in_by_link(workspace, browser, site, CAROL)
    late = carol.get_by_role("region", name="Late returns (4)")
    assert late.get_by_role("link", name="City and Hackney Stop Smoking Service, Q2 2025-26").count() == 1
    late.get_by_role("link", name="Hackney and City Substance Misuse, Q1 2025-26").click()
    carol.get_by_text("97 days overdue").wait_for()
    carol.go_back()

    carol.get_by_role("region", name="Waiting for review (2)").get_by_role(
        "link", name="City and Hackney Stop Smoking Service, Q1 2025-26").click()
    carol.get_by_label("Query it").fill(REASON)
    carol.get_by_role("button", name="Send the query").click()
    carol.get_by_role("status").get_by_text("Query sent about").wait_for()

    carol.goto("/overview")
    carol.get_by_role("link", name="Solihull Stop Smoking, Q1 2025-26").first.click()
    carol.get_by_role("button", name="Sign off version 1").click()
    carol.get_by_role("status").get_by_text("Signed off").wait_for()
    assert carol.get_by_text("Version 1: signed off").count() == 1

    alice = sign_in_by_link(workspace, browser, site, ALICE)
    queries = alice.get_by_role("heading", name="Queries to answer (1)")
    queries.wait_for()
    assert alice.get_by_text(REASON).count() == 1  # she sees the commissioner's act
    alice.get_by_role("link", name="Upload a return").first.click()
    alice.get_by_label("Which return is it?").select_option(value=str(workspace.obligation("ch-stop-smoking",
                                                                                         "2025-26-Q1")))
    alice.get_by_label("Return file").set_input_files(
        {"name": "q1-corrected.csv", "mimeType": "text/csv", "buffer": sample_csv(seed=6, level=0.9)})
    alice.get_by_role("button", name="Upload and check").click()
    alice.get_by_role("heading", name="Return accepted").wait_for()
    assert alice.get_by_role("link", name="Download the report").count() >= 1
    alice.goto("/provider")
    assert alice.get_by_role("heading", name="Queries to answer").count() == 0  # the correction answered it

    carol.goto("/overview")
    carol.get_by_role("region", name="Waiting for review (1)").get_by_role(
        "link", name="City and Hackney Stop Smoking Service, Q1 2025-26").click()
    carol.get_by_role("button", name="Sign off version 3").wait_for()  # she sees the provider's correction
    assert carol.get_by_text("Alice").count() >= 1


def test_every_page_passes_axe_and_fits_a_phone(workspace: Workspace, browser: Any, site: str) -> None:
    ch = workspace.obligation("ch-stop-smoking", "2025-26-Q1")
    q2 = workspace.obligation("ch-stop-smoking", "2025-26-Q2")
    for width in (1280, 390):
        anonymous = browser.new_context(viewport={"width": width, "height": 900}, base_url=site).new_page()
        for path, name in (("/sign-in", "sign-in"), ("/accessibility", "accessibility"), ("/nowhere", "not-found"),
                           (f"/sign-in/link/{'x' * 43}", "link")):
            anonymous.goto(path)
            accessible(anonymous)
            fits(anonymous)
            shoot(anonymous, name)
        anonymous.goto("/sign-in")
        anonymous.get_by_role("button", name="Send me a sign-in link").click()  # empty: the error summary
        anonymous.get_by_role("alert").wait_for()
        accessible(anonymous)
        shoot(anonymous, "sign-in-error")

        carol = sign_in_by_link(workspace, browser, site, CAROL, width)
        for path, name in (("/overview", "overview"), ("/contracts/ch-stop-smoking", "contract"),
                           (f"/returns/{ch}", "return"), ("/contracts/ch-stop-smoking/payments/2025-26", "payments"),
                           (f"/returns/{q2}", "return-late")):
            carol.goto(path)
            accessible(carol)
            fits(carol)
            shoot(carol, name)
        carol.goto(f"/returns/{ch}")
        carol.get_by_role("button", name="Send the query").click()  # no reason: refused beside the form
        carol.get_by_role("alert").wait_for()
        accessible(carol)
        shoot(carol, "return-query-error")

        alice = sign_in_by_link(workspace, browser, site, ALICE, width)
        for path, name in (("/provider", "provider"), ("/upload", "upload")):
            alice.goto(path)
            accessible(alice)
            fits(alice)
            shoot(alice, name)
        alice.get_by_label("Return file").set_input_files(
            {"name": "q2.csv", "mimeType": "text/csv", "buffer": sample_csv(seed=4 if width == 1280 else 7)})
        shoot(alice, "upload-chosen")
        alice.get_by_role("button", name="Upload and check").click()
        alice.get_by_role("heading", level=2, name="What kpibot found").wait_for()
        # The first round's file is Q2's return; the second round's finds nothing outstanding: kpibot asks which
        # return it is, in the web's words (choose it in the form), not chat's.
        assert alice.locator("h1").inner_text() == ("Return accepted" if width == 1280 else "Which return is this?")
        assert alice.get_by_text("caption or subject").count() == 0
        accessible(alice)
        fits(alice)
        shoot(alice, "uploaded" if width == 1280 else "upload-refused")


def test_the_pages_work_without_javascript(workspace: Workspace, browser: Any, site: str) -> None:
    context = browser.new_context(java_script_enabled=False, base_url=site)
    page = context.new_page()
    page.goto("/sign-in")
    page.get_by_label("Email address").fill(CAROL)
    page.get_by_role("button", name="Send me a sign-in link").click()
    assert page.get_by_role("heading", name="Check your email or Telegram").count() == 1
