"""Teams delivery through the real httpx client against a fake Workflows webhook on 127.0.0.1: the transport alone
(every answer Teams gives), then through the outbox dispatcher on a real database of each kind."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import CH_STOP_SMOKING_CONFIG
from fake_teams import PATH, SIGNATURE, Answer, FakeWorkflows, error, running_fake_workflows
from intake_fixtures import NOW, deployment
from services import free_port
from sqlmodel import Session, select
from teams_fixtures import FakeTime, assert_valid_message, texts

from bot import config
from bot.app import App
from bot.channels.teams import cards
from bot.channels.teams.check import check, main
from bot.channels.teams.status import status_lines
from bot.channels.teams.transport import GAP, TeamsTransport, Webhook, retry_after
from bot.commands.service_status import service_lines
from bot.outbox.card import CARD, Card, Count, Section
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.transport import Outbound, TransportError
from bot.storage.files import FileStore
from bot.storage.models import AuditEvent, OutboxMessage

CARD_ONE = Card("Exception report: quarterly returns due 15 October 2025 (1 late, 2 red)",
                "2 red or amber indicators · 1 missing or late return · 1 critical failure",
                counts=(Count("red", "■ RED", 2), Count("amber", "▲ AMBER", 1), Count("green", "● GREEN", 9)),
                sections=(Section("Critical performance failures (1)", ("Lifestyle: 2.1 Completers: 12%",),
                                  "attention"),))


@pytest.fixture
def fake() -> Iterator[FakeWorkflows]:
    with running_fake_workflows() as fake:
        yield fake


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


def transport_for(fake: FakeWorkflows, time: FakeTime, timeout: float = 5.0, **kw: object) -> TeamsTransport:
    return TeamsTransport({"council": Webhook("KPIBOT_TEAMS_URL_COUNCIL", fake.url())}, timeout=timeout,
                          clock=time.clock, sleep=time.sleep, **kw)  # type: ignore[arg-type]


@pytest.fixture
def transport(fake: FakeWorkflows, time: FakeTime) -> Iterator[TeamsTransport]:
    sender = transport_for(fake, time)
    yield sender
    sender.close()


def outbound(card: Card = CARD_ONE, address: str = "council") -> Outbound:
    return Outbound(address, card.title, card.plain(), headers={CARD: card.to_json()})


def refused(transport: TeamsTransport, message: Outbound | None = None) -> TransportError:
    with pytest.raises(TransportError) as caught:
        transport.send(message or outbound())
    assert SIGNATURE not in str(caught.value) and "127.0.0.1" not in str(caught.value)
    return caught.value


# -- the transport alone -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [202, 200])
def test_202_and_200_are_both_delivered(fake: FakeWorkflows, transport: TeamsTransport, status: int) -> None:
    """The Workflows trigger answers 202 with an empty body; the old connectors' 200 must not be required."""
    fake.answer(Answer(status))
    transport.send(outbound())
    [post] = fake.delivered()
    assert post.content_type == "application/json" and post.query["sig"] == SIGNATURE
    card = assert_valid_message(post.body)
    assert "■ RED 2" in texts(card) and "Critical performance failures (1)" in texts(card)


def test_a_429_says_when_to_try_again_and_nothing_more_goes_to_that_webhook_until_then(
        fake: FakeWorkflows, transport: TeamsTransport, time: FakeTime) -> None:
    fake.answer(error(429, "TooManyRequests", **{"Retry-After": "7"}))
    first = refused(transport)
    assert (first.retry_after, first.permanent, first.interrupted) == (7.0, False, False)
    second = refused(transport)  # no request: the webhook asked for a pause
    assert second.retry_after == pytest.approx(7.0) and len(fake.posts) == 1
    time.now += 7
    transport.send(outbound())
    assert [p.answered for p in fake.posts] == ["429", "202"]


def test_a_retry_after_date_is_read_against_the_clock() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert retry_after("120", now) == 120 and retry_after("", now) is None and retry_after("soon", now) is None
    assert retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now) == 0
    assert retry_after("9999999", now) == 6 * 3600  # never a wait of months


