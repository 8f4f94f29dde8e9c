"""Email out: threading headers, RFC 3834 markings, the HTML alternative, and encryption (STARTTLS and TLS against
aiosmtpd on 127.0.0.1 with a certificate made for the test)."""

from __future__ import annotations

import email
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from mail_fixtures import Captured, self_signed
from services import free_port

from bot.channels.email.transport import EmailTransport
from bot.outbox.email_threads import reply_headers
from bot.outbox.transport import Outbound, TransportError

SENDER = "kpibot@council.example"


@pytest.mark.parametrize(("message_id", "references", "subject", "expected"), [
    ("<a@x>", "", "Q2 return", {"In-Reply-To": "<a@x>", "References": "<a@x>", "Subject": "Re: Q2 return"}),
    ("<b@x>", "<a@x>", "RE: Q2 return", {"In-Reply-To": "<b@x>", "References": "<a@x> <b@x>",
                                         "Subject": "RE: Q2 return"}),  # one Re:, however it is written
    ("<c@x>", "<a@x> junk <b@x> <c@x>", "AW: Rücklauf", {"In-Reply-To": "<c@x>", "References": "<a@x> <b@x> <c@x>",
                                                        "Subject": "AW: Rücklauf"}),
    ("no-message-id:ab12", "", "Q2", {"Subject": "Re: Q2"}),  # no id to refer to: the subject only
    ("<a@x>\r\nBcc: victim@example.org", "", "Q2\r\nBcc: x@y", {"Subject": "Re: Q2 Bcc: x@y"}),
    ("<d@x>", "", "", {"In-Reply-To": "<d@x>", "References": "<d@x>"}),
])
def test_a_reply_joins_the_thread_of_the_message_it_answers(message_id: str, references: str, subject: str,
                                                            expected: dict[str, str]) -> None:
    assert reply_headers(message_id, references, subject) == expected


def test_a_long_thread_keeps_its_first_and_latest_references() -> None:
    chain = " ".join(f"<m{i}@x>" for i in range(50))
    refs = reply_headers("<last@x>", chain, "s")["References"].split()
    assert len(refs) == 20 and refs[0] == "<m0@x>" and refs[-2:] == ["<m49@x>", "<last@x>"]


def build(kind: str = "reply", **headers: str) -> email.message.EmailMessage:
    return EmailTransport("127.0.0.1", 25, SENDER).build(Outbound(
        "alice@example.org", "Return accepted", "Result: Accepted <b>& more</b>\n\nLine two", kind=kind,
        message_id="kpibot-outbox-3", headers=headers))


def test_a_reply_is_marked_auto_replied_and_a_notice_auto_generated() -> None:
    reply = build(**{"In-Reply-To": "<q2@x>", "References": "<q2@x>", "Subject": "Re: Q2 2025-26 return",
                     "Bcc": "someone@example.org"})
    assert (reply["Subject"], reply["In-Reply-To"], reply["Auto-Submitted"], reply["X-Auto-Response-Suppress"]) == (
        "Re: Q2 2025-26 return", "<q2@x>", "auto-replied", "All")
    assert reply["Bcc"] is None  # only the threading headers are taken from the stored row
    assert reply["Message-ID"] == "<kpibot-outbox-3@council.example>" and reply["Date"]
    notice = build(kind="reminder")
    assert (notice["Subject"], notice["Auto-Submitted"]) == ("Return accepted", "auto-generated")


def test_the_html_alternative_is_the_text_escaped() -> None:
    html = build().get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Result: Accepted &lt;b&gt;&amp; more&lt;/b&gt;" in html and "<b>" not in html
    assert "white-space:pre-wrap" in html


def test_an_address_no_retry_can_mend_fails_for_good() -> None:
    with pytest.raises(TransportError) as info:
        EmailTransport("127.0.0.1", free_port(), SENDER).send(Outbound("a@b.example\r\nBcc: c@d.example", "s", "t"))
    assert info.value.permanent


# ----------------------------------------------------------------------------- encryption

@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (key, cert)."""
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[int, Captured]]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(str(certificate[1]), str(certificate[0]))
    inbox, port = Captured(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=server_context,
                            require_starttls=True)
    controller.start()
    yield port, inbox
    controller.stop()


def trusting(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[1]))


def test_starttls_is_used_by_default_with_the_certificate_checked(starttls_server: tuple[int, Captured],
                                                                  certificate: tuple[Path, Path]) -> None:
    port, inbox = starttls_server
    EmailTransport("127.0.0.1", port, SENDER, context=trusting(certificate)).send(Outbound("a@b.example", "s", "t"))
    assert len(inbox.messages) == 1
    with pytest.raises(TransportError) as info:  # a certificate nobody vouches for is refused
        EmailTransport("127.0.0.1", port, SENDER).send(Outbound("a@b.example", "s", "t"))
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value) and not info.value.permanent


def test_a_server_without_starttls_gets_nothing_in_clear() -> None:
    inbox, port = Captured(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with pytest.raises(TransportError) as info:
            EmailTransport("127.0.0.1", port, SENDER).send(Outbound("a@b.example", "s", "t"))
    finally:
        controller.stop()
    assert "does not offer STARTTLS" in str(info.value) and not info.value.permanent
    assert inbox.messages == []


def test_implicit_tls(certificate: tuple[Path, Path]) -> None:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(str(certificate[1]), str(certificate[0]))
    inbox, port = Captured(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=server_context)
    controller.start()
    try:
        EmailTransport("127.0.0.1", port, SENDER, security="tls", context=trusting(certificate)).send(
            Outbound("a@b.example", "s", "t"))
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
