"""Reading an email and judging it from its headers: parsing (bodies, files, encodings) and the rules (RFC 3834,
DMARC as Microsoft 365 and Google Workspace write it)."""

from __future__ import annotations

import pytest
from mail_fixtures import build

from bot.channels.email.message import Inbound, parse
from bot.channels.email.rules import dmarc_result, is_return_file, replies_to_us, silent_reason

M365 = ("spf=pass (sender IP is 40.107.1.2) smtp.mailfrom=breathe-easy.example; dkim=pass (signature was verified) "
        "header.d=breathe-easy.example;dmarc={} action=none header.from=breathe-easy.example;compauth=pass reason=100")
GOOGLE = ("mx.google.com; dkim=pass header.i=@breathe-easy.example; spf=pass (google.com: domain of x designates "
          "1.2.3.4 as permitted sender) smtp.mailfrom=x@breathe-easy.example; dmarc={} (p=REJECT sp=REJECT "
          "dis=NONE) header.from=breathe-easy.example")


def with_results(*values: str) -> Inbound:
    return Inbound("<a@b>", ("alice@breathe-easy.example",), "s", "",
                   headers={"authentication-results": tuple(values)})


@pytest.mark.parametrize(("values", "authserv", "expected"), [
    ((M365.format("pass"),), "microsoft365", "pass"),  # Microsoft 365 writes no server id
    ((M365.format("bestguesspass"),), "microsoft365", "bestguesspass"),  # no DMARC record published: not a pass
    ((GOOGLE.format("pass"),), "mx.google.com", "pass"),
    ((GOOGLE.format("fail"),), "MX.Google.com", "fail"),
    (("mx.council.example; spf=pass smtp.mailfrom=x",), "mx.council.example", None),  # no DMARC check made
    ((), "mx.council.example", None),
    # only the topmost header is the receiving server's; one lower down may be the sender's own forgery
    (("mx.council.example; dmarc=fail", "mx.council.example; dmarc=pass"), "mx.council.example", "fail"),
    # issue 19: a header the sender wrote is never believed, whatever it claims
    (("evil.example; dmarc=pass",), "mx.google.com", None),
    (("evil.example; dmarc=pass",), "microsoft365", None),
    (("spf=pass; dmarc=pass",), "mx.google.com", None),  # Microsoft's shape, where the server writes its id
    ((GOOGLE.format("pass"),), "microsoft365", None),
    ((GOOGLE.format("pass"),), "", None),  # no server named: nothing can be believed
    (("evil.example; dmarc=pass", GOOGLE.format("pass")), "mx.google.com", None),  # the topmost is not the server's
])
def test_the_dmarc_result_is_the_receiving_servers(values: tuple[str, ...], authserv: str,
                                                   expected: str | None) -> None:
    assert dmarc_result(with_results(*values), authserv) == expected


def test_it_reads_encoded_subjects_file_names_and_forwarded_files() -> None:
    raw = (b"From: =?utf-8?q?Ren=C3=A9e?= <Renee@Breathe-Easy.example>\n"
           b"Subject: =?utf-8?b?UTIgcmV0dXJuIOKAkyBKdWx5?=\nMessage-ID: <m1@x>\nReferences: <a@x>\n <b@x> junk\n"
           b"Content-Type: multipart/mixed; boundary=\"o\"\n\n--o\nContent-Type: text/plain\n\nHello\n"
           b"--o\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\n"
           b"Content-Disposition: attachment; filename*=utf-8''R%C3%BCckmeldung%20Q2.xlsx\n"
           b"Content-Transfer-Encoding: base64\n\nUEsDBA==\n"
           b"--o\nContent-Type: text/csv\n\n1,2\n"
           b"--o\nContent-Type: message/rfc822\n\nFrom: x@y\nSubject: fwd\nContent-Type: multipart/mixed; boundary=i"
           b"\n\n--i\nContent-Type: text/csv\nContent-Disposition: attachment; filename=inner.csv\n\na,b\n--i--\n"
           b"--o--\n")
    message = parse(raw)
    assert (message.sender, message.subject, message.references) == ("renee@breathe-easy.example",
                                                                     "Q2 return – July", "<a@x> <b@x>")
    assert [(a.number, a.filename) for a in message.attachments] == [
        (1, "Rückmeldung Q2.xlsx"), (2, "attachment-2.csv"), (3, "inner.csv")]
    assert message.attachments[0].data == b"PK\x03\x04"
    assert all(is_return_file(a) for a in message.attachments)


def test_a_header_cannot_smuggle_a_line_break_into_what_is_stored() -> None:
    raw = b"From: alice@breathe-easy.example\nSubject: =?utf-8?q?Q2=0D=0ABcc:_x@y?=\nMessage-ID: <m@x>\n\nhi\n"
    assert parse(raw).subject == "Q2 Bcc: x@y"


def test_a_message_without_a_message_id_gets_a_stable_one() -> None:
    raw = build(message_id=None)
    assert parse(raw).message_id.startswith("no-message-id:") and parse(raw).message_id == parse(raw).message_id


def test_an_answer_to_kpibot_is_recognised_by_kpibots_message_id() -> None:
    ours = Inbound("<a@b>", ("x@y",), "Re: Q2", "<q2@x> <kpibot-outbox-9@council.example>")
    theirs = Inbound("<a@b>", ("x@y",), "Re: Q2", "<q2@x> <kpibot-outbox-9@elsewhere.example>")
    assert replies_to_us(ours, "kpibot@council.example") and not replies_to_us(theirs, "kpibot@council.example")


@pytest.mark.parametrize(("headers", "expected"), [
    ({"auto-submitted": ("no",)}, None),
    ({"auto-submitted": ("No ; comment",)}, None),
    ({"auto-submitted": ("auto-notified",)}, "auto-submitted"),
    ({"precedence": ("first-class",)}, None),
    ({"precedence": ("list",)}, "precedence"),
    ({"list-unsubscribe": ("<mailto:x@y>",)}, "mailing list"),
    ({"x-auto-response-suppress": ("All",)}, None),  # Exchange puts it on ordinary mail too: not a marker
    ({"return-path": ("<alice@breathe-easy.example>",)}, None),
])
def test_the_rfc_3834_rules(headers: dict[str, tuple[str, ...]], expected: str | None) -> None:
    message = Inbound("<a@b>", ("alice@breathe-easy.example",), "s", "", headers=headers)
    assert silent_reason(message, ("kpibot@council.example",)) == expected
