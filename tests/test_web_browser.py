"""The web workspace in a real browser: Debian's headless Chromium driven by Playwright for Python, against a real
uvicorn on 127.0.0.1 serving the deployment of web_fixtures.py. A commissioner and a provider sign in by the link
the outbox carries (or, council staff, with their Entra ID account through a stand-in OpenID provider), act, and
see each other's acts (reviews, action plans, requests for information); axe-core
checks every page for WCAG 2.2 A and AA; every page fits a phone's width. Marker `browser` (`pytest -m "not
browser"` leaves them out); without Chromium they skip, except in CI (KPIBOT_REQUIRE_SERVICES=1), where that is a failure.

Set KPIBOT_SCREENSHOTS=DIR to keep a screenshot of each page at 1280 and 390 px wide in DIR.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fake_oidc import CLIENT_ID, CLIENT_SECRET, TENANT, Provider
from fake_oidc import serve as serve_oidc
from intake_fixtures import ALICE, sample_csv
from services import free_port
from sqlmodel import Session, col, select
from web_fixtures import CAROL, Workspace

from bot.plans import acts
from bot.plans import requests as asks
from bot.plans.drafts import ActionDraft
from bot.review.scene import Act
from bot.storage.models import Contact, OutboxMessage
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium, for this module's tests. Not for the session: while Playwright's sync API is open its event loop
    counts as running in this thread, so every later test of the worker that calls `asyncio.run` would fail."""
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


@cache
def _axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()  # reads axe-core's script once


def accessible(page: Any) -> None:
    """axe-core finds no WCAG 2.2 A or AA violation on the page as it stands. (Only violations are gathered: the
    passes and the rules that did not apply are not needed, and gathering them took almost a third of the sweeps.)"""
    result = _axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}, "resultTypes": ["violations"]})
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


@pytest.mark.long
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
    # click() returns once the form's navigation starts, not when the next page is there: wait for its heading
    page.get_by_role("heading", name="Check your email or Telegram").wait_for()


# -- action plans and requests for information ---------------------------------------------------------------
# A provider completes an action plan in the form, the commissioner returns it with a comment, the provider corrects
# it, the commissioner agrees it; a commissioner asks for a document and the provider answers with a PDF.

PLAN = 2  # City and Hackney's 4.4, red in its Q1 return (web_fixtures.py): a plan requested of Breathe Easy
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PLAN_REASON = "Two advisers left in May and the clinic at Homerton closed for six weeks."


def fill_action(page: Any, n: int, what: str, how: str, who: str, when: str) -> None:
    group = page.get_by_role("group", name=f"Action {n}")
    group.get_by_label("What is required").fill(what)
    group.get_by_label("How it will be achieved").fill(how)
    group.get_by_label("Who will be responsible").fill(who)
    group.get_by_label("When results will be realised").fill(when)


