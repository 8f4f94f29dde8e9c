"""The council's review in the web workspace, over HTTP in-process: each form calls bot/review (the functions the
command line and chat call), shows only what the table allows the person, refuses in those functions' words, and
never acts for another provider's person or without the form's token. (People and returns: web_fixtures.py.)"""

from __future__ import annotations

import re

from intake_fixtures import ALICE, DAVE, sample_csv
from sqlmodel import Session, col, select
from web_fixtures import BOB, CAROL, Workspace, csrf, sign_in

from bot.storage.models import OutboxMessage
from bot.storage.review_models import PaymentConfirmation, Review, ReviewEvent, ReviewQuery

Q1 = ("ch-stop-smoking", "2025-26-Q1")
REASON = "1.1 looks far above the count of quit dates set last quarter"


def signed_in(ws: Workspace, email: str):  # noqa: ANN201 (a TestClient)
    client = ws.client()
    sign_in(ws, client, email)
    return client


def form(page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to `action` on `page`."""
    found = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
    assert found, f"no form for {action}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', found.group(1)))


def review(ws: Workspace, obligation_id: int) -> Review:
    with Session(ws.engine) as session:
        return session.exec(select(Review).where(Review.obligation_id == obligation_id)).one()


def test_a_commissioner_queries_with_a_reason_the_provider_answers_and_the_commissioner_signs_off(
        workspace: Workspace) -> None:
    ch = workspace.obligation(*Q1)
    carol = signed_in(workspace, CAROL)
    page = carol.get(f"/returns/{ch}").text
    assert "Sign off version 2" in page and "Send the query" in page and "Answer the query" not in page
    fields = form(page, f"/returns/{ch}/query")
    empty = carol.post(f"/returns/{ch}/query", data={**fields, "text": ""})
    assert empty.status_code == 400 and "A query needs a reason" in empty.text
    assert 'href="#reason"' in empty.text  # the error summary leads to the field
    asked = carol.post(f"/returns/{ch}/query", data={**fields, "text": REASON})
    assert asked.status_code == 303 and asked.headers["location"] == f"/returns/{ch}#review"
    after = carol.get(f"/returns/{ch}").text
    assert "Query sent about City and Hackney Stop Smoking Service" in after  # the outcome bot/review gave
    assert "Sign off version 2" in after and "Send the query" not in after  # the table: queried, not again
    assert review(workspace, ch).state == "queried"

    overview = carol.get("/overview").text
    assert "Open queries (1)" in overview and REASON in overview

    alice = signed_in(workspace, ALICE)
    provider = alice.get("/provider").text
    assert "Queries to answer (1)" in provider and REASON in provider
    page = alice.get(f"/returns/{ch}").text
    assert REASON in page and "Answer the query" in page and "Sign off" not in page
    answered = alice.post(f"/returns/{ch}/answer", data={**form(page, f"/returns/{ch}/answer"),
                                                         "text": "The clinic ran two extra sessions in June."})
    assert answered.status_code == 303
    assert "was passed to Carol" in alice.get(f"/returns/{ch}").text
    assert review(workspace, ch).state == "answered"

    page = carol.get(f"/returns/{ch}").text
    assert "The clinic ran two extra sessions in June." in page  # each sees the other's act
    assert "Waiting for review (2)" in carol.get("/overview").text  # the answer, and Solihull's Q1
    signed = carol.post(f"/returns/{ch}/sign-off", data=form(page, f"/returns/{ch}/sign-off"))
    assert signed.status_code == 303
    assert review(workspace, ch).state == "signed_off"
    history = alice.get(f"/returns/{ch}").text
    assert "Carol" in history and "signed it off (version 2) in the workspace" in history
    with Session(workspace.engine) as session:
        events = session.exec(select(ReviewEvent).where(col(ReviewEvent.action).in_(("query", "answer",
                                                                                       "sign_off")))).all()
        told = session.exec(select(OutboxMessage).where(OutboxMessage.address == ALICE,
                                                        col(OutboxMessage.kind).like("review%"))).all()
    assert [(e.action, e.channel) for e in events] == [("query", "web"), ("answer", "web"), ("sign_off", "web")]
    assert told  # the provider was told through the outbox, as from any channel


def test_each_person_is_offered_and_allowed_only_their_part(workspace: Workspace) -> None:
    ch = workspace.obligation(*Q1)
    carol = signed_in(workspace, CAROL)
    fields = form(carol.get(f"/returns/{ch}").text, f"/returns/{ch}/sign-off")
    for who, status in ((ALICE, 403), (DAVE, 403), (BOB, 403)):  # no provider signs off, theirs or another's
        client = signed_in(workspace, who)
        answer = client.post(f"/returns/{ch}/sign-off", data={**fields, "csrftoken": csrf(client)})
        assert answer.status_code == status, who
    bob = signed_in(workspace, BOB)
    token = csrf(bob)
    for path in (f"/returns/{ch}/answer", "/returns/999999/answer", "/returns/x/answer"):
        refused = bob.post(path, data={"csrftoken": token, "text": "not mine to answer"})
        assert refused.status_code == 404, path  # another provider's return reads as one that does not exist
        assert "City and Hackney" not in refused.text
    assert review(workspace, ch).state == "waiting"
    alice = signed_in(workspace, ALICE)
    nothing = alice.post(f"/returns/{ch}/answer", data={"csrftoken": csrf(alice), "text": "An answer"})
    assert nothing.status_code == 400 and "No query on this return is waiting for an answer" in nothing.text


def test_a_review_form_without_its_token_changes_nothing(workspace: Workspace) -> None:
    ch = workspace.obligation(*Q1)
    carol = signed_in(workspace, CAROL)
    fields = form(carol.get(f"/returns/{ch}").text, f"/returns/{ch}/sign-off")
    for data in ({k: v for k, v in fields.items() if k != "csrftoken"}, {**fields, "csrftoken": "forged"}):
        assert carol.post(f"/returns/{ch}/sign-off", data=data).status_code == 403
    stranger = workspace.client()  # a page elsewhere posting with Carol's session but not her token
    stranger.cookies.set("kpibot_session", carol.cookies.get("kpibot_session") or "")
    assert stranger.post(f"/returns/{ch}/sign-off", data={"submission": fields["submission"]}).status_code == 403
    assert review(workspace, ch).state == "waiting"


def test_a_form_sent_twice_is_one_act_and_a_replaced_version_is_refused(workspace: Workspace) -> None:
    ch = workspace.obligation(*Q1)
    carol = signed_in(workspace, CAROL)
    fields = form(carol.get(f"/returns/{ch}?version=2").text, f"/returns/{ch}/sign-off")
    with Session(workspace.engine) as session:
        old = session.exec(select(ReviewEvent).where(ReviewEvent.action == "open")).first()
    assert old is not None
    stale = carol.post(f"/returns/{ch}/sign-off", data={**fields, "submission": str(old.submission_id),
                                                        "key": "other"})
    assert stale.status_code == 400 and "was replaced by version 2" in stale.text
    assert carol.post(f"/returns/{ch}/sign-off", data=fields).status_code == 303
    carol.get(f"/returns/{ch}")  # shows the outcome once
    again = carol.post(f"/returns/{ch}/sign-off", data=fields)
    assert again.status_code == 303 and "Already recorded" in carol.get(f"/returns/{ch}").text
    with Session(workspace.engine) as session:
        assert len(session.exec(select(ReviewEvent).where(ReviewEvent.action == "sign_off")).all()) == 1


def test_a_corrected_upload_answers_the_query_and_is_reviewed_again(workspace: Workspace) -> None:
    ch = workspace.obligation(*Q1)
    carol = signed_in(workspace, CAROL)
    page = carol.get(f"/returns/{ch}").text
    carol.post(f"/returns/{ch}/query", data={**form(page, f"/returns/{ch}/query"), "text": REASON})
    alice = signed_in(workspace, ALICE)
    sent = alice.post("/upload", data={"csrftoken": csrf(alice, "/upload"), "return": str(ch)},
                      files={"file": ("q1-fixed.csv", sample_csv(seed=6, level=0.9), "text/csv")})
    assert sent.status_code == 200 and "Return accepted" in sent.text
    now = review(workspace, ch)
    assert (now.state, now.version) == ("waiting", 3)
    with Session(workspace.engine) as session:
        assert session.exec(select(ReviewQuery)).one().state == "corrected"
    assert "Sign off version 3" in carol.get(f"/returns/{ch}").text


def test_the_years_payments_are_shown_and_confirmed_only_when_the_rules_allow(workspace: Workspace) -> None:
    path = "/contracts/ch-stop-smoking/payments/2025-26"
    carol = signed_in(workspace, CAROL)
    page = carol.get(path)
    assert page.status_code == 200 and "payments for 2025-26" in page.text
    assert "Not ready to confirm" in page.text and "Confirm the payments" not in page.text
    refused = carol.post(path, data={"csrftoken": csrf(carol, path)})
    assert refused.status_code == 400 and "Not confirmed" in refused.text
    alice = signed_in(workspace, ALICE)
    assert alice.get(path).status_code == 200  # the provider sees how its payments stand
    assert alice.post(path, data={"csrftoken": csrf(alice, path)}).status_code == 403
    bob = signed_in(workspace, BOB)
    assert bob.get(path).status_code == 404
    assert bob.post(path, data={"csrftoken": csrf(bob)}).status_code == 403  # as for any provider: not theirs to do
    with Session(workspace.engine) as session:
        assert not session.exec(select(PaymentConfirmation)).all()
