"""Action plans and requests for information in a real browser (Debian's headless Chromium, Playwright, a real
uvicorn: test_web_browser.py's fixtures). A provider completes an action plan in the form, the commissioner returns
it with a comment, the provider corrects it, the commissioner agrees it; a commissioner asks for a document and the
provider answers with a PDF, which the commissioner downloads. Every new page passes axe-core (WCAG 2.2 A and AA)
and fits a phone. Marker `browser`. KPIBOT_SCREENSHOTS=DIR keeps each page at 1280 and 390 px wide."""

from __future__ import annotations

import re
from typing import Any

import pytest
import test_web_browser as shared
from intake_fixtures import ALICE
from web_fixtures import CAROL, Workspace

pytestmark = pytest.mark.browser
browser, site, database_url = shared.browser, shared.site, shared.database_url  # the same fixtures
accessible, fits, shoot, sign_in_by_link = shared.accessible, shared.fits, shared.shoot, shared.sign_in_by_link
PLAN = 2  # City and Hackney's 4.4, red in its Q1 return (web_fixtures.py): a plan requested of Breathe Easy
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
REASON = "Two advisers left in May and the clinic at Homerton closed for six weeks."


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
    alice.get_by_label("Reason for non-compliance").fill(REASON)
    fill_action(alice, 1, "Recruit two advisers", "Advertise and interview in November", "", "")  # no who, no when
    alice.get_by_role("button", name="Send the plan to the council").click()
    summary = alice.get_by_role("alert")
    summary.get_by_text("Action 1 has no who will be responsible").wait_for()
    assert alice.get_by_label("Reason for non-compliance").input_value() == REASON  # kept as typed
    summary.get_by_role("link").first.click()  # the error summary leads to the field
    assert alice.evaluate("document.activeElement.id") == "action-1-who"
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
    assert carol.get_by_text(REASON).count() == 1  # she sees the provider's plan
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


def test_the_plan_and_request_pages_pass_axe_and_fit_a_phone(workspace: Workspace, browser: Any, site: str) -> None:
    for width in (1280, 390):
        alice = sign_in_by_link(workspace, browser, site, ALICE, width)
        for path, name in (("/plans", "plans-provider"), (f"/plans/{PLAN}", "plan-complete"),
                           ("/requests", "requests-provider")):
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
                           ("/requests", "requests-council")):
            carol.goto(path)
            accessible(carol)
            fits(carol)
            shoot(carol, name)
        carol.get_by_role("button", name="Send the request").click()  # nothing filled in: the error summary
        carol.get_by_role("alert").wait_for()
        accessible(carol)
        fits(carol)
        shoot(carol, "requests-council-error")
