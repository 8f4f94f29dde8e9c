"""Fuzzing the email channel (issue 14, point 7): whatever the headers and MIME structure, it never crashes, never
answers what it must not (automatic mail, bounces, lists, unknown or several senders, kpibot itself), and answers a
registered sender at most once per file, in the thread. Real intake and a real SQLite database."""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from intake_fixtures import ALICE, NOW, sample_csv
from mail_fixtures import KPIBOT, email_settings, fetched, with_email  # noqa: F401
from sqlmodel import Session, col, func, select

from bot import config
from bot.channels.email.message import parse
from bot.channels.email.processing import Processor
from bot.intake.service import Intake
from bot.storage.models import InboundMail, OutboxMessage

REGISTERED = {ALICE, "dave@breathe-easy.example", "bob@turning-point.example", "carol@example-council.example"}
SENDERS = [f"Alice <{ALICE}>", "dave@breathe-easy.example", "stranger@elsewhere.example", KPIBOT,
           "MAILER-DAEMON@mx.example.org", "postmaster@breathe-easy.example", "", "not an address",
           f"{ALICE}, bob@turning-point.example", "=?utf-8?b?w4FsaWNl?= <ALICE@BREATHE-EASY.EXAMPLE>",
           "alice+x@breathe-easy.example"]
SILENT_HEADERS = {  # a header and value that forbid any answer (RFC 3834)
    "Auto-Submitted": ["auto-replied", "auto-generated", "AUTO-NOTIFIED", "auto-replied; owner=x"],
    "Precedence": ["bulk", "list", "junk", "Bulk"],
    "List-Id": ["<returns.lists.example>"],
    "X-Autoreply": ["yes"],
    "Return-Path": ["<>"],
    "X-Failed-Recipients": [ALICE],
}
HARMLESS_HEADERS = {
    "Auto-Submitted": ["no", "No"],
    "Precedence": ["first-class"],
    "Return-Path": [f"<{ALICE}>"],
    "References": ["<a@x> <b@x>", "junk", "<kpibot-outbox-1@council.example>"],
    "In-Reply-To": ["<kpibot-outbox-2@council.example>", "<x@y>"],
    "Authentication-Results": ["mx.council.example; dmarc=pass", "mx.council.example; dmarc=fail"],
    "Content-Transfer-Encoding": ["base64", "quoted-printable", "8bit", "x-unknown"],
}
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
line = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=60)
names = st.sampled_from(["q2.xlsx", "Q2 RETURN.XLSX", "return.csv", "logo.png", "letter.pdf", "", "x.xlsm",
                         "../../etc/passwd.csv", "=?utf-8?q?r=C3=BCckl.xlsx?=", "a\u202ecsv.exe", "data.ods"])
payloads = st.one_of(st.binary(max_size=200), st.just(sample_csv()), st.just(b"PK\x03\x04" + b"\0" * 40))


