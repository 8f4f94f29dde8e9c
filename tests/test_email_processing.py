"""What the email channel does with each message, on a real database (the mailbox itself: test_email_channel.py).

Alice (Breathe Easy, City and Hackney only) emails returns; Carol commissions; strangers and machines write too.
"""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
import sqlalchemy as sa
from intake_fixtures import ALICE, NOW, sample_csv
from mail_fixtures import KPIBOT, MAX_UPLOAD, build, email_settings, fetched, with_email  # noqa: F401
from sqlmodel import Session, col, select

from bot import config
from bot.channels.email.message import parse
from bot.channels.email.processing import Processor
from bot.channels.email.status import status_lines
from bot.intake.service import Intake
from bot.storage.models import Contact, InboundMail, OutboxMessage, Submission

LATER = NOW + timedelta(minutes=5)
CAROL = "carol@example-council.example"


def processor(intake: Intake, settings: config.Settings | None = None) -> Processor:
    return Processor(intake.engine, intake, settings or intake.settings, clock=lambda: LATER)


def rows(engine: sa.Engine, model: type) -> list:  # type: ignore[type-arg]
    with Session(engine) as session:
        return list(session.exec(select(model).order_by(col(model.id))))  # type: ignore[attr-defined]


def outcome(engine: sa.Engine) -> str:
    [mail] = rows(engine, InboundMail)
    return mail.outcome


def test_each_return_attached_is_one_submission_answered_in_the_thread(intake: Intake) -> None:
    raw = build(files=(("q2.csv", sample_csv()), ("bad.csv", sample_csv(overrides={("lost_4wk", ""): Fraction(-3)})),
                       ("logo.png", b"\x89PNG not a return")),
                headers={"References": "<first@breathe-easy.example>"})
    assert processor(intake).handle(fetched(raw)) is True
    subs = rows(intake.engine, Submission)
    assert [(s.filename, s.status, s.idempotency_key) for s in subs] == [
        ("q2.csv", "accepted", "email:<q2@breathe-easy.example>:1"),
        ("bad.csv", "rejected", "email:<q2@breathe-easy.example>:2")]  # the picture is not a return: not read
    assert {s.period_id for s in subs} == {"2025-26-Q2"}  # from the subject "Q2 2025-26 return"
    replies = rows(intake.engine, OutboxMessage)
    assert len(replies) == 2 and {r.address for r in replies} == {ALICE}
    for reply in replies:
        assert reply.headers == {"In-Reply-To": "<q2@breathe-easy.example>", "Subject": "Re: Q2 2025-26 return",
                                 "References": "<first@breathe-easy.example> <q2@breathe-easy.example>"}
    assert outcome(intake.engine) == "processed"


def test_the_same_message_seen_again_is_processed_once(intake: Intake) -> None:
    raw = build(files=(("q2.csv", sample_csv()),))
    process = processor(intake)
    assert process.handle(fetched(raw, uid=1, uidvalidity=7))
    assert process.handle(fetched(raw, uid=1, uidvalidity=7))  # not moved yet: recorded, so only moved now
    assert process.handle(fetched(raw, uid=40, uidvalidity=8))  # the server renumbered the folder
    assert len(rows(intake.engine, Submission)) == 1 and len(rows(intake.engine, OutboxMessage)) == 1
    assert [m.outcome for m in rows(intake.engine, InboundMail)] == ["processed", "duplicate"]


def test_a_message_id_used_again_for_another_message_is_a_new_message(intake: Intake) -> None:
    process = processor(intake)
    process.handle(fetched(build(files=(("q2.csv", sample_csv()),)), uid=1))
    process.handle(fetched(build(files=(("q2.csv", sample_csv(seed=2)),)), uid=2))  # same Message-ID, other file
    subs = rows(intake.engine, Submission)
    assert [s.version for s in subs] == [1, 2]
    assert subs[1].idempotency_key.startswith("email:<q2@breathe-easy.example> #")
    with Session(intake.engine) as session:  # each reply in its own message's thread
        assert {m.headers["In-Reply-To"] for m in session.exec(select(OutboxMessage))} == {"<q2@breathe-easy.example>"}


