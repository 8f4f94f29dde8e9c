"""The web workspace over HTTP, in-process: every route for every person, sign-in links, sessions, CSRF, uploads
through the one intake, the CSV feed, and never a traceback page. (In a real browser: test_web_browser.py.)"""

from __future__ import annotations

import io
import zipfile
from unittest import mock

from intake_fixtures import ALICE, sample_csv
from sqlmodel import Session, col, select
from web_fixtures import BOB, CAROL, PEOPLE, Workspace, csrf, sign_in, token_of

from bot.storage.models import AuditEvent, OutboxMessage, Submission
from bot.storage.web_models import SignInLink
from bot.web import feed
from bot.web import signin as links

# (path, who, expected status): 303 is the sign-in page, 403 a page their role has no use for, 404 another
# provider's object or one that does not exist (the same answer).
Q1 = ("ch-stop-smoking", "2025-26-Q1")


def paths(ws: Workspace) -> dict[str, str]:
    ch, sol = ws.obligation(*Q1), ws.obligation("solihull-stop-smoking", "2025-26-Q1")
    return {"ch": f"/returns/{ch}", "sol": f"/returns/{sol}", "ch_template": f"/returns/{ch}/template.xlsx",
            "ch_csv": "/contracts/ch-stop-smoking.csv", "none": "/returns/999999"}


ROUTES = [
    # path key or path, {who: status}
    ("/", {"anon": 303, "alice": 303, "bob": 303, "carol": 303}),
    ("/overview", {"anon": 303, "alice": 403, "bob": 403, "carol": 200}),
    ("/overview.csv", {"anon": 303, "alice": 403, "bob": 403, "carol": 200}),
    ("/contracts/ch-stop-smoking", {"anon": 303, "alice": 200, "dave": 200, "bob": 404, "carol": 200}),
    ("/contracts/solihull-stop-smoking", {"alice": 404, "dave": 200, "bob": 404, "carol": 200}),
    ("/contracts/no-such-contract", {"alice": 404, "bob": 404, "carol": 404}),
    ("ch", {"anon": 303, "alice": 200, "dave": 200, "bob": 404, "carol": 200}),
    ("sol", {"alice": 404, "dave": 200, "bob": 404, "carol": 200}),
    ("none", {"alice": 404, "bob": 404, "carol": 404}),
    ("/returns/not-a-number", {"alice": 404, "carol": 404}),
    ("ch_template", {"anon": 303, "alice": 200, "bob": 404, "carol": 200}),
    ("ch_csv", {"alice": 200, "bob": 404, "carol": 200}),
    ("/contracts/ch-stop-smoking/payments/2025-26", {"anon": 303, "alice": 200, "bob": 404, "carol": 200}),
    ("/contracts/ch-stop-smoking/payments/not-a-year", {"alice": 404, "carol": 404}),
    ("/provider", {"anon": 303, "alice": 200, "bob": 200, "carol": 200}),
    ("/upload", {"anon": 303, "alice": 200, "bob": 200, "carol": 200}),
    ("/sign-in", {"anon": 200, "alice": 200}),
    ("/accessibility", {"anon": 200, "carol": 200}),
    ("/no-such-page", {"anon": 404, "carol": 404}),
]


def test_every_route_answers_each_person_as_their_role_allows(workspace: Workspace) -> None:
    """Every route as each person, on one workspace: each is a GET (a sign-in adds only that person's session), so
    no route changes what another answers. Every wrong answer is listed, not only the first."""
    wrong = []
    for route, expected in ROUTES:
        path = paths(workspace).get(route, route)
        bodies = {}
        for who, status in expected.items():
            client = workspace.client()
            if who != "anon":
                sign_in(workspace, client, PEOPLE[who])
            answer = client.get(path)
            redirected = answer.headers.get("location") if status == 303 else None
            if answer.status_code != status or "Traceback" in answer.text or \
                    redirected not in (None, "/sign-in", "/overview", "/provider"):
                wrong.append((who, path, answer.status_code, redirected, answer.text[:300]))
            bodies[who] = answer
        if route == "sol":  # another provider's return reads exactly like one that does not exist
            missing = workspace.client()
            sign_in(workspace, missing, ALICE)
            if bodies["alice"].text != missing.get(paths(workspace)["none"]).text:
                wrong.append(("alice", path, "reads unlike a return that does not exist"))
    assert wrong == []


