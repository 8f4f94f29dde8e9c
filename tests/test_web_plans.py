"""Action plans and requests for information in the web workspace, over HTTP in-process, on SQLite and PostgreSQL.
Each form calls bot/plans (the functions the command line and chat call) and refuses in their words beside the
field, keeping what was typed; every route answers each person as bot/authz allows: another provider's plan or
request and one that does not exist give the same 404, another council's commissioner sees none of them, and a
POST without the form's token is refused. (People and returns: web_fixtures.py; Erin commissions for another
council: review_fixtures.py.)"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from intake_fixtures import ALICE, DAVE, sample_csv
from review_fixtures import ERIN, review_deployment
from sqlmodel import Session, col, select
from web_fixtures import BOB, CAROL, Workspace, csrf, sign_in

from bot import config
from bot.plans import requests as asks
from bot.review.scene import Act
from bot.storage.models import Contact, OutboxMessage, StoredFile, Submission
from bot.storage.plan_models import ActionPlan, InfoRequest, PlanAction, PlanEvent

PEOPLE = {"alice": ALICE, "dave": DAVE, "bob": BOB, "carol": CAROL, "erin": ERIN}
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
REASON = "Two advisers left in May and the Homerton clinic closed for six weeks."
ACTION = {"action-1-what": "Recruit two advisers", "action-1-how": "Advertise and interview in November",
          "action-1-who": "Service manager", "action-1-when": "31 January 2026"}


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> config.Settings:
    """web_fixtures.py's deployment with another council and its commissioner, Erin."""
    return review_deployment(tmp_path, database_url)


def person(ws: Workspace, who: str):  # noqa: ANN201 (a TestClient)
    client = ws.client()
    if who != "anon":
        sign_in(ws, client, PEOPLE[who])
    return client


def plan_of(ws: Workspace, contract_id: str) -> int:
    with Session(ws.engine) as session:
        found = session.exec(select(ActionPlan.id).where(ActionPlan.contract_id == contract_id)
                             .order_by(col(ActionPlan.id).desc())).first()
        assert found is not None
        return found


def stored(ws: Workspace, plan_id: int) -> ActionPlan:
    with Session(ws.engine) as session:
        found = session.get(ActionPlan, plan_id)
        assert found is not None
        session.expunge(found)
        return found


def contact_id(ws: Workspace, email: str) -> int:
    with Session(ws.engine) as session:
        found = session.exec(select(Contact.id).where(Contact.email == email)).one()
        assert found is not None
        return found


def ask(ws: Workspace, what: str = "CQC inspection report", contract: str = "ch-stop-smoking") -> int:
    outcome = asks.ask(ws.engine, ws.app.settings, Act(contact_id(ws, CAROL), "cli", ws.clock()), contract, what,
                       "2 working days")
    assert outcome.review_id is not None
    return outcome.review_id


def answered(ws: Workspace) -> int:
    """A request Alice has answered with a PDF."""
    request_id = ask(ws, "Workforce development plan")
    asks.answer(ws.engine, ws.app.settings, ws.app.files, Act(contact_id(ws, ALICE), "cli", ws.clock()), request_id,
                "workforce.pdf", PDF)
    return request_id


def errors(page: str) -> list[str]:
    """The error summary's lines."""
    return [re.sub(r"&#39;", "'", m) for m in re.findall(r'<li><a href="#[^"]+">([^<]+)</a></li>', page)]


# -- every route, every person -----------------------------------------------------------------------------------