@st.composite
def mime(draw: st.DrawFn, depth: int = 0) -> str:
    """A MIME entity: a leaf (text, a file, a broken part) or a multipart of them, nested a little."""
    kind = draw(st.sampled_from(["text", "file", "file", "broken"] + (["multipart", "rfc822"] if depth < 2 else [])))
    if kind == "text":
        return f"Content-Type: text/{draw(st.sampled_from(['plain', 'html']))}; charset=" \
               f"{draw(st.sampled_from(['utf-8', 'latin-1', 'x-unknown']))}\n\n{draw(text)}\n"
    if kind == "file":
        name = draw(names)
        content_type = draw(st.sampled_from(["application/octet-stream", "text/csv", "image/png",
                                             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"]))
        disposition = f'attachment; filename="{name}"' if name else draw(st.sampled_from(["attachment", "inline"]))
        body = base64.encodebytes(draw(payloads)).decode()
        return (f"Content-Type: {content_type}\nContent-Disposition: {disposition}\n"
                f"Content-Transfer-Encoding: base64\n\n{body}")
    if kind == "broken":
        return draw(st.sampled_from([
            "Content-Type: multipart/mixed\n\nno boundary at all\n",
            "Content-Type: application/pdf; name=x.csv\nContent-Transfer-Encoding: base64\n\n!!!not base64!!!\n",
            "Content-Type: text/csv\nContent-Disposition: attachment; filename*=utf-8''%E2%82%ACbad%ZZ.csv\n\n1,2\n",
            "Content-Type: message/rfc822\n\n",
        ]))
    if kind == "rfc822":
        return f"Content-Type: message/rfc822\n\nFrom: {ALICE}\nSubject: fwd\n{draw(mime(depth + 1))}"
    boundary = f"b{depth}{draw(st.integers(0, 99))}"
    subtype = draw(st.sampled_from(["mixed", "alternative", "related", "report"]))
    parts = draw(st.lists(mime(depth + 1), min_size=0, max_size=3))
    body = "".join(f"--{boundary}\n{part}\n" for part in parts) + f"--{boundary}--\n"
    return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n\n{body}'


@dataclass(frozen=True)
class Drawn:
    raw: bytes
    sender: str
    silent: bool  # what the test put in forbids any answer
    report: bool = False  # a multipart/report at the top: a delivery or read report, never answered


@st.composite
def emails(draw: st.DrawFn, answerable: bool = False) -> Drawn:
    """An email from anyone, automatic or not; `answerable`: an ordinary one from Alice (only its MIME varies)."""
    sender = SENDERS[0] if answerable else draw(st.sampled_from(SENDERS))
    headers: list[tuple[str, str]] = [("From", sender)] if sender else []
    if answerable:  # as the council's mail server delivers it, with its own DMARC result on top
        headers.insert(0, ("Authentication-Results", "mx.council.example; dmarc=pass header.from=breathe-easy.example"))
    silent = None if answerable else draw(st.sampled_from([None] * len(SILENT_HEADERS) + sorted(SILENT_HEADERS)))
    if silent is not None:
        headers.append((silent, draw(st.sampled_from(SILENT_HEADERS[silent]))))
    harmless = [h for h in sorted(HARMLESS_HEADERS) if not (answerable and h == "Authentication-Results")]
    for name in draw(st.lists(st.sampled_from(harmless), max_size=3, unique=True)):
        if name != silent:
            headers.append((name, draw(st.sampled_from(HARMLESS_HEADERS[name]))))
    message_id = draw(st.sampled_from(["<m@breathe-easy.example>", "", "<" + "x" * 300 + "@y>", "garbage"])
                      | st.integers(0, 10**6).map(lambda n: f"<m{n}@breathe-easy.example>"))
    if message_id:
        headers.append(("Message-ID", message_id))
    headers.append(("Subject", draw(line | st.sampled_from(["Q2 2025-26 return", "=?utf-8?b?UTI=?= 2025-26"]))))
    if draw(st.booleans()):  # the usual shape: a body and some attachments
        parts = ["Content-Type: text/plain\n\nPlease find our return attached.\n", *draw(st.lists(mime(1),
                                                                                               max_size=3))]
        entity = 'Content-Type: multipart/mixed; boundary="top"\n\n' + "".join(
            f"--top\n{part}\n" for part in parts) + "--top--\n"
    else:  # any shape at all
        entity = draw(mime())
    raw = "".join(f"{name}: {value}\n" for name, value in headers) + "MIME-Version: 1.0\n" + entity
    bare = sender.split("<")[-1].strip(">").strip().lower()
    # kpibot itself, a mail daemon, a multipart/report: silent whatever else the message says
    silent_by_sender = bare in (KPIBOT, "mailer-daemon@mx.example.org", "postmaster@breathe-easy.example")
    top_report = entity.startswith("Content-Type: multipart/report")
    return Drawn(raw.encode("utf-8", "surrogateescape"), sender,
                 silent is not None or silent_by_sender or top_report or "," in sender or "@" not in sender,
                 top_report)


def outbox(intake: Intake) -> list[OutboxMessage]:
    with Session(intake.engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))))