@pytest.mark.parametrize(("answer", "said"), [
    (error(404, "WorkflowNotFound"), "the workflow was not found (HTTP 404): it was deleted or turned off"),
    (error(410, "WorkflowDeleted"), "the workflow is gone (HTTP 410)"),
    (error(400, "InvalidRequestContent"), "Teams refused the card as malformed (HTTP 400) (InvalidRequestContent)"),
    (error(401, "DirectApiAuthorizationRequired"), "Teams refused the URL's signature (HTTP 401)"),
    (error(403, "Forbidden"), "Teams refused the URL's signature (HTTP 403)"),
    (Answer(302, {"Location": "https://elsewhere.example/"}), "the webhook answered with a redirect (HTTP 302)"),
])
def test_a_deleted_workflow_a_refused_signature_or_card_fails_for_good(
        fake: FakeWorkflows, transport: TeamsTransport, answer: Answer, said: str) -> None:
    fake.answer(answer)
    failure = refused(transport)
    assert failure.permanent and not failure.interrupted and said in str(failure)
    assert len(fake.posts) == 1


@pytest.mark.parametrize(("answer", "wait"), [
    (error(500, "InternalServerError"), None), (Answer(502), None), (Answer(504), None),
    (error(503, "ServiceUnavailable", **{"Retry-After": "30"}), 30.0), (Answer(408), None),
])
def test_a_server_error_is_tried_again_later(fake: FakeWorkflows, transport: TeamsTransport, answer: Answer,
                                             wait: float | None) -> None:
    fake.answer(answer)
    failure = refused(transport)
    assert not failure.permanent and not failure.interrupted and failure.retry_after == wait
    assert f"HTTP {answer.status}" in str(failure)


def test_a_card_teams_finds_too_large_is_sent_again_at_once_shortened(fake: FakeWorkflows,
                                                                      transport: TeamsTransport) -> None:
    fake.answer(error(413, "RequestEntityTooLarge"))
    transport.send(outbound())
    assert [p.answered for p in fake.posts] == ["413", "202"]
    card = assert_valid_message(fake.posts[1].body)
    assert "Critical performance failures (1)" not in texts(card) and "■ RED 2" in texts(card)
    assert "The rest is too long for a Teams message: see the report in kpibot." in texts(card)


def test_a_card_too_large_even_shortened_fails_for_good(fake: FakeWorkflows, transport: TeamsTransport) -> None:
    fake.answer(error(413, "RequestEntityTooLarge"), error(413, "RequestEntityTooLarge"))
    failure = refused(transport)
    assert failure.permanent and "too large (HTTP 413), even shortened" in str(failure)


def test_a_card_over_28_kb_is_shortened_before_it_goes_never_refused(fake: FakeWorkflows,
                                                                    transport: TeamsTransport) -> None:
    late = tuple(f"Contract {n}: quarterly monitoring return, Q{n % 4 + 1} 2025-26, due 15 October 2025: not "
                 "received, 12 days overdue" for n in range(400))
    big = Card("Weekly digest", "What needs attention this week.", sections=(
        Section("Critical performance failures (2)", ("One", "Two"), "attention"), Section("Late returns (400)", late)))
    assert len(cards.encoded(cards.message(big))) > 28_000
    transport.send(outbound(big))
    [post] = fake.delivered()
    assert len(post.body) <= cards.MAX_BYTES
    seen = texts(assert_valid_message(post.body))
    assert "• One" in seen and "• Two" in seen  # critical failures first, kept whole
    assert any(t.startswith("• ... and ") and t.endswith(" more") for t in seen)
    assert "The rest is too long for a Teams message: see the report in kpibot." in seen


def test_with_a_link_a_shortened_card_points_to_it(fake: FakeWorkflows, transport: TeamsTransport) -> None:
    big = Card("Awaiting review", sections=(Section("Returns (900)", tuple(f"Return {n}" * 5 for n in range(900))),),
               facts=(("Council", "Example Council"),), link="https://kpibot.example-council.gov.uk/reviews")
    transport.send(outbound(big))
    card = assert_valid_message(fake.delivered()[0].body)
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open in kpibot",
                                "url": "https://kpibot.example-council.gov.uk/reviews"}]
    assert "The rest is too long for a Teams message: see all of it in kpibot (the button below)." in texts(card)


def test_a_slow_answer_within_the_timeout_is_delivered_once(fake: FakeWorkflows, time: FakeTime) -> None:
    fake.answer(Answer(202, delay=0.3))
    sender = transport_for(fake, time, timeout=10.0)
    sender.send(outbound())
    sender.close()
    assert [p.answered for p in fake.posts] == ["202"]