def test_a_plan_is_completed_returned_corrected_and_agreed_in_the_browser(
        workspace: Workspace, browser: Any, site: str) -> None:
    alice = sign_in_by_link(workspace, browser, site, ALICE)
    alice.get_by_role("link", name="Action plans").first.click()
    alice.get_by_role("region", name=re.compile("^Action plans to complete")).get_by_role(
        "link", name=f"Action plan {PLAN}: 4.4").click()
    alice.get_by_label("Reason for non-compliance").fill(PLAN_REASON)
    fill_action(alice, 1, "Recruit two advisers", "Advertise and interview in November", "", "")  # no who, no when
    alice.get_by_role("button", name="Send the plan to the council").click()
    summary = alice.get_by_role("alert")
    summary.get_by_text("Action 1 has no who will be responsible").wait_for()
    assert alice.get_by_label("Reason for non-compliance").input_value() == PLAN_REASON  # kept as typed
    summary.get_by_role("link").first.click()  # the error summary leads to the field
    alice.wait_for_function("document.activeElement.id === 'action-1-who'")
    fill_action(alice, 1, "Recruit two advisers", "Advertise and interview in November", "Service manager",
                "31 January 2026")
    alice.get_by_role("button", name="Add another action").click()  # no script: the form again, one row more
    fill_action(alice, 4, "Reopen Homerton clinic", "Move to the community centre", "Clinic lead", "1 December 2025")
    alice.get_by_role("button", name="Send the plan to the council").click()
    alice.get_by_role("status").get_by_text("Thank you").wait_for()
    assert alice.get_by_role("table").get_by_text("Reopen Homerton clinic").count() == 1

    carol = sign_in_by_link(workspace, browser, site, CAROL)
    carol.get_by_role("link", name="Action plans").first.click()
    carol.get_by_role("region", name=re.compile("^Action plans to agree or return")).get_by_role(
        "link", name=f"Action plan {PLAN}: 4.4").click()
    carol.get_by_text(PLAN_REASON).wait_for()  # she sees the provider's plan (once: wait_for is strict)
    carol.get_by_label("Return it with a comment").fill("Action 2 needs a date before the Q3 return is due.")
    carol.get_by_role("button", name=f"Return action plan {PLAN}").click()
    carol.get_by_role("status").get_by_text("Returned").wait_for()

    alice.goto(f"/plans/{PLAN}")
    assert alice.get_by_text("Action 2 needs a date before the Q3 return is due.").count() >= 1
    group = alice.get_by_role("group", name="Action 2")
    assert group.get_by_label("What is required").input_value() == "Reopen Homerton clinic"  # to correct, not retype
    group.get_by_label("When results will be realised").fill("15 November 2025")
    alice.get_by_role("button", name="Send the plan to the council").click()
    alice.get_by_role("status").get_by_text("Thank you").wait_for()

    carol.goto(f"/plans/{PLAN}")
    carol.get_by_role("button", name=f"Agree action plan {PLAN}").click()
    carol.get_by_role("status").get_by_text("Agreed").wait_for()
    assert carol.get_by_text("15 November 2025").count() == 1
    alice.goto(f"/plans/{PLAN}")
    assert alice.get_by_text("its actions are followed, each to its date").count() == 1  # she sees the agreement
    assert alice.get_by_text("Carol agreed the plan").count() == 1


def test_a_commissioner_asks_for_a_document_and_the_provider_answers_with_a_pdf(
        workspace: Workspace, browser: Any, site: str) -> None:
    carol = sign_in_by_link(workspace, browser, site, CAROL)
    carol.get_by_role("link", name="Requests").first.click()
    carol.get_by_label("Contract").select_option(label="City and Hackney Stop Smoking Service")
    carol.get_by_label("What is requested").fill("Inspection report")
    carol.get_by_label("When it is due").fill("2 working days")
    carol.get_by_role("button", name="Send the request").click()
    carol.get_by_role("status").get_by_text("Request 1 sent").wait_for()

    alice = sign_in_by_link(workspace, browser, site, ALICE)
    alice.get_by_role("link", name="Requests").first.click()
    alice.get_by_role("heading", name="Requests to answer (1)").wait_for()
    alice.get_by_label("The document that answers request 1").set_input_files(
        {"name": "inspection.pdf", "mimeType": "application/pdf", "buffer": PDF})
    alice.get_by_role("button", name="Send the document").click()
    alice.get_by_role("status").get_by_text("inspection.pdf was passed to").wait_for()

    carol.goto("/requests")
    with carol.expect_download() as download:
        carol.get_by_role("link", name="inspection.pdf").click()
    assert download.value.suggested_filename == "inspection.pdf"
    assert open(download.value.path(), "rb").read() == PDF