def test_a_file_handed_in_again_after_a_kill_before_the_record_is_one_submission(intake: Intake) -> None:
    """The intake committed, then the process died before the ledger did: the message is read again."""
    raw = build(files=(("q2.csv", sample_csv()),))
    processor(intake)._submit("<q2@breathe-easy.example>", parse(raw), NOW)
    assert processor(intake).handle(fetched(raw))
    assert len(rows(intake.engine, Submission)) == 1 and len(rows(intake.engine, OutboxMessage)) == 1


@pytest.mark.parametrize(("headers", "sender", "why"), [
    ({"Auto-Submitted": "auto-replied"}, ALICE, "auto-submitted"),
    ({"Auto-Submitted": "auto-generated; owner-email=x@y.example"}, ALICE, "auto-submitted"),
    ({"Precedence": "bulk"}, ALICE, "precedence"),
    ({"Precedence": "junk"}, ALICE, "precedence"),
    ({"List-Id": "<returns.lists.example>"}, ALICE, "mailing list"),
    ({"X-Autoreply": "yes"}, ALICE, "auto-reply"),
    ({"Return-Path": "<>"}, ALICE, "empty return path"),
    ({"X-Failed-Recipients": ALICE}, "someone@example.org", "bounce"),
    ({}, "MAILER-DAEMON@mx.example.org", "bounce"),
    ({}, "postmaster@breathe-easy.example", "bounce"),
    ({}, KPIBOT, "own address"),
    ({"From": "Alice <alice@breathe-easy.example>, Bob <bob@turning-point.example>"}, ALICE, "no single sender"),
])
def test_automatic_mail_and_bounces_are_never_answered_nor_read(intake: Intake, headers: dict[str, str],
                                                                 sender: str, why: str) -> None:
    raw = build(sender=sender, files=(("q2.csv", sample_csv()),), headers=headers)
    assert processor(intake).handle(fetched(raw))
    assert rows(intake.engine, Submission) == [] and rows(intake.engine, OutboxMessage) == []
    assert outcome(intake.engine) == f"ignored:{why}"


def test_a_delivery_report_is_not_even_downloaded(intake: Intake) -> None:
    report = (b"From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\nTo: kpibot@council.example\n"
              b"Subject: Undelivered Mail Returned to Sender\nMessage-ID: <dsn1@mx.example.org>\n"
              b"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\n--b--\n")

    def never() -> bytes:
        raise AssertionError("a bounce must be judged from its header alone")

    message = fetched(report)
    assert processor(intake).handle(type(message)(message.where, message.size, NOW, message.header, never))
    assert outcome(intake.engine) == "ignored:bounce"


def test_auto_submitted_no_is_an_ordinary_message(intake: Intake) -> None:
    processor(intake).handle(fetched(build(files=(("q2.csv", sample_csv()),), headers={"Auto-Submitted": "no"})))
    assert [s.status for s in rows(intake.engine, Submission)] == ["accepted"]


def test_an_unknown_sender_is_recorded_and_kept_but_never_answered(intake: Intake, settings: config.Settings) -> None:
    process = processor(intake)
    process.handle(fetched(build(sender="stranger@elsewhere.example", files=(("q2.csv", sample_csv()),))))
    process.handle(fetched(build(sender="stranger@elsewhere.example", message_id="<hello@elsewhere>"), uid=2))
    [sub] = rows(intake.engine, Submission)
    assert (sub.sender_address, sub.sender_contact_id, sub.reason) == ("stranger@elsewhere.example", None,
                                                                       "unknown sender")
    assert rows(intake.engine, OutboxMessage) == []
    lines = "\n".join(status_lines(intake.engine, settings, LATER))
    assert "Unknown sender stranger@elsewhere.example: 1 file(s), last 01 Oct 2025; not answered" in lines