UIDS = itertools.count(1)
FUZZ = hypothesis_settings(max_examples=100, deadline=None, derandomize=True,
                           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@FUZZ
@given(message=emails())
def test_no_message_crashes_the_channel_or_gets_an_answer_it_must_not(intake: Intake, settings: config.Settings,
                                                                     message: Drawn) -> None:
    uid = next(UIDS)  # each example is a new message in the mailbox
    process = Processor(intake.engine, intake, with_email(settings, max_replies_per_hour=1000), clock=lambda: NOW)
    before = len(outbox(intake))
    assert process.handle(fetched(message.raw, uid=uid)) is True  # raises nothing; no cap in the way: recorded
    new = outbox(intake)[before:]
    with Session(intake.engine) as session:  # --hypothesis-show-statistics shows how the examples were handled
        event(session.exec(select(InboundMail.outcome).where(InboundMail.uid == uid)).first() or "?")
    if message.silent:
        assert new == []
    for row in new:
        assert row.address.lower() in REGISTERED  # never a stranger, a daemon or kpibot itself
        assert row.kind in ("reply", "notice")
        if row.kind == "reply":
            assert row.address == ALICE or row.address == "dave@breathe-easy.example"
    files = len(parse(message.raw).attachments)
    assert len([r for r in new if r.kind == "reply"]) <= max(files, 1)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@FUZZ
@given(message=emails(answerable=True))
def test_an_ordinary_email_from_a_contact_is_answered_once_per_file_in_its_thread(
        intake: Intake, settings: config.Settings, message: Drawn) -> None:
    uid = next(UIDS)
    parsed = parse(message.raw)
    before = len(outbox(intake))
    assert Processor(intake.engine, intake, with_email(settings, max_replies_per_hour=1000),
                     clock=lambda: NOW).handle(fetched(message.raw, uid=uid))
    with Session(intake.engine) as session:
        outcome = session.exec(select(InboundMail.outcome).where(InboundMail.uid == uid)).one()
    event(outcome)
    new = outbox(intake)[before:]
    assert {r.address for r in new} <= {ALICE} and {r.kind for r in new} <= {"reply"}
    if message.report:
        assert outcome == "ignored:bounce" and new == []
        return
    returns = [a for a in parsed.attachments if a.filename.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods",
                                                                            ".csv"))]
    if outcome == "processed":
        assert 1 <= len(new) <= len(returns)  # one reply per file (none for a file sent before: already answered)
    elif outcome == "no return":
        assert not returns and len(new) == 1 and "no return attached" in new[0].body_text
    else:
        assert outcome in ("duplicate", "no return (answers kpibot)") and new == []
    for row in new:
        assert row.headers.get("Subject", "").startswith("Re:") or not parsed.subject
        if parsed.message_id.startswith("<"):
            assert row.headers["In-Reply-To"] == parsed.message_id


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@FUZZ
@given(message=emails(), cut=st.integers(0, 400), noise=st.binary(min_size=0, max_size=30))
def test_a_damaged_message_never_crashes_the_channel(intake: Intake, settings: config.Settings, message: Drawn,
                                                     cut: int, noise: bytes) -> None:
    raw = message.raw[:cut] + noise + message.raw[cut:]
    before = len(outbox(intake))
    Processor(intake.engine, intake, settings, clock=lambda: NOW).handle(fetched(raw, uid=next(UIDS)))
    for row in outbox(intake)[before:]:
        assert row.address.lower() in REGISTERED


@FUZZ
@given(raw=st.binary(max_size=2000))
def test_any_bytes_parse_without_raising(raw: bytes) -> None:
    message = parse(raw)
    assert message.message_id and all("@" in s for s in message.senders)
    assert "\n" not in message.subject and "\r" not in message.subject


def test_the_fuzzer_would_catch_an_answer_to_automatic_mail(intake: Intake, settings: config.Settings) -> None:
    """The invariant above can fail: a message it calls silent, if answered, would show up as a new row."""
    raw = (f"Authentication-Results: mx.council.example; dmarc=pass\nFrom: {ALICE}\nAuto-Submitted: auto-replied\n"
           "Message-ID: <x@y>\nSubject: hi\n\nhello\n").encode()
    Processor(intake.engine, intake, settings, clock=lambda: NOW).handle(fetched(raw))
    with Session(intake.engine) as session:
        assert session.exec(select(func.count()).select_from(OutboxMessage)).one() == 0
    raw = raw.replace(b"Auto-Submitted: auto-replied\n", b"").replace(b"<x@y>", b"<x2@y>")
    Processor(intake.engine, intake, settings, clock=lambda: NOW).handle(fetched(raw, uid=2))
    assert [r.address for r in outbox(intake)] == [ALICE]  # the same message, not automatic: answered