def test_a_provider_never_sees_another_providers_contract_named(workspace: Workspace) -> None:
    client = workspace.client()
    sign_in(workspace, client, BOB)
    for path in ("/provider", "/upload"):
        page = client.get(path).text
        assert "City and Hackney" not in page and "Solihull" not in page


def test_the_overview_shows_the_late_returns_and_each_quarters_state_and_counts(workspace: Workspace) -> None:
    client = workspace.client()
    sign_in(workspace, client, CAROL)
    page = client.get("/overview").text
    assert "4 late returns" in page  # Q2 of all three contracts (due 15 October), and substance misuse's Q1
    assert "5 days overdue" in page and "97 days overdue" in page
    assert "■ </span>Late" in page and "◆ </span>Received" in page  # by shape and word, never colour alone
    assert "arrived" in page  # Solihull's Q1 came after its due date
    table = client.get("/overview.csv")
    assert table.headers["content-type"].startswith("text/csv")
    rows = table.text.lstrip("\ufeff").splitlines()
    assert rows[0].startswith("contract,provider,quarter,state")
    assert any(r.startswith("City and Hackney Stop Smoking Service,Breathe Easy CIC,Q2 2025-26,Late") for r in rows)


def test_the_return_page_shows_each_version_and_the_figures_it_changed(workspace: Workspace) -> None:
    client = workspace.client()
    sign_in(workspace, client, ALICE)
    page = client.get(paths(workspace)["ch"]).text
    assert "Version 2" in page and "Version 1" in page
    assert "Number of quit dates set" in page or "quit date" in page.lower()
    assert page.count(" → ") >= 3  # the figures version 2 changed, old → new
    assert "quit_dates" not in page  # never an internal identifier
    older = client.get(paths(workspace)["ch"] + "?version=1").text
    assert "Version 1: Accepted, then replaced" in older


def test_a_sign_in_link_goes_through_the_outbox_works_once_and_only_its_hash_is_kept(workspace: Workspace) -> None:
    client = workspace.client()
    form = client.get("/sign-in")
    answer = client.post("/sign-in", data={"csrftoken": token_of(form.text), "email": ALICE.upper()})
    assert answer.status_code == 200 and "Check your email or Telegram" in answer.text
    with Session(workspace.engine) as session:
        message = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "sign_in")).one()
        link = session.exec(select(SignInLink)).one()
    assert (message.channel, message.address) == ("email", ALICE)
    token = message.body_text.split(links.PATH, 1)[1].split()[0]
    assert link.token_hash == links.token_hash(token) and token not in link.token_hash
    page = client.get(f"/sign-in/link/{token}")
    assert "Continue" in page.text  # opening the link signs nobody in: a mail scanner cannot use it up
    used = client.post("/sign-in/link", data={"csrftoken": token_of(page.text), "token": token})
    assert used.status_code == 303 and client.get("/provider").status_code == 200
    with Session(workspace.engine) as session:
        assert token not in session.get(OutboxMessage, message.id).body_text  # the link is gone from the row
    again = workspace.client()
    page = again.get(f"/sign-in/link/{token}")
    refused = again.post("/sign-in/link", data={"csrftoken": token_of(page.text), "token": token})
    assert refused.status_code == 400 and "already been used" in refused.text


def test_an_unknown_address_gets_the_same_answer_and_no_message(workspace: Workspace) -> None:
    client = workspace.client()
    answers = []
    for email in ("nobody@example.org", ALICE):
        form = client.get("/sign-in")
        answers.append(client.post("/sign-in", data={"csrftoken": token_of(form.text), "email": email}).text)
    assert answers[0].replace("nobody@example.org", "X") == answers[1].replace(ALICE, "X")
    with Session(workspace.engine) as session:
        assert len(session.exec(select(OutboxMessage).where(OutboxMessage.kind == "sign_in")).all()) == 1


def test_an_expired_link_is_refused(workspace: Workspace) -> None:
    token = links.issue_local(workspace.engine, ALICE, workspace.clock())
    workspace.clock.advance(minutes=15, seconds=1)
    client = workspace.client()
    page = client.get(f"/sign-in/link/{token}")
    answer = client.post("/sign-in/link", data={"csrftoken": token_of(page.text), "token": token})
    assert answer.status_code == 400 and "has expired" in answer.text
    assert client.get("/provider").status_code == 303


