"""The Telegram channel end to end: the real python-telegram-bot client polling the fake Bot API on 127.0.0.1,
the one intake and the outbox on a real database of each kind.

Who is who (intake_fixtures.py): Alice (chat 1001, linked in the configuration) submits for Breathe Easy's City
and Hackney contract only; Dave works for Breathe Easy on both its contracts and links his chat with an invite;
Bob is Turning Point's; Carol is the council's commissioner.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from fake_telegram import (
    BOT_USER,
    TOKEN,
    FakeBotApi,
    button_press,
    message,
    running_fake_bot_api,
)
from intake_fixtures import ALICE, DAVE, NOW, received
from pypdf import PdfReader
from services import free_port
from sqlmodel import Session, select
from telegram_fixtures import (
    ALICE_CHAT,
    DAVE_CHAT,
    STRANGER_CHAT,
    WHEN,
    ch_csv,
    ch_figures,
    config_path,
    count,
    filled_workbook,
    invite,
    running_channel,
    send,
    telegram_app,
)

from bot import config
from bot.app import App
from bot.channels.telegram import linking as linking
from bot.channels.telegram.channel import webhook_secret
from bot.channels.telegram.texts import CHECK_PROMPT, UNLINKED
from bot.intake.service import Intake
from bot.reports.chat import TELEGRAM_LIMIT, length
from bot.reports.queue import RenderQueue
from bot.storage.models import Contact, Invite, Submission
from kpi_core import loader, samples
from kpi_core.returns.reader import read_return

pytestmark = pytest.mark.timeout(120)
CAROL = "carol@example-council.example"


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with running_fake_bot_api() as api:
        yield api


@pytest.fixture
def app(settings: config.Settings, api: FakeBotApi, intake: Intake, render_queue: RenderQueue) -> App:
    return telegram_app(settings, api, intake, render_queue)


def submissions(engine: sa.Engine) -> list[Submission]:
    with Session(engine) as session:
        return list(session.exec(select(Submission).order_by(Submission.id)))  # type: ignore[arg-type]


def contact(engine: sa.Engine, email: str) -> Contact:
    with Session(engine) as session:
        found = session.exec(select(Contact).where(Contact.email == email)).one()
        session.expunge(found)
        return found


def text_to(api: FakeBotApi, chat: int, needle: str) -> str:
    """Wait until a message containing `needle` reached `chat`, and return it."""
    calls = api.wait_for(lambda calls: any(c.method == "sendMessage" and c.ok and c.chat_id == chat
                                           and needle in c.params["text"] for c in calls))
    return next(c.params["text"] for c in calls if c.method == "sendMessage" and c.ok and c.chat_id == chat
                and needle in c.params["text"])


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def link(api: FakeBotApi, settings: config.Settings, email: str, chat: int, message_id: int = 1) -> None:
    code = invite(config_path(settings), email)
    send(api, chat, message_id, text=f"/start {code}")
    text_to(api, chat, "is now linked")


# -- the round trip --------------------------------------------------------------------------------------------

@pytest.mark.with_pdf
def test_invite_start_and_an_upload_bring_the_acknowledgement_the_summary_and_the_pdf(
        app: App, api: FakeBotApi, settings: config.Settings, intake: Intake) -> None:
    q1 = intake.submit(received(ch_csv(160, 80), message_id="q1", sender=DAVE, channel="cli",
                                caption="ch-stop-smoking 2025-26-Q1", at=NOW - timedelta(days=60)))
    assert q1.outcome == "accepted"
    workbook = filled_workbook("ch-stop-smoking", "2025-26-Q2", ch_figures(240, 130),
                               earlier={"2025-26-Q1": ch_figures(160, 80)})
    with running_channel(app):
        link(api, settings, DAVE, DAVE_CHAT)
        assert contact(app.engine, DAVE).telegram_chat_id == DAVE_CHAT
        send(api, DAVE_CHAT, 2, document=api.add_file(workbook, "Q2 return.xlsx"))
        api.wait_for(lambda calls: any(c.method == "sendDocument" and c.ok for c in calls))
    texts = api.texts(DAVE_CHAT)
    ack = texts.index("📥 Received Q2 return.xlsx: checking it now…")
    summary = next(i for i, t in enumerate(texts) if "City and Hackney Stop Smoking Service" in t and "✅" in t)
    assert ack < summary
    assert "52.5%" in texts[summary] and "£9,000.00" in texts[summary]
    [document] = api.sent("sendDocument", DAVE_CHAT)
    assert document.files["document"].startswith(b"%PDF")
    text = pdf_text(document.files["document"])
    assert "52.5%" in text and "£9,000.00" in text
    assert [s.status for s in submissions(app.engine)] == ["accepted", "accepted"]


def test_an_ambiguous_upload_is_resumed_by_the_keyboard_with_one_submission_stored(
        app: App, api: FakeBotApi, settings: config.Settings) -> None:
    with running_channel(app):
        link(api, settings, DAVE, DAVE_CHAT)
        send(api, DAVE_CHAT, 2, document=api.add_file(ch_csv(240, 130), "return.csv"))
        question = api.wait_for(lambda calls: any(c.method == "sendMessage" and c.markup for c in calls))
        [asked] = [c for c in question if c.method == "sendMessage" and c.markup]
        assert "Which contract" in asked.params["text"]
        buttons = [row[0] for row in asked.markup["inline_keyboard"]]  # type: ignore[index]
        assert [b["text"] for b in buttons] == ["City and Hackney Stop Smoking Service", "Solihull Stop Smoking"]
        api.push(callback=button_press(DAVE_CHAT, buttons[0]["callback_data"], message_id=77, query_id="a"))
        edited = api.wait_for(lambda calls: any(c.method == "editMessageText" and c.markup for c in calls))
        periods = [row[0] for c in edited if c.method == "editMessageText" and c.markup
                   for row in c.markup["inline_keyboard"]]
        q2 = next(b for b in periods if b["text"].startswith("2025-26-Q2 quarterly"))
        api.push(callback=button_press(DAVE_CHAT, q2["callback_data"], message_id=77, query_id="b"))
        reply = text_to(api, DAVE_CHAT, "City and Hackney Stop Smoking Service\nQuarterly")
        api.push(callback=button_press(DAVE_CHAT, q2["callback_data"], message_id=77, query_id="c"))  # again
        api.wait_for(lambda calls: any(c.method == "editMessageText" and "already been dealt with"
                                       in c.params["text"] for c in calls))
    assert "Q2 2025-26" in reply
    [stored] = submissions(app.engine)
    assert (stored.status, stored.contract_id, stored.period_id) == ("accepted", "ch-stop-smoking", "2025-26-Q2")
    assert len([t for t in api.texts(DAVE_CHAT) if "Quarterly" in t]) == 1  # one scored reply


# -- each wrong way gets its answer, and the database holds nothing it should not --------------------------------

def test_an_unlinked_chat_learns_how_to_get_an_invite_and_nothing_else(app: App, api: FakeBotApi) -> None:
    with running_channel(app):
        send(api, STRANGER_CHAT, 1, text="/status")
        send(api, STRANGER_CHAT, 2, document=api.add_file(ch_csv(240, 130), "return.csv"))
        send(api, STRANGER_CHAT, 3, text="/start")
        send(api, STRANGER_CHAT, 4, text="hello")
        api.wait_for(lambda calls: len(api.texts(STRANGER_CHAT)) == 4)
    assert api.texts(STRANGER_CHAT) == [UNLINKED] * 4
    assert not [c for c in api.calls if c.method in ("getFile", "download")]
    assert submissions(app.engine) == [] and count(app.engine, "outbox_message") == 0


def test_expired_reused_and_unknown_codes_link_nothing(app: App, api: FakeBotApi, settings: config.Settings) -> None:
    expired = linking.issue(app.engine, DAVE, NOW - timedelta(days=8)).code
    code = invite(config_path(settings), CAROL)
    with running_channel(app):
        send(api, DAVE_CHAT, 1, text=f"/start {expired}")
        assert "expired on 30 September 2025" in text_to(api, DAVE_CHAT, "expired")
        send(api, 4004, 1, text=f"/start {code}")
        text_to(api, 4004, "is now linked to kpibot as Carol")
        send(api, STRANGER_CHAT, 1, text=f"/start {code}")
        text_to(api, STRANGER_CHAT, "already been used")
        send(api, STRANGER_CHAT, 2, text="/start not-a-code")
        text_to(api, STRANGER_CHAT, "not valid")
    assert contact(app.engine, DAVE).telegram_chat_id is None
    assert contact(app.engine, CAROL).telegram_chat_id == 4004
    with Session(app.engine) as session:
        assert sorted((i.used_by_chat or 0) for i in session.exec(select(Invite))) == [0, 4004]


def test_a_file_for_another_providers_contract_is_refused_without_showing_or_keeping_its_figures(
        app: App, api: FakeBotApi) -> None:
    framework = loader.get("ch-substance-misuse")
    theirs = filled_workbook("ch-substance-misuse", "2025-26-Q2", samples.sample_values(framework, "quarterly"))
    with running_channel(app):
        send(api, ALICE_CHAT, 1, document=api.add_file(theirs, "return.xlsx"))
        refusal = text_to(api, ALICE_CHAT, "not accepted")
    assert "'ch-substance-misuse' is not one of your contracts" in refusal
    assert "Send it for one of your contracts: City and Hackney Stop Smoking Service." in refusal
    for theirs_only in ("Turning Point", "Substance Misuse", "solihull"):
        assert theirs_only not in "\n".join(api.texts(ALICE_CHAT))
    [stored] = submissions(app.engine)
    assert (stored.status, stored.contract_id, stored.obligation_id) == ("rejected", None, None)
    assert count(app.engine, "data_value") == count(app.engine, "indicator_result") == 0


def test_a_rejected_return_gets_every_finding_split_at_telegrams_limit(app: App, api: FakeBotApi) -> None:
    bad = ch_csv(240, 130) + b"".join(f"quits_4wk,area=nowhere{n},1\n".encode() for n in range(120))
    with running_channel(app):
        send(api, ALICE_CHAT, 1, document=api.add_file(bad, "return.csv"), caption="2025-26-Q2")
        api.wait_for(lambda calls: any(c.ok and c.params.get("text", "").startswith("(4/4)") for c in calls))
    parts = [t for t in api.texts(ALICE_CHAT) if t.startswith("(")]
    assert [p[:5] for p in parts] == ["(1/4)", "(2/4)", "(3/4)", "(4/4)"]
    assert all(length(p) <= TELEGRAM_LIMIT for p in parts)
    assert {n for n in range(120) if any(f"'nowhere{n}'" in p for p in parts)} == set(range(120))


def test_a_25_mb_file_is_refused_before_it_is_downloaded(app: App, api: FakeBotApi) -> None:
    big = api.add_file(b"x" * 1024, "return.xlsx", size=25 * 1024 * 1024)
    with running_channel(app):
        send(api, ALICE_CHAT, 1, document=big)
        answer = text_to(api, ALICE_CHAT, "MB")
    assert "26.2 MB" in answer and "up to 10 MB" in answer
    assert not [c for c in api.calls if c.method in ("getFile", "download")]
    assert submissions(app.engine) == []


def test_a_photo_a_sticker_and_a_pdf_are_not_returns(app: App, api: FakeBotApi) -> None:
    photo = [{"file_id": "P1", "file_unique_id": "UP1", "width": 90, "height": 90}]
    sticker = {"file_id": "S1", "file_unique_id": "US1", "width": 512, "height": 512, "is_animated": False,
               "is_video": False, "type": "regular"}
    with running_channel(app):
        send(api, ALICE_CHAT, 1, photo=photo)
        assert "cannot read a photo" in text_to(api, ALICE_CHAT, "photo")
        send(api, ALICE_CHAT, 2, sticker=sticker)
        text_to(api, ALICE_CHAT, "cannot read a sticker")
        send(api, ALICE_CHAT, 3, document=api.add_file(b"%PDF-1.7", "report.pdf"))
        text_to(api, ALICE_CHAT, "report.pdf is not a return file")
    assert submissions(app.engine) == [] and not [c for c in api.calls if c.method == "getFile"]


def test_a_pdf_renamed_xlsx_is_read_for_what_it_is_and_refused(app: App, api: FakeBotApi) -> None:
    pdf = (Path(__file__).parent / "corpus" / "pdf_named_xlsx.xlsx").read_bytes()  # the returns corpus's PDF
    assert pdf.startswith(b"%PDF")
    with running_channel(app):
        send(api, ALICE_CHAT, 1, document=api.add_file(pdf, "return.xlsx"))
        refusal = text_to(api, ALICE_CHAT, "not accepted")
    assert "return.xlsx is a PDF document, not an Excel workbook" in refusal
    [stored] = submissions(app.engine)
    assert stored.status == "rejected" and count(app.engine, "data_value") == 0


# -- commands --------------------------------------------------------------------------------------------------

def test_status_template_and_report_answer_for_the_contacts_own_contracts(
        app: App, api: FakeBotApi, intake: Intake, render_queue: RenderQueue) -> None:
    intake.submit(received(ch_csv(160, 80), message_id="q1", channel="cli", caption="2025-26-Q1",
                           at=NOW - timedelta(days=60)))
    with running_channel(app):
        send(api, ALICE_CHAT, 1, text="/status")
        status = text_to(api, ALICE_CHAT, "Status on 01 October 2025")
        send(api, ALICE_CHAT, 2, text="/template")
        api.wait_for(lambda calls: len(api.sent("sendDocument", ALICE_CHAT)) == 1)
        send(api, ALICE_CHAT, 3, text="/report ch-stop-smoking 2025-26-Q1")
        api.wait_for(lambda calls: len(api.sent("sendDocument", ALICE_CHAT)) == 2)
        send(api, ALICE_CHAT, 4, text="/report solihull-stop-smoking")
        refused = text_to(api, ALICE_CHAT, "not one of your contracts")
        send(api, ALICE_CHAT, 5, text="/late")
        text_to(api, ALICE_CHAT, "/late is for commissioners")
        send(api, ALICE_CHAT, 6, text="/frobnicate")
        text_to(api, ALICE_CHAT, "no such command")
    assert "City and Hackney Stop Smoking Service" in status and "Solihull" not in status
    assert "2025-26-Q1 quarterly, due 15 Jul 2025: accepted (version 1)" in status
    assert "2025-26-Q2 quarterly, due 15 Oct 2025: not received yet" in status
    workbook, report = api.sent("sendDocument", ALICE_CHAT)
    assert workbook.filenames["document"] == "ch-stop-smoking-2025-26-Q2.xlsx"
    cover = read_return(workbook.files["document"], "template.xlsx").cover
    assert (cover["contract"], cover["period"]) == ("ch-stop-smoking", "2025-26-Q2")  # the next return due
    assert report.filenames["document"] == "ch-stop-smoking-2025-26-Q1.pdf"
    assert "Q1 2025-26" in pdf_text(report.files["document"])
    assert "'solihull-stop-smoking' is not one of your contracts. Yours: ch-stop-smoking." in refused


def test_commissioners_see_what_is_late_with_its_escalation(app: App, api: FakeBotApi,
                                                            settings: config.Settings) -> None:
    with running_channel(app):
        link(api, settings, CAROL, 3003)
        api.wait_for(lambda calls: any(c.method == "setMyCommands" and "3003" in c.params.get("scope", "")
                                       for c in calls))
        send(api, 3003, 2, text="/late")
        late = text_to(api, 3003, "Overdue on 01 October 2025")
        send(api, 3003, 3, text="/exceptions 2025-26-Q1")
        api.wait_for(lambda calls: len(api.sent("sendDocument", 3003)) == 1)
    assert "Hackney and City Substance Misuse: 2025-26-Q1 quarterly, due 15 Jul 2025" in late
    assert "Escalation level 1" in late
    [report] = api.sent("sendDocument", 3003)
    text = " ".join(pdf_text(report.files["document"]).split())  # names wrap in table cells
    assert "Hackney and City Substance Misuse" in text and "Solihull Stop Smoking" in text


def test_check_scores_the_next_file_and_stores_nothing(app: App, api: FakeBotApi) -> None:
    with running_channel(app):
        send(api, ALICE_CHAT, 1, text="/check")
        prompt = api.wait_for(lambda calls: any(c.method == "sendMessage" and c.markup for c in calls))
        assert any(c.markup == {"force_reply": True, "input_field_placeholder": "Attach the return file"}
                   for c in prompt if c.method == "sendMessage")
        send(api, ALICE_CHAT, 2, document=api.add_file(ch_csv(240, 130), "draft.csv"), caption="2025-26-Q2",
             reply_to={"message_id": 1001, "date": 0, "chat": {"id": ALICE_CHAT, "type": "private"},
                       "from": BOT_USER, "text": f"{CHECK_PROMPT} send the return file as a reply"})
        checked = text_to(api, ALICE_CHAT, "nothing was stored")
    assert "Q2 2025-26" in checked and "City and Hackney Stop Smoking Service" in checked
    assert submissions(app.engine) == [] and count(app.engine, "stored_file") == 0
    assert count(app.engine, "outbox_message") == 0


def test_a_fault_is_logged_with_the_update_id_and_the_chat_gets_no_traceback(
        app: App, api: FakeBotApi, caplog: pytest.LogCaptureFixture) -> None:
    with running_channel(app):
        with app.engine.begin() as connection:  # a real fault: a table /status reads is gone
            connection.execute(sa.text("ALTER TABLE obligation RENAME TO obligation_gone"))
        with caplog.at_level(logging.ERROR):
            update_id = send(api, ALICE_CHAT, 1, text="/status")
            apology = text_to(api, ALICE_CHAT, "Sorry")
    assert "Traceback" not in apology and "obligation" not in apology
    assert any(f"Telegram update {update_id} failed" in r.getMessage() and r.exc_info for r in caplog.records)


def test_a_group_that_became_a_supergroup_is_followed(app: App, api: FakeBotApi) -> None:
    with running_channel(app):
        send(api, -100555, 1, migrate_from_chat_id=ALICE_CHAT, chat_type="supergroup")  # the group's first message
        send(api, -100555, 2, text="/help", chat_type="supergroup")
        text_to(api, -100555, "Hello Alice")
    assert contact(app.engine, ALICE).telegram_chat_id == -100555


def test_a_contact_who_blocked_the_bot_and_writes_again_gets_answers_again(app: App, api: FakeBotApi) -> None:
    with Session(app.engine) as session:
        alice = session.exec(select(Contact).where(Contact.email == ALICE)).one()
        alice.telegram_disabled = True
        session.commit()
    with running_channel(app):
        send(api, ALICE_CHAT, 1, text="/help")
        text_to(api, ALICE_CHAT, "Hello Alice")
    assert not contact(app.engine, ALICE).telegram_disabled


# -- webhook mode ------------------------------------------------------------------------------------------------

def test_webhook_mode_takes_updates_only_with_the_secret_token(settings: config.Settings, api: FakeBotApi,
                                                               intake: Intake, render_queue: RenderQueue) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram-updates"
    app = telegram_app(settings, api, intake, render_queue, mode="webhook", webhook_url=url,
                       webhook_listen="127.0.0.1", webhook_port=port)
    update = {"update_id": 1, "message": message(ALICE_CHAT, 1, date=WHEN, text="/help")}
    with running_channel(app), httpx.Client(trust_env=False) as client:
        [hook] = api.sent("setWebhook")
        assert hook.params["url"] == url and hook.params["secret_token"] == webhook_secret(TOKEN)
        forged = client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"})
        assert forged.status_code == 403
        real = client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": webhook_secret(TOKEN)})
        assert real.status_code == 200
        text_to(api, ALICE_CHAT, "Hello Alice")
    assert len(api.texts(ALICE_CHAT)) == 1  # the forged update was never handled


def test_a_token_telegram_refuses_leaves_the_service_running_and_shows_in_status(
        settings: config.Settings, api: FakeBotApi, intake: Intake, render_queue: RenderQueue) -> None:
    app = telegram_app(settings, api, intake, render_queue)
    app = App(app.settings.model_copy(update={"telegram_token": "999:revoked"}))
    app.__dict__.update(engine=intake.engine, intake=intake, render_queue=render_queue)
    with running_channel(app):  # starts and stops without raising
        pass
    [line, off] = linking.status_lines(app.engine, NOW)
    assert "The Telegram channel is off" in off and "refused the bot token" in off