def test_every_plan_and_request_page_answers_each_person_as_their_role_allows(workspace: Workspace) -> None:
    ch, sol, done, open_ = plan_of(workspace, "ch-stop-smoking"), plan_of(workspace, "solihull-stop-smoking"), \
        answered(workspace), ask(workspace)
    routes = [
        ("/plans", {"anon": 303, "alice": 200, "bob": 200, "carol": 200, "erin": 200}),
        (f"/plans/{ch}", {"anon": 303, "alice": 200, "dave": 200, "bob": 404, "carol": 200, "erin": 404}),
        (f"/plans/{sol}", {"alice": 404, "dave": 200, "bob": 404, "carol": 200, "erin": 404}),
        ("/plans/999999", {"alice": 404, "bob": 404, "carol": 404, "erin": 404}),
        ("/plans/99999999999999999999", {"alice": 404, "carol": 404}),
        ("/plans/not-a-number", {"alice": 404, "carol": 404}),
        ("/requests", {"anon": 303, "alice": 200, "bob": 200, "carol": 200, "erin": 200}),
        (f"/requests/{done}/answer-file", {"anon": 303, "alice": 200, "bob": 404, "carol": 200, "erin": 404}),
        (f"/requests/{open_}/answer-file", {"alice": 404, "carol": 404}),
        ("/requests/999999/answer-file", {"alice": 404, "bob": 404, "carol": 404, "erin": 404}),
    ]
    clients = {who: person(workspace, who) for who in PEOPLE | {"anon": ""}}
    for path, expected in routes:
        for who, status in expected.items():
            answer = clients[who].get(path)
            assert answer.status_code == status, (who, path, answer.text[:300])
            assert "Traceback" not in answer.text
    # Another provider's plan and request read exactly like ones that do not exist.
    assert clients["bob"].get(f"/plans/{ch}").text == clients["bob"].get("/plans/999999").text
    assert clients["bob"].get(f"/requests/{done}/answer-file").text == \
        clients["bob"].get("/requests/999999/answer-file").text
    # Lists never name another provider's or council's plans and requests.
    for who in ("bob", "erin"):
        page = clients[who].get("/plans").text + clients[who].get("/requests").text
        assert "City and Hackney Stop" not in page and "CQC inspection" not in page and "Solihull" not in page
        assert "Workforce development plan" not in page
    alice = clients["alice"].get("/plans").text
    assert "Solihull" not in alice and f"/plans/{ch}" in alice


def test_every_form_answers_each_person_as_their_role_allows(workspace: Workspace) -> None:
    """Who may post each form (403: a form their role has no use for; 404: not theirs, or not there)."""
    ch, request_id = plan_of(workspace, "ch-stop-smoking"), ask(workspace)
    forms = [
        (f"/plans/{ch}/complete", {"bob": 404, "carol": 403, "erin": 403, "anon": 403}),
        (f"/plans/{ch}/agree", {"alice": 403, "bob": 403, "erin": 404, "anon": 403}),
        (f"/plans/{ch}/return", {"alice": 403, "erin": 404}),
        (f"/plans/{ch}/close", {"alice": 403, "dave": 403, "erin": 404}),
        ("/plans/999999/complete", {"alice": 404, "bob": 404}),
        ("/plans/999999/agree", {"carol": 404, "erin": 404}),
        (f"/requests/{request_id}/answer", {"bob": 404, "carol": 403, "erin": 403}),
        ("/requests/999999/answer", {"alice": 404, "bob": 404}),
        ("/requests", {"alice": 403, "bob": 403}),
    ]
    clients = {who: person(workspace, who) for who in PEOPLE | {"anon": ""}}
    for path, expected in forms:
        for who, status in expected.items():
            token = csrf(clients[who], "/sign-in" if who == "anon" else "/requests")
            answer = clients[who].post(path, data={"csrftoken": token, "text": "A comment long enough to count.",
                                                   "reason": REASON, **ACTION},
                                       files={"file": ("report.pdf", PDF, "application/pdf")}
                                       if path.endswith("/answer") else None)
            assert answer.status_code == status, (who, path, answer.text[:300])
            assert "Traceback" not in answer.text
    erin = clients["erin"]
    refused = erin.post("/requests", data={"csrftoken": csrf(erin, "/requests"), "contract": "ch-stop-smoking",
                                           "what": "Inspection report", "due": "2 working days"})
    assert refused.status_code == 404  # another council's contract reads as one that does not exist
    assert stored(workspace, ch).state == "requested"  # nobody above moved the plan
    with Session(workspace.engine) as session:
        assert session.get(InfoRequest, request_id).state == "open"  # type: ignore[union-attr]
        assert len(session.exec(select(InfoRequest)).all()) == 1