@pytest.mark.parametrize("answer", [Answer(hold=True), Answer(close=True)], ids=["no answer", "connection cut"])
def test_a_post_that_left_without_an_answer_is_interrupted_not_retried(fake: FakeWorkflows, time: FakeTime,
                                                                       answer: Answer) -> None:
    """The workflow received the card (the fake recorded it): Teams may well show it, so sending it again on its
    own could post it twice."""
    fake.answer(answer)
    sender = transport_for(fake, time, timeout=0.5)
    failure = refused(sender)
    sender.close()
    assert failure.interrupted and not failure.permanent
    assert len(fake.posts) == 1 and fake.posts[0].answered in ("held", "closed")


def test_a_webhook_that_cannot_be_reached_is_tried_again(time: FakeTime) -> None:
    url = f"http://127.0.0.1:{free_port()}{PATH}?sig={SIGNATURE}"  # nothing listens there
    sender = TeamsTransport({"council": Webhook("KPIBOT_TEAMS_URL_COUNCIL", url)}, timeout=5, clock=time.clock,
                            sleep=time.sleep)
    failure = refused(sender)
    sender.close()
    assert not failure.permanent and not failure.interrupted and "could not reach Teams" in str(failure)


def test_a_channel_without_its_url_here_waits_and_an_unknown_one_fails(fake: FakeWorkflows, time: FakeTime) -> None:
    sender = TeamsTransport({"council": Webhook("KPIBOT_TEAMS_URL_COUNCIL", "")}, clock=time.clock, sleep=time.sleep)
    unset = refused(sender)
    assert not unset.permanent and "KPIBOT_TEAMS_URL_COUNCIL is not set in this process's environment" in str(unset)
    unknown = refused(sender, outbound(address="gone"))
    assert unknown.permanent and "no [[teams]] entry named 'gone'" in str(unknown)
    sender.close()
    assert fake.posts == []


def test_posts_to_one_webhook_are_a_quarter_second_apart(fake: FakeWorkflows, transport: TeamsTransport,
                                                         time: FakeTime) -> None:
    for _ in range(3):
        transport.send(outbound())
    assert time.slept == [GAP, GAP] and len(fake.delivered()) == 3


def test_a_message_queued_without_a_card_goes_as_its_text(fake: FakeWorkflows, transport: TeamsTransport) -> None:
    transport.send(Outbound("council", "", "Held: an email failed the sender check\nIt is kept for you to look at."))
    seen = texts(assert_valid_message(fake.delivered()[0].body))
    assert "Held: an email failed the sender check" in seen and "It is kept for you to look at." in seen


def test_text_is_never_read_as_markdown(fake: FakeWorkflows, transport: TeamsTransport) -> None:
    tricky = Card("Warning: *Bold* Ltd_", sections=(Section("", ("[click](https://evil.example) <b>x</b>",)),))
    transport.send(outbound(tricky))
    card = assert_valid_message(fake.delivered()[0].body)
    kinds = set(re.findall(r"'type': '([A-Za-z.]+)'", str(card)))
    assert kinds == {"AdaptiveCard", "Container", "RichTextBlock", "TextRun"}  # TextBlock and FactSet read Markdown
    assert "[click](https://evil.example) <b>x</b>" in texts(card) and "actions" not in card