def test_plus_addressing_is_not_the_same_address_and_case_is(intake: Intake) -> None:
    process = processor(intake)
    process.handle(fetched(build(sender="Alice+returns@breathe-easy.example", files=(("q2.csv", sample_csv()),))))
    process.handle(fetched(build(sender="ALICE@Breathe-Easy.example", message_id="<q2b@breathe-easy.example>",
                                 files=(("q2.csv", sample_csv(seed=3)),)), uid=2))
    subs = rows(intake.engine, Submission)
    assert [(s.sender_address, s.sender_contact_id is not None) for s in subs] == [
        ("alice+returns@breathe-easy.example", False), (ALICE, True)]


def test_a_message_without_a_return_gets_a_short_answer_saying_what_to_send(intake: Intake) -> None:
    process = processor(intake)
    raw = build(files=(("covering-letter.pdf", b"%PDF-1.4 letter"),))
    process.handle(fetched(raw))
    process.handle(fetched(raw, uid=9, uidvalidity=8))  # seen again after a renumbering: not answered twice
    [answer] = rows(intake.engine, OutboxMessage)
    assert (answer.address, answer.kind, answer.headers["In-Reply-To"]) == (ALICE, "reply", "<q2@breathe-easy.example>")
    assert "It had no return attached (it held covering-letter.pdf)" in answer.body_text
    assert "Your contracts: City and Hackney Stop Smoking Service (ch-stop-smoking)." in answer.body_text
    assert "Solihull" not in answer.body_text  # Alice may not see Breathe Easy's other contract
    assert rows(intake.engine, Submission) == []


def test_a_thank_you_to_kpibots_reply_is_not_answered(intake: Intake) -> None:
    raw = build(subject="Re: Q2 2025-26 return", message_id="<thanks@breathe-easy.example>", text="Thank you!",
                headers={"In-Reply-To": "<kpibot-outbox-12@council.example>",
                         "References": "<q2@breathe-easy.example> <kpibot-outbox-12@council.example>"})
    processor(intake).handle(fetched(raw))
    assert rows(intake.engine, OutboxMessage) == []
    assert outcome(intake.engine) == "no return (answers kpibot)"


def test_an_oversize_attachment_is_refused_by_the_intake_and_answered(intake: Intake) -> None:
    processor(intake).handle(fetched(build(files=(("q2.xlsx", b"PK\x03\x04" + b"x" * (MAX_UPLOAD + 10)),))))
    [sub] = rows(intake.engine, Submission)
    assert sub.status == "rejected" and sub.sha256 is None  # too large to keep
    [reply] = rows(intake.engine, OutboxMessage)
    assert "q2.xlsx is 65,550 bytes; the limit is 65,536 bytes" in reply.body_text


def test_a_message_too_large_to_open_is_answered_from_its_header(intake: Intake) -> None:
    raw = build(files=(("q2.xlsx", b"PK" + b"y" * (3 * MAX_UPLOAD)),))

    def never() -> bytes:
        raise AssertionError("an oversize message must not be downloaded")

    message = fetched(raw)
    processor(intake).handle(type(message)(message.where, message.size, NOW, message.header, never))
    [answer] = rows(intake.engine, OutboxMessage)
    assert "more than kpibot opens (0.2 MB)" in answer.body_text and answer.address == ALICE
    assert rows(intake.engine, Submission) == [] and outcome(intake.engine) == "too large"


def test_a_subject_naming_another_providers_contract_scores_nothing_of_theirs(intake: Intake) -> None:
    """Alice names Turning Point's contract in the subject: a word naming a contract not hers reads as any other
    word (whether such a contract exists is never told, issue 19), so her only contract is assumed; nothing is
    counted against theirs, and nothing of theirs is shown to her."""
    processor(intake).handle(fetched(build(subject="ch-substance-misuse Q2 2025-26", files=(("q2.csv",
                                                                                             sample_csv()),))))
    [sub] = rows(intake.engine, Submission)
    assert (sub.contract_id, sub.period_id, sub.status) == ("ch-stop-smoking", "2025-26-Q2", "accepted")
    [reply] = rows(intake.engine, OutboxMessage)
    assert "not one of your contracts" not in reply.body_text
    assert "substance" not in reply.body_text.lower() and "Turning Point" not in reply.body_text