def test_a_post_without_the_form_token_is_refused_and_changes_nothing(workspace: Workspace) -> None:
    ch, request_id = plan_of(workspace, "ch-stop-smoking"), ask(workspace)
    alice, carol = person(workspace, "alice"), person(workspace, "carol")
    for client, path in ((alice, f"/plans/{ch}/complete"), (carol, f"/plans/{ch}/agree"),
                         (carol, f"/plans/{ch}/return"), (carol, f"/plans/{ch}/close"), (carol, "/requests"),
                         (alice, f"/requests/{request_id}/answer")):
        answer = client.post(path, data={"reason": REASON, "text": "A comment long enough to count.",
                                         "contract": "ch-stop-smoking", "what": "Survey", "due": "5 working days",
                                         **ACTION})
        assert answer.status_code == 403 and "could not be sent" in answer.text, path
        forged = client.post(path, data={"csrftoken": "forged", "reason": REASON, **ACTION})
        assert forged.status_code == 403, path
    assert stored(workspace, ch).state == "requested"
    with Session(workspace.engine) as session:
        assert len(session.exec(select(InfoRequest)).all()) == 1


# -- action plans --------------------------------------------------------------------------------------------------

def test_a_plan_with_mistakes_is_answered_beside_each_field_keeps_what_was_typed_and_saves_nothing(
        workspace: Workspace) -> None:
    ch = plan_of(workspace, "ch-stop-smoking")
    alice = person(workspace, "alice")
    token = csrf(alice, f"/plans/{ch}")
    answer = alice.post(f"/plans/{ch}/complete", data={
        "csrftoken": token, "rows": "3", "reason": REASON,
        "action-1-what": "Recruit two advisers", "action-1-how": "Advertise", "action-1-when": "31 January 2026",
        "action-3-what": "Reopen Homerton", "action-3-how": "Move rooms", "action-3-who": "Clinic lead",
        "action-3-when": "the thirty-first of Febtember"})
    assert answer.status_code == 400 and "<title>Error:" in answer.text
    assert errors(answer.text) == [
        "Action 1 has no who will be responsible.",
        "Action 2: 'the thirty-first of Febtember' is not a date; write when results will be realised as a date, "
        "for example 31 March 2026."]
    assert 'href="#action-1-who"' in answer.text and 'href="#action-2-when"' in answer.text
    assert 'id="action-1-who"' in answer.text and 'id="action-2-when"' in answer.text  # the links lead somewhere
    assert REASON in answer.text and 'value="the thirty-first of Febtember"' in answer.text  # kept as typed
    assert answer.text.count("<fieldset") == 3  # the blank row was moved last: rows match the mistakes' numbers
    plan = stored(workspace, ch)
    assert plan.state == "requested" and plan.revision == 0
    with Session(workspace.engine) as session:
        assert not session.exec(select(PlanAction).where(PlanAction.plan_id == ch)).all()

    more = alice.post(f"/plans/{ch}/complete", data={"csrftoken": token, "rows": "3", "reason": REASON, **ACTION,
                                                     "more": "1"})
    assert more.status_code == 200 and more.text.count("<fieldset") == 4 and not errors(more.text)
    assert 'value="Service manager"' in more.text and stored(workspace, ch).state == "requested"