def test_sign_in_requests_are_limited_per_person_and_per_address(workspace: Workspace) -> None:
    client = workspace.client()
    for _ in range(7):
        form = client.get("/sign-in")
        client.post("/sign-in", data={"csrftoken": token_of(form.text), "email": ALICE})
    with Session(workspace.engine) as session:
        sent = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "sign_in")).all()
        throttled = session.exec(select(AuditEvent).where(AuditEvent.action == "web_sign_in_throttled")).all()
    assert len(sent) == 5 and len(throttled) == 2  # [web] sign_ins_per_hour
    statuses = []
    for _ in range(5):
        form = client.get("/sign-in")
        statuses.append(client.post("/sign-in", data={"csrftoken": token_of(form.text), "email": BOB}).status_code)
    assert statuses[-2:] == [429, 429]  # [web] sign_in_requests_per_minute from one address: 10


def test_a_session_ends_when_idle_and_when_signed_out(workspace: Workspace) -> None:
    client = workspace.client()
    sign_in(workspace, client, CAROL)
    workspace.clock.advance(minutes=29)
    assert client.get("/overview").status_code == 200  # in use: kept alive
    workspace.clock.advance(minutes=29)
    assert client.get("/overview").status_code == 200
    workspace.clock.advance(minutes=31)
    assert client.get("/overview").headers.get("location") == "/sign-in"
    sign_in(workspace, client, CAROL)
    assert client.post("/sign-out", data={"csrftoken": csrf(client, "/overview")}).status_code == 200
    assert client.get("/overview").status_code == 303


def test_session_cookies_are_http_only_same_site_and_secure_behind_https(workspace: Workspace) -> None:
    client = workspace.client()
    sign_in(workspace, client, CAROL)
    header = client.get("/overview").headers["set-cookie"].lower()
    assert "kpibot_session=" in header and "httponly" in header and "samesite=lax" in header
    assert "secure" not in header  # plain http on this machine: a Secure cookie would never come back
    secure = workspace.app.settings.model_copy(update={"web": workspace.app.settings.web.model_copy(
        update={"base_url": "https://kpibot.example.gov.uk"})})
    workspace.app.settings = secure
    https = workspace.client(https=True)
    sign_in(workspace, https, CAROL)
    assert "secure" in https.get("/overview").headers.get("set-cookie", "").lower()