def test_a_telegram_only_contact_is_not_accepted_by_email(intake: Intake) -> None:
    with Session(intake.engine) as session:
        session.execute(sa.update(Contact).where(col(Contact.email) == ALICE).values(channel="telegram"))
        session.commit()
    processor(intake).handle(fetched(build(files=(("q2.csv", sample_csv()),))))
    assert rows(intake.engine, Submission) == []
    [answer] = rows(intake.engine, OutboxMessage)
    assert "set up to come to kpibot by Telegram" in answer.body_text
    assert outcome(intake.engine) == "telegram only"


def dmarc(result: str, server: str = "mx.council.example") -> dict[str, str]:
    return {"Authentication-Results": f"{server}; spf=pass smtp.mailfrom=breathe-easy.example; dmarc={result} "
                                      "header.from=breathe-easy.example"}


def test_a_message_failing_dmarc_is_held_and_the_commissioner_told(intake: Intake, settings: config.Settings) -> None:
    processor(intake).handle(fetched(build(files=(("q2.csv", sample_csv()),), headers=dmarc("fail"))))
    assert rows(intake.engine, Submission) == []
    [notice] = rows(intake.engine, OutboxMessage)
    assert (notice.address, notice.kind) == (CAROL, "notice")  # the sender is not answered: it may be forged
    assert notice.body_text.startswith("An email from alice@breathe-easy.example (Alice, Breathe Easy CIC) was held")
    assert 'its DMARC check says "fail"' in notice.body_text
    assert outcome(intake.engine) == "held:dmarc fail"
    assert "held: the sender check (DMARC) failed" in "\n".join(status_lines(intake.engine, settings, LATER))


@pytest.mark.parametrize(("headers", "require", "scored"), [
    (dmarc("pass"), True, True),
    (dmarc("none"), True, False),  # no DMARC published: not proven either
    (dmarc("fail"), False, True),  # the policy is off
    # issue 19: 'mail with a provider's From and no Authentication-Results header is scored'
    ({"Authentication-Results": None}, True, False),
    ({"Authentication-Results": None}, False, True),
    # issue 19: '... so is mail carrying a sender-written "Authentication-Results: evil.example; dmarc=pass"'
    ({"Authentication-Results": "evil.example; dmarc=pass header.from=breathe-easy.example"}, True, False),
    # the sender's forged "pass" is below the receiving server's own "fail": only the topmost counts
    ({"Authentication-Results": "mx.council.example; dmarc=fail header.from=breathe-easy.example",
      "X-Spacer": "1"}, True, False),
])
def test_the_dmarc_policy(intake: Intake, settings: config.Settings, headers: dict[str, str | None], require: bool,
                          scored: bool) -> None:
    raw = build(files=(("q2.csv", sample_csv()),), headers=headers)
    raw = raw.replace(b"X-Spacer: 1", b"Authentication-Results: mx.council.example; dmarc=pass")
    custom = with_email(settings, require_dmarc_pass=require)
    processor(intake, custom).handle(fetched(raw))
    assert bool(rows(intake.engine, Submission)) is scored
    if not scored:
        assert outcome(intake.engine).startswith("held:dmarc ")


def test_mail_whose_receiving_server_recorded_no_result_is_held_and_the_commissioner_told(
        intake: Intake, settings: config.Settings) -> None:
    """docs/email.md promises 'a message whose receiving server did not record dmarc=pass ... is held'."""
    processor(intake).handle(fetched(build(files=(("q2.csv", sample_csv()),), headers={
        "Authentication-Results": "evil.example; dmarc=pass"})))
    assert rows(intake.engine, Submission) == []
    [notice] = rows(intake.engine, OutboxMessage)
    assert (notice.address, notice.kind) == (CAROL, "notice")
    assert "recorded no DMARC result for it" in notice.body_text
    assert outcome(intake.engine) == "held:dmarc missing"
    assert "held: no sender check (DMARC) from the council's mail server" in "\n".join(
        status_lines(intake.engine, settings, LATER))