def test_a_plan_is_completed_returned_with_a_comment_corrected_and_agreed(workspace: Workspace) -> None:
    ch = plan_of(workspace, "ch-stop-smoking")
    alice, carol = person(workspace, "alice"), person(workspace, "carol")
    page = alice.get(f"/plans/{ch}").text
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"csrftoken": csrf(alice, f"/plans/{ch}"), "key": key, "rows": "3", "reason": REASON, **ACTION}
    sent = alice.post(f"/plans/{ch}/complete", data=form)
    assert sent.status_code == 303 and sent.headers["location"] == f"/plans/{ch}"
    shown = alice.get(f"/plans/{ch}").text
    assert "Thank you" in shown and "Recruit two advisers" in shown
    assert alice.post(f"/plans/{ch}/complete", data=form).status_code == 303  # sent twice: one act
    assert "Already recorded" in alice.get(f"/plans/{ch}").text
    with Session(workspace.engine) as session:
        assert len(session.exec(select(PlanEvent).where(PlanEvent.plan_id == ch,
                                                        PlanEvent.action == "complete")).all()) == 1
        told = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "plan",
                                                        OutboxMessage.address == CAROL)).all()
        assert len(told) == 1 and REASON in told[0].body_text  # the council is told, once

    page = carol.get(f"/plans/{ch}").text
    assert REASON in page and "Agree action plan" in page and "Return action plan" in page
    token = csrf(carol, f"/plans/{ch}")
    short = carol.post(f"/plans/{ch}/return", data={"csrftoken": token, "text": "No."})
    assert short.status_code == 400 and "Say what the provider should change" in short.text
    assert 'id="comment"' in short.text and ">No.</textarea>" in short.text
    comment = "Action 1 needs a date before the Q3 return is due."
    assert carol.post(f"/plans/{ch}/return", data={"csrftoken": token, "text": comment}).status_code == 303
    assert stored(workspace, ch).state == "returned"

    page = alice.get(f"/plans/{ch}").text
    assert comment in page and "Correct the plan and send it again" in page
    assert '>Recruit two advisers</textarea>' in page  # the plan as it stands, to correct rather than retype
    again = {**form, "key": "second", "action-1-when": "15 December 2025"}
    assert alice.post(f"/plans/{ch}/complete", data=again).status_code == 303
    assert carol.post(f"/plans/{ch}/agree", data={"csrftoken": token}).status_code == 303
    plan = stored(workspace, ch)
    assert plan.state == "agreed" and plan.revision == 2
    page = alice.get(f"/plans/{ch}").text
    assert "15 December 2025" in page and "Carol agreed the plan" in page and "Carol returned the plan" in page
    refused = alice.post(f"/plans/{ch}/complete", data={**form, "key": "third"})
    assert refused.status_code == 400 and "The plan is agreed" in refused.text  # acts.py's words
    assert 'href="#actions"' in refused.text and 'id="actions"' in refused.text  # the summary leads somewhere
    late = carol.post(f"/plans/{ch}/agree", data={"csrftoken": token})  # agreed already: the form is gone
    assert late.status_code == 400 and "already agreed" in late.text and 'href="#actions"' in late.text

    workspace.clock.advance(days=60)  # 19 December: action 1's date has passed
    carol = person(workspace, "carol")  # signed in again: the old session ended while idle
    token = csrf(carol, f"/plans/{ch}")
    overview = carol.get("/overview").text
    assert f"/plans/{ch}" in overview and "1 action overdue: Recruit two advisers (Service manager)" in overview
    page = carol.get(f"/plans/{ch}").text
    assert 'Overdue</strong>' in page and "■" in page  # by word and shape, not colour alone
    closed = carol.post(f"/plans/{ch}/close", data={"csrftoken": token, "text": "All actions done; target met."})
    assert closed.status_code == 303 and stored(workspace, ch).state == "closed"


def test_the_return_page_shows_its_plans_with_the_forms_each_person_may_use(workspace: Workspace) -> None:
    ch = plan_of(workspace, "ch-stop-smoking")
    q1 = workspace.obligation("ch-stop-smoking", "2025-26-Q1")
    carol, alice = person(workspace, "carol").get(f"/returns/{q1}").text, person(workspace, "alice").get(
        f"/returns/{q1}").text
    assert f'id="plan-{ch}"' in carol and f'action="/plans/{ch}/close"' in carol
    assert f'id="note-{ch}"' in carol  # each plan's fields have ids of their own
    assert f'href="/plans/{ch}#complete"' in alice and f'action="/plans/{ch}/close"' not in alice