def test_the_webhook_url_never_reaches_a_log_line(fake: FakeWorkflows, transport: TeamsTransport,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")  # `kpibot run` quiets httpx, process-wide; here it must speak
    fake.answer(error(404, "WorkflowNotFound"))
    with pytest.raises(TransportError):
        transport.send(outbound())
    transport.send(outbound())
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request: POST" in logged  # httpx logged the requests...
    assert SIGNATURE not in logged and PATH not in logged  # ...without the URL


def test_check_posts_a_test_card_and_says_what_happened(fake: FakeWorkflows) -> None:
    ok, said = check(fake.url())
    assert ok and said.startswith("Teams took the test card")
    assert "kpibot is connected to this channel" in texts(assert_valid_message(fake.delivered()[0].body))
    fake.answer(error(404, "WorkflowNotFound"))
    ok, said = check(fake.url())
    assert not ok and said.startswith("The workflow was not found (HTTP 404)") and SIGNATURE not in said
    fake.answer(Answer(502))
    ok, said = check(fake.url())
    assert not ok and said.endswith("This may pass on its own: check again in a few minutes.")
    assert check(f"http://teams.example/{PATH}?sig={SIGNATURE}") == (
        False, "The URL does not hold an https:// address (copy the whole URL Teams shows for the workflow).")
    assert check("not a url at all") == (False, "The URL is not a URL (it holds spaces or control characters, or "
                                                "is too long).")


# -- through the outbox, on a real database ----------------------------------------------------------------------

@pytest.fixture
def council(fake: FakeWorkflows, tmp_path: Path, database_url: str, engine: sa.Engine) -> App:
    """The intake deployment with a Teams channel for the council, its URL the fake's, on the test's database."""
    extra = '[[teams]]\nname = "council"\norganisation = "example-council"\nurl_env = "KPIBOT_TEAMS_URL_COUNCIL"\n'
    settings = deployment(tmp_path, database_url)
    text = Path(settings.source).read_text(encoding="utf-8") + extra
    Path(settings.source).write_text(text, encoding="utf-8")
    app = App(config.load(settings.source, environ={"KPIBOT_TEAMS_URL_COUNCIL": fake.url()}))
    app.__dict__["engine"] = engine
    return app


def queue_card(engine: sa.Engine, card: Card = CARD_ONE, key: str = "digest:2025-W40:example-council:t-council:teams"
               ) -> int:
    with Session(engine) as session:
        row = OutboxMessage(dedupe_key=key, created_at=NOW, contact_id=None, channel="teams", address="council",
                            kind="digest", subject=card.title, body_text=card.plain(), next_attempt_at=NOW,
                            headers={CARD: card.to_json()})
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def row(engine: sa.Engine, message_id: int) -> OutboxMessage:
    with Session(engine) as session:
        found = session.get(OutboxMessage, message_id)
        assert found is not None
        return found


def dispatcher_for(app: App, fake: FakeWorkflows, time: FakeTime, timeout: float = 5.0) -> Dispatcher:
    transport = TeamsTransport({"council": Webhook("KPIBOT_TEAMS_URL_COUNCIL", fake.url())}, timeout=timeout,
                               clock=time.clock, sleep=time.sleep)
    return Dispatcher(app.engine, {"teams": transport}, FileStore(app.settings.storage.files_dir))


def test_429_and_502_the_card_arrives_once_later(council: App, fake: FakeWorkflows, time: FakeTime) -> None:
    message_id = queue_card(council.engine)
    dispatcher = dispatcher_for(council, fake, time)
    fake.answer(error(429, "TooManyRequests", **{"Retry-After": "7"}), Answer(502))
    dispatcher.run_once(NOW)
    waiting = row(council.engine, message_id)
    assert (waiting.status, waiting.next_attempt_at) == ("pending", NOW + timedelta(seconds=7))
    dispatcher.run_once(NOW + timedelta(seconds=6))  # Teams said 7 seconds: nothing before
    assert len(fake.posts) == 1
    time.now += 7
    dispatcher.run_once(NOW + timedelta(seconds=7))
    waiting = row(council.engine, message_id)
    assert waiting.status == "pending" and "HTTP 502" in waiting.last_error
    assert waiting.next_attempt_at > NOW + timedelta(seconds=7)  # the outbox's back-off
    dispatcher.run_once(waiting.next_attempt_at)
    for later in (timedelta(hours=1), timedelta(days=2)):  # a second run, or a restart, posts nothing more
        dispatcher_for(council, fake, time).run_once(NOW + later)
    assert [p.answered for p in fake.posts] == ["429", "502", "202"] and len(fake.delivered()) == 1
    assert row(council.engine, message_id).status == "sent"


def test_a_deleted_workflow_fails_the_card_and_shows_in_status(council: App, fake: FakeWorkflows,
                                                               time: FakeTime) -> None:
    message_id = queue_card(council.engine)
    fake.answer(error(404, "WorkflowNotFound"))
    dispatcher = dispatcher_for(council, fake, time)
    dispatcher.run_once(NOW)
    dispatcher.run_once(NOW + timedelta(days=1))  # not tried again
    failed = row(council.engine, message_id)
    assert failed.status == "failed" and failed.attempts == 1 and len(fake.posts) == 1
    assert "the workflow was not found (HTTP 404)" in failed.last_error
    lines = service_lines(council, NOW + timedelta(days=1))
    shown = "\n".join(lines)
    assert f"{message_id}: digest to council (teams), failed: the workflow was not found (HTTP 404)" in shown
    assert "  council (Example Council, every contract): FAILING: the last card (digest) failed: the workflow was " \
           "not found (HTTP 404)" in shown
    assert SIGNATURE not in shown and "127.0.0.1" not in shown
    with Session(council.engine) as session:
        events = session.exec(select(AuditEvent)).all()
        assert all(SIGNATURE not in str(e.detail) for e in events)
    dispatcher.retry(message_id, NOW + timedelta(days=1))
    dispatcher.run_once(NOW + timedelta(days=1))
    assert row(council.engine, message_id).status == "sent" and len(fake.delivered()) == 1


def test_a_send_killed_after_the_post_left_is_interrupted_not_resent(council: App, fake: FakeWorkflows,
                                                                    time: FakeTime) -> None:
    """The process claimed the card, posted it and died before recording it: it may be in the channel."""
    message_id = queue_card(council.engine)
    with Session(council.engine) as session:
        claimed = session.get(OutboxMessage, message_id)
        assert claimed is not None
        claimed.status, claimed.claimed_at, claimed.attempts = "sending", NOW, 1
        claimed.claimed_by = "elsewhere:1:1"  # another host: only its lease running out frees the message
        session.commit()
    dispatcher = dispatcher_for(council, fake, time)
    dispatcher.run_once(NOW + timedelta(minutes=5))  # its sender may still be at it
    assert row(council.engine, message_id).status == "sending"
    dispatcher.run_once(NOW + timedelta(hours=1))
    interrupted = row(council.engine, message_id)
    assert interrupted.status == "interrupted" and fake.posts == []
    assert f"`kpibot outbox retry {message_id}`" in interrupted.last_error
    assert "interrupted" in "\n".join(status_lines(council.engine, council.settings, NOW + timedelta(hours=1)))
    dispatcher.retry(message_id, NOW + timedelta(hours=2))
    dispatcher.run_once(NOW + timedelta(hours=2))
    assert len(fake.delivered()) == 1 and row(council.engine, message_id).status == "sent"


def test_no_answer_to_a_post_leaves_the_card_interrupted_for_an_operator(council: App, fake: FakeWorkflows,
                                                                         time: FakeTime) -> None:
    message_id = queue_card(council.engine)
    fake.answer(Answer(close=True))
    dispatcher = dispatcher_for(council, fake, time, timeout=2.0)
    dispatcher.run_once(NOW)
    for later in (timedelta(minutes=5), timedelta(days=1)):
        dispatcher.run_once(NOW + later)  # never sent again on its own
    interrupted = row(council.engine, message_id)
    assert interrupted.status == "interrupted" and len(fake.posts) == 1
    assert interrupted.last_error.startswith("the connection was cut before Teams answered")
    assert "It may have arrived" in interrupted.last_error and SIGNATURE not in interrupted.last_error
    with Session(council.engine) as session:
        assert [e.action for e in session.exec(select(AuditEvent))] == ["outbox_interrupted"]


def test_the_check_module_tests_each_configured_channel_from_its_variable(
        fake: FakeWorkflows, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    entries = "".join(f'\n[[teams]]\nname = "{name}"\norganisation = "{org}"\nurl_env = "KPIBOT_TEAMS_URL_{env}"\n'
                      for name, org, env in (("council", "example-council", "COUNCIL"),
                                             ("provider", "breathe-easy", "PROVIDER")))
    path = tmp_path / "config.toml"
    path.write_text(CH_STOP_SMOKING_CONFIG + entries, encoding="utf-8")
    monkeypatch.setenv("KPIBOT_CONFIG", str(path))
    monkeypatch.setenv("KPIBOT_TEAMS_URL_COUNCIL", fake.url())
    monkeypatch.delenv("KPIBOT_TEAMS_URL_PROVIDER", raising=False)
    assert main([]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "council: OK: Teams took the test card: it shows in the channel within a minute or so. If it does not, open "
        "the workflow's run history in Power Automate to see why.",
        "provider: FAILED: KPIBOT_TEAMS_URL_PROVIDER is not set in this environment."]
    assert main(["council"]) == 0 and len(fake.delivered()) == 2
    assert main(["nope"]) == 1 and capsys.readouterr().out.endswith("Error: no [[teams]] entry named nope\n")