def test_a_post_without_the_form_token_is_refused(workspace: Workspace) -> None:
    client = workspace.client()
    sign_in(workspace, client, ALICE)
    answer = client.post("/upload", files={"file": ("r.csv", sample_csv(seed=3), "text/csv")})
    assert answer.status_code == 403 and "could not be sent" in answer.text
    wrong = client.post("/sign-out", data={"csrftoken": "forged"})
    assert wrong.status_code == 403
    anonymous = workspace.client()
    assert anonymous.post("/sign-in", data={"email": ALICE}).status_code == 403
    good = csrf(client, "/upload")
    boundary = "b0undary"
    file_first = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\n\r\n'
                  f'a,b\r\n--{boundary}\r\nContent-Disposition: form-data; name="csrftoken"\r\n\r\n{good}\r\n'
                  f'--{boundary}--\r\n')
    refused = client.post("/upload", content=file_first.encode(),
                          headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    assert refused.status_code == 403  # the token must come before the file: no upload is read unchecked
    with Session(workspace.engine) as session:
        assert not session.exec(select(Submission).where(Submission.channel == "web")).all()


def test_an_upload_goes_through_the_one_intake_with_the_chat_reply(workspace: Workspace) -> None:
    client = workspace.client()
    sign_in(workspace, client, ALICE)
    q2 = workspace.obligation("ch-stop-smoking", "2025-26-Q2")
    token = csrf(client, "/upload")
    answer = client.post("/upload", data={"csrftoken": token, "return": str(q2)},
                         files={"file": ("q2.csv", sample_csv(seed=4), "text/csv")})
    assert answer.status_code == 200, answer.text
    assert "Return accepted" in answer.text and "version 1" in answer.text
    assert f"/returns/{q2}/report.pdf?version=1" in answer.text
    with Session(workspace.engine) as session:
        sub = session.exec(select(Submission).where(Submission.channel == "web")).one()
        reply = session.exec(select(OutboxMessage).where(OutboxMessage.dedupe_key == f"reply:submission:{sub.id}")).one()
    assert (sub.status, sub.sender_address, sub.on_time) == ("accepted", ALICE, False)
    assert (reply.channel, reply.address) == ("email", ALICE)  # the reply by email as well, with its report
    assert reply.body_text.split("\n")[0] in answer.text.replace("&#39;", "'")


def test_an_upload_for_a_return_they_may_not_send_is_refused_without_saying_whose(workspace: Workspace) -> None:
    client = workspace.client()
    sign_in(workspace, client, BOB)
    ch = workspace.obligation("ch-stop-smoking", "2025-26-Q2")
    answer = client.post("/upload", data={"csrftoken": csrf(client, "/upload"), "return": str(ch)},
                         files={"file": ("q2.csv", sample_csv(seed=4), "text/csv")})
    assert answer.status_code == 400 and "Choose the return this file is for" in answer.text
    assert "City and Hackney" not in answer.text


def test_uploads_over_the_caps_are_refused_clearly(workspace: Workspace) -> None:
    client = workspace.client()
    sign_in(workspace, client, ALICE)
    token = csrf(client, "/upload")
    cap = workspace.app.settings.intake.max_upload_bytes
    big = client.post("/upload", data={"csrftoken": token}, files={"file": ("big.xlsx", b"x" * (cap + 70_000))})
    assert big.status_code == 413 and "The file is too large" in big.text and "up to 10 MB" in big.text
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/sharedStrings.xml", "A" * (workspace.app.settings.intake.max_uncompressed_bytes + 1))
    q2 = workspace.obligation("ch-stop-smoking", "2025-26-Q2")
    refused = client.post("/upload", data={"csrftoken": token, "return": str(q2)},
                          files={"file": ("bomb.xlsx", bomb.getvalue())})
    assert refused.status_code == 200 and "Return not accepted" in refused.text
    assert "bomb.xlsx was not accepted" in refused.text
    empty = client.post("/upload", data={"csrftoken": token, "return": str(q2)})
    assert empty.status_code == 400 and "Choose the return file to upload" in empty.text


def test_the_workbook_download_is_the_template_of_that_return(workspace: Workspace) -> None:
    client = workspace.client()
    sign_in(workspace, client, ALICE)
    answer = client.get(paths(workspace)["ch_template"])
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert zipfile.ZipFile(io.BytesIO(answer.content)).read("xl/workbook.xml")


def test_the_feed_needs_a_live_token_and_shows_only_its_councils_results(workspace: Workspace) -> None:
    made = feed.create(workspace.engine, "example-council", "Power BI", workspace.clock())
    client = workspace.client()
    assert client.get("/feed.csv").status_code == 401
    assert client.get("/feed.csv?token=wrong").status_code == 401
    answer = client.get("/feed.csv", headers={"authorization": f"Bearer {made.token}"})
    assert answer.status_code == 200
    rows = answer.text.lstrip("\ufeff").splitlines()
    assert rows[0] == ",".join(feed.COLUMNS)
    first = rows[1].split(",")
    assert first[0] == "ch-stop-smoking" and first[4] == "2025-26-Q1" and first[13] == "2"  # the version in force
    assert any(",solihull-stop-smoking," in f",{r}" for r in rows)
    assert client.get(f"/feed.csv?token={made.token}").status_code == 200
    feed.revoke(workspace.engine, made.id, workspace.clock())
    assert client.get(f"/feed.csv?token={made.token}").status_code == 401
    with Session(workspace.engine) as session:
        kept = session.exec(select(col(AuditEvent.detail))).all()
    assert made.token not in str(kept)


def test_csv_cells_are_never_run_as_formulas() -> None:
    from bot.web.views.base import cell

    assert cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and cell("@SUM(A1)") == "'@SUM(A1)"
    assert cell("-12.5") == "-12.5" and cell("+44") == "+44" and cell("plain") == "plain"


def test_a_fault_is_a_plain_page_never_a_traceback(workspace: Workspace) -> None:
    client = workspace.client()
    sign_in(workspace, client, CAROL)
    with mock.patch("bot.web.views.overview.overview", autospec=True, side_effect=RuntimeError("boom /secret")):
        answer = client.get("/overview")
    assert answer.status_code == 500
    assert "problem with the service" in answer.text
    assert "Traceback" not in answer.text and "boom" not in answer.text and "secret" not in answer.text


def test_every_page_carries_the_security_headers(workspace: Workspace) -> None:
    answer = workspace.client().get("/sign-in")
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["cache-control"] == "no-store"