def _agreed_plan_and_requests(ws: Workspace) -> int:
    """Plan 1 completed in July and agreed, its first action now overdue; a request open and one answered."""
    with Session(ws.engine) as session:
        alice, carol = (session.exec(select(Contact.id).where(Contact.email == e)).one() for e in (ALICE, CAROL))
    july = datetime(2025, 7, 20, 9, tzinfo=UTC)
    settings = ws.app.settings
    acts.complete(ws.engine, settings, Act(alice or 0, "cli", july), 1, PLAN_REASON, [
        ActionDraft("Train every adviser in recording ethnicity", "Two sessions led by the data lead",
                    "Data lead", "30 September 2025"),
        ActionDraft("Outreach at the Eastern European community centre", "Monthly drop-in clinic",
                    "Outreach worker", "31 March 2026")])
    acts.agree(ws.engine, settings, Act(carol or 0, "cli", july + timedelta(days=2)), 1)
    now = Act(carol or 0, "cli", ws.clock())
    asks.ask(ws.engine, settings, now, "ch-stop-smoking", "Inspection report", "2 working days",
             "The CQC report of the September inspection")
    done = asks.ask(ws.engine, settings, now, "ch-stop-smoking", "Workforce development plan", "10 working days")
    asks.answer(ws.engine, settings, ws.app.files, Act(alice or 0, "cli", ws.clock()), done.review_id or 0,
                "workforce-plan-2025.pdf", PDF, "As agreed at the July meeting")
    return 1


def test_the_plan_and_request_pages_pass_axe_and_fit_a_phone(workspace: Workspace, browser: Any, site: str) -> None:
    agreed = _agreed_plan_and_requests(workspace)
    for width in (1280, 390):
        alice = sign_in_by_link(workspace, browser, site, ALICE, width)
        for path, name in (("/plans", "plans-provider"), (f"/plans/{PLAN}", "plan-complete"),
                           (f"/plans/{agreed}", "plan-agreed"), ("/requests", "requests-provider")):
            alice.goto(path)
            accessible(alice)
            fits(alice)
            shoot(alice, name)
        alice.goto(f"/plans/{PLAN}")
        fill_action(alice, 1, "Recruit two advisers", "", "Service manager", "31 Febtember")
        alice.get_by_role("button", name="Send the plan to the council").click()
        alice.get_by_role("alert").wait_for()
        accessible(alice)
        fits(alice)
        shoot(alice, "plan-complete-error")

        carol = sign_in_by_link(workspace, browser, site, CAROL, width)
        for path, name in (("/overview", "overview"), ("/plans", "plans-council"), (f"/plans/{PLAN}", "plan-council"),
                           (f"/plans/{agreed}", "plan-agreed-council"), ("/requests", "requests-council")):
            carol.goto(path)
            accessible(carol)
            fits(carol)
            shoot(carol, name)
        carol.get_by_role("button", name="Send the request").click()  # nothing filled in: the error summary
        carol.get_by_role("alert").wait_for()
        accessible(carol)
        fits(carol)
        shoot(carol, "requests-council-error")


@pytest.fixture
def entra(workspace: Workspace) -> Iterator[Provider]:
    """Sign-in with Entra ID set up against the stand-in OpenID provider (tests/fake_oidc.py); ask for it before
    `site`, which serves the settings as they are then."""
    for provider in serve_oidc():
        s = workspace.app.settings
        workspace.app.settings = s.model_copy(update={
            "web": s.web.model_copy(update={"oidc_tenant": TENANT, "oidc_client_id": CLIENT_ID,
                                            "oidc_metadata_url": provider.metadata_url}),
            "web_oidc_client_secret": CLIENT_SECRET})
        yield provider


def test_signing_in_with_the_council_account_in_the_browser(entra: Provider, workspace: Workspace, browser: Any,
                                                            site: str) -> None:
    """Chromium follows the real redirects to the provider and back: a registered commissioner lands on the
    overview, an unknown account on a plain page; both pages pass axe and fit a phone."""
    for width in (1280, 390):
        page = browser.new_context(viewport={"width": width, "height": 900}, base_url=site).new_page()
        page.goto("/sign-in")
        accessible(page)
        fits(page)
        shoot(page, f"entra-sign-in-{width}")
        entra.sign_in_as("nobody@example-council.example")
        page.get_by_role("button", name="Sign in with your council account").click()
        page.get_by_role("heading", name="You are not signed in").wait_for()
        assert "is not registered with kpibot" in page.content()
        accessible(page)
        fits(page)
        shoot(page, f"entra-refused-{width}")
        entra.sign_in_as(CAROL)
        page.goto("/sign-in")
        page.get_by_role("button", name="Sign in with your council account").click()
        page.get_by_role("heading", name="Overview").wait_for()
        page.context.close()