# -- requests for information ------------------------------------------------------------------------------------

def test_a_commissioner_asks_and_mistakes_are_answered_beside_the_fields(workspace: Workspace) -> None:
    carol = person(workspace, "carol")
    token = csrf(carol, "/requests")
    wrong = carol.post("/requests", data={"csrftoken": token, "contract": "", "what": "", "due": "soonish"})
    assert wrong.status_code == 400
    assert errors(wrong.text) == [
        "Choose the contract the request is for", "Say what is requested, for example Inspection report",
        "'soonish' is not a deadline: write a number of working days ('2 working days') or a date "
        "('30 April 2026')."]
    assert 'value="soonish"' in wrong.text
    sent = carol.post("/requests", data={"csrftoken": token, "contract": "ch-stop-smoking", "detail": "The CQC one",
                                         "what": "Inspection report", "due": "2 working days"})
    assert sent.status_code == 303
    page = carol.get("/requests").text
    assert "Request 1 sent" in page and "Inspection report" in page and "22 October 2025" in page
    with Session(workspace.engine) as session:
        told = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "plan")).all()
        assert sorted(m.address for m in told if "Inspection report" in m.body_text) == [ALICE, DAVE]
    alice = person(workspace, "alice")
    assert "Inspection report" in alice.get("/requests").text
    home = alice.get("/provider").text  # what waits for her, on her home page
    assert '1 request for information to answer' in home and 'action plans to complete</a>' in home
    assert "Inspection report" in carol.get("/overview").text  # outstanding, beside the grid


def _docm() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/vbaProject.bin", b"\x00" * 64)
    return buffer.getvalue()


def test_a_provider_answers_with_a_document_and_a_hostile_or_oversized_one_is_refused_clearly(
        workspace: Workspace) -> None:
    request_id = ask(workspace)
    alice, carol = person(workspace, "alice"), person(workspace, "carol")
    token = csrf(alice, "/requests")
    cap = workspace.app.settings.intake.max_upload_bytes
    with Session(workspace.engine) as session:
        files_before = len(session.exec(select(StoredFile)).all())
    for name, data, says in (("report.exe", b"MZ\x90\x00", "is a program, not a document"),
                             ("report.docx", _docm(), "contains macros"),
                             ("report.pdf", b"%PDF-" + b"0" * cap, "over the 10 MB limit")):
        refused = alice.post(f"/requests/{request_id}/answer", data={"csrftoken": token, "note": "As asked"},
                             files={"file": (name, data, "application/octet-stream")})
        assert refused.status_code == 400 and says in refused.text, name
        assert f'href="#file-{request_id}"' in refused.text and "The request stays open" in refused.text
        assert ">As asked</textarea>" in refused.text
    huge = alice.post(f"/requests/{request_id}/answer", data={"csrftoken": token},
                      files={"file": ("big.pdf", b"%PDF-" + b"0" * (cap + 100_000), "application/pdf")})
    assert huge.status_code == 413 and "documents of up to 10 MB" in huge.text and "return" not in huge.text.split(
        "<main")[1].split("request stays open")[0]
    none = alice.post(f"/requests/{request_id}/answer", data={"csrftoken": token})
    assert none.status_code == 400 and "Choose the document to send" in none.text
    with Session(workspace.engine) as session:
        assert len(session.exec(select(StoredFile)).all()) == files_before  # nothing of the refused files kept
        assert session.get(InfoRequest, request_id).state == "open"  # type: ignore[union-attr]

    sent = alice.post(f"/requests/{request_id}/answer", data={"csrftoken": token, "note": "The CQC report"},
                      files={"file": ("inspection.pdf", PDF, "application/pdf")})
    assert sent.status_code == 303
    assert "inspection.pdf was passed to" in alice.get("/requests").text
    page = carol.get("/requests").text
    assert f'href="/requests/{request_id}/answer-file"' in page and "On time" in page and "The CQC report" in page
    download = carol.get(f"/requests/{request_id}/answer-file")
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith('attachment; filename="inspection.pdf"')
    with Session(workspace.engine) as session:  # never read as a return
        assert not session.exec(select(Submission).where(Submission.filename == "inspection.pdf")).all()
    again = alice.post(f"/requests/{request_id}/answer", data={"csrftoken": token},
                       files={"file": ("inspection.pdf", PDF, "application/pdf")})
    assert again.status_code == 400 and "nothing more is asked" in again.text