def test_replies_to_one_address_are_capped_and_a_return_waits_its_turn(intake: Intake,
                                                                      settings: config.Settings) -> None:
    capped = Processor(intake.engine, intake, with_email(settings, max_replies_per_hour=2), clock=lambda: clock[0])
    clock = [LATER]
    done = [capped.handle(fetched(build(message_id=f"<r{i}@breathe-easy.example>", files=(
        ("q2.csv", sample_csv(seed=i)),)), uid=i)) for i in range(1, 4)]
    assert done == [True, True, False]  # the third waits in the mailbox...
    assert capped.handle(fetched(build(message_id="<hi@breathe-easy.example>", text="Hello?"), uid=4))
    assert outcome_of(intake.engine, 4) == "no return, capped"  # ...a message without a return is not answered
    assert len(rows(intake.engine, OutboxMessage)) == 2
    with Session(intake.engine) as session:  # the two replies go out
        session.execute(sa.update(OutboxMessage).values(status="sent", sent_at=LATER))
        session.commit()
    clock[0] = LATER + timedelta(minutes=61)
    assert capped.handle(fetched(build(message_id="<r3@breathe-easy.example>", files=(
        ("q2.csv", sample_csv(seed=3)),)), uid=3))  # an hour later it is read and answered
    assert len(rows(intake.engine, Submission)) == 3


def outcome_of(engine: sa.Engine, uid: int) -> str:
    with Session(engine) as session:
        return session.exec(select(InboundMail.outcome).where(InboundMail.uid == uid)).one()


def test_a_message_that_keeps_failing_is_recorded_as_failed_and_moved(intake: Intake,
                                                                      settings: config.Settings) -> None:
    raw = build(files=(("q2.csv", sample_csv()),))
    message = fetched(raw)

    def broken() -> bytes:
        raise RuntimeError("the connection dropped mid-message")

    process = processor(intake)
    failing = type(message)(message.where, message.size, NOW, message.header, broken)
    assert [process.handle_safely(failing) for _ in range(3)] == [False, False, True]
    assert outcome(intake.engine) == "failed"
    assert "could not be processed (see the log)" in "\n".join(status_lines(intake.engine, settings, LATER))


def test_status_says_whether_the_mailbox_is_being_read(intake: Intake, settings: config.Settings) -> None:
    from bot.processes.heartbeats import beat

    def mailbox_line() -> str:
        return status_lines(intake.engine, settings, LATER)[2]

    assert mailbox_line() == "  Mailbox kpibot@council.example: not read yet (is `kpibot run` running?)"
    beat(intake.engine, "email", LATER, {"found": 0, "error": ""})
    assert mailbox_line() == "  Mailbox kpibot@council.example: read, last checked 01 Oct 2025 10:05."
    beat(intake.engine, "email", LATER, {"found": -1, "error": "refused the login"})
    assert mailbox_line().endswith("NOT READ. The last try (01 Oct 2025 10:05) failed: refused the login")
    beat(intake.engine, "email", LATER - timedelta(hours=2), {"found": 0, "error": ""})
    assert "not checked since 01 Oct 2025 08:05 (is `kpibot run` running?)" in mailbox_line()
    assert status_lines(intake.engine, with_email(settings, imap_user=""), LATER)[2].startswith(
        "  No mailbox is configured")


def test_status_has_no_email_part_where_no_mailbox_was_ever_read(intake: Intake, settings: config.Settings) -> None:
    assert status_lines(intake.engine, with_email(settings, imap_user=""), LATER) == []


def test_a_contacts_channel_comes_from_the_configuration(intake: Intake, settings: config.Settings) -> None:
    from bot.storage.sync import sync_settings

    contacts = tuple(c.model_copy(update={"channel": "telegram"}) if c.email == ALICE else c for c in settings.contacts)
    with Session(intake.engine) as session:
        assert sync_settings(session, settings.model_copy(update={"contacts": contacts}), NOW)["contacts"] == 1
        session.commit()
        assert session.exec(select(Contact.channel).where(Contact.email == ALICE)).one() == "telegram"