# -- the upload's own words ---------------------------------------------------------------------------------------

def test_a_return_uploaded_without_saying_which_is_asked_about_in_the_webs_words(workspace: Workspace) -> None:
    dave = person(workspace, "dave")  # two contracts: kpibot cannot tell which this file is for
    answer = dave.post("/upload", data={"csrftoken": csrf(dave, "/upload")},
                       files={"file": ("return.csv", sample_csv(seed=8), "text/csv")})
    assert answer.status_code == 200 and "Which return is this?" in answer.text
    assert "choose the return it is for in the form" in answer.text
    assert "caption" not in answer.text and "subject" not in answer.text


def test_an_action_plan_workbook_uploaded_on_the_web_completes_its_plan(workspace: Workspace) -> None:
    """The web upload is the one intake: the action-plan workbook kpibot made is recognised there too, completes its
    plan, and the page says so in its own words (not "Return not accepted")."""
    from test_plan_workbook import REASON as WORKBOOK_REASON
    from test_plan_workbook import filled

    from bot.plans.workbook import workbook

    plan_id = plan_of(workspace, "ch-stop-smoking")
    with Session(workspace.engine) as session:
        alice = session.exec(select(Contact).where(Contact.email == ALICE)).one()
        name, data = workbook(session, alice, plan_id, workspace.clock().date())
    client = person(workspace, "alice")
    page = client.post("/upload", data={"csrftoken": csrf(client, "/upload")},
                       files={"file": (name, filled(data), "application/vnd.ms-excel")})
    assert page.status_code == 200 and "<h1 class=\"heading-l\">Action plan sent to the council</h1>" in page.text
    assert "<title>Action plan sent to the council" in page.text and "Return not accepted" not in page.text
    plan = stored(workspace, plan_id)
    assert (plan.state, plan.reason) == ("submitted", WORKBOOK_REASON)


def test_a_request_form_sent_twice_makes_one_request(workspace: Workspace) -> None:
    """A double click, or the browser sending the form again: the form's key makes it one request, one message."""
    carol = person(workspace, "carol")
    page = carol.get("/requests").text
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key, "the request form carries its own key"
    form = {"csrftoken": csrf(carol, "/requests"), "key": key.group(1), "contract": "ch-stop-smoking",
            "what": "Inspection report", "due": "2 working days"}
    assert carol.post("/requests", data=form).status_code == 303
    again = carol.post("/requests", data=form)
    assert again.status_code == 303 and "Request 1 was already sent" in carol.get("/requests").text
    with Session(workspace.engine) as session:
        assert len(session.exec(select(InfoRequest)).all()) == 1
        told = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "plan")).all()
        assert sorted(m.address for m in told if "Inspection report" in m.body_text) == [ALICE, DAVE]
    fresh = {**form, "key": re.findall(r'name="key" value="([^"]+)"', carol.get("/requests").text)[0]}
    assert fresh["key"] != form["key"] and carol.post("/requests", data=fresh).status_code == 303
    with Session(workspace.engine) as session:  # a new form is a new request, even for the same document
        assert len(session.exec(select(InfoRequest)).all()) == 2
