"""Mail for the email channel's tests: a real Dovecot IMAP server (one per session, a fresh mailbox per test), a
real SMTP server (aiosmtpd) capturing what kpibot sends, and a builder for the emails providers send.

The deployment is intake_fixtures.py's (Alice, Dave and Bob submit, Carol commissions), with kpibot's mailbox
kpibot@council.example, files up to 64 KB (so messages over 192 KB are not opened), and plain IMAP and SMTP on
127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import email
import imaplib
import ipaddress
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage, Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from intake_fixtures import NOW, deployment
from services import DOVECOT_PASSWORD, Dovecot, free_port, start_dovecot, started

from bot import config
from bot.channels.email.ledger import Location
from bot.channels.email.processing import Fetched
from bot.channels.email.reading import Mailbox

KPIBOT = "kpibot@council.example"
RECEIVING_SERVER = "mx.council.example"  # the council's mail server: it adds the topmost Authentication-Results
MAX_UPLOAD = 64 * 1024
_users = itertools.count(1)
EMAIL_SETTINGS = f"""
[email]
imap_host = "127.0.0.1"
imap_port = 143
imap_user = "{KPIBOT}"
imap_security = "plain"
smtp_host = "127.0.0.1"
smtp_security = "plain"
from_address = "{KPIBOT}"
authserv_id = "{RECEIVING_SERVER}"

[intake]
max_upload_bytes = {MAX_UPLOAD}
"""


def mail_deployment(tmp_path: Path, database_url: str, with_pdf: bool = False, extra: str = "") -> config.Settings:
    return deployment(tmp_path, database_url, f"[reports]\nattach_pdf = {str(with_pdf).lower()}\n"
                                               + EMAIL_SETTINGS + extra)


def with_email(settings: config.Settings, **changes: object) -> config.Settings:
    """The settings with some [email] values changed (e.g. the mailbox a test reads)."""
    return settings.model_copy(update={"email": settings.email.model_copy(update=changes)})


def build(sender: str = "alice@breathe-easy.example", subject: str = "Q2 2025-26 return",
          files: tuple[tuple[str, bytes], ...] = (), message_id: str | None = "<q2@breathe-easy.example>",
          headers: dict[str, str | None] | None = None, text: str = "Please find our return attached.") -> bytes:
    """An email as a provider's mail client sends it, as the council's mail server delivers it (with its own
    Authentication-Results on top, saying DMARC passed). A header given replaces the usual one; None removes it."""
    mail = EmailMessage()
    domain = sender.rsplit("@", 1)[-1]
    mail["Authentication-Results"] = (f"{RECEIVING_SERVER}; spf=pass smtp.mailfrom={domain}; dkim=pass "
                                      f"header.d={domain}; dmarc=pass header.from={domain}")
    mail["From"] = f"Sender <{sender}>"
    mail["To"] = KPIBOT
    mail["Subject"] = subject
    mail["Date"] = "Wed, 01 Oct 2025 10:00:00 +0100"
    if message_id:
        mail["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        del mail[name]  # a header given replaces the usual one
        if value is not None:
            mail[name] = value
    mail.set_content(text)
    for name, data in files:
        maintype, subtype = {"xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                             "csv": ("text", "csv"), "pdf": ("application", "pdf"),
                             "png": ("image", "png")}.get(name.rsplit(".", 1)[-1], ("application", "octet-stream"))
        if maintype == "text":
            mail.add_attachment(data.decode(), subtype=subtype, filename=name)
        else:
            mail.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return mail.as_bytes()


def fetched(raw: bytes, uid: int = 1, uidvalidity: int = 7, account: str = "kpibot@council.example@test",
            arrived: datetime = NOW) -> Fetched:
    """A message as the mailbox would hand it over, without a server (for tests of the decisions alone)."""
    head = raw.split(b"\n\n", 1)[0] + b"\n\n"
    return Fetched(Location(account, "INBOX", uidvalidity, uid), len(raw), arrived, head, lambda: raw)


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 in `folder` (key, cert), for TLS to the test servers."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return folder / "key.pem", folder / "cert.pem"


# ----------------------------------------------------------------------------- IMAP

@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    server = started("Dovecot", start_dovecot)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class MailServer:
    """One test's mailbox on the session's Dovecot."""

    port: int
    user: str

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(self.user, DOVECOT_PASSWORD)
        return client

    def deliver(self, raw: bytes, when: datetime = NOW, folder: str = "INBOX") -> None:
        """Put a message in the mailbox as the mail server delivering it would (IMAP APPEND, with its time)."""
        client = self.client()
        try:
            typ, data = client.append(folder, None, imaplib.Time2Internaldate(when), raw)
            assert typ == "OK", data
        finally:
            client.logout()

    def messages(self, folder: str) -> list[Message]:
        client = self.client()
        try:
            typ, _ = client.select(f'"{folder}"', readonly=True)
            if typ != "OK":
                return []
            _, data = client.uid("SEARCH", "ALL")
            found = []
            for uid in (data[0] or b"").split():
                _, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
                found.append(email.message_from_bytes(parts[0][1]))
            return found
        finally:
            client.logout()

    def settings(self, settings: config.Settings) -> config.Settings:
        """`settings` reading this mailbox."""
        return with_email(settings, imap_port=self.port, imap_user=self.user).model_copy(
            update={"imap_password": DOVECOT_PASSWORD})

    def mailbox(self, settings: config.Settings) -> Mailbox:
        return Mailbox(self.settings(settings).email, DOVECOT_PASSWORD, timeout=10)


@pytest.fixture
def mail_server(dovecot: Dovecot) -> MailServer:
    return MailServer(dovecot.port, f"kpibot{next(_users)}@council.example")


# ----------------------------------------------------------------------------- SMTP

@dataclass
class Captured:
    """An SMTP server that keeps what it is sent; `refuse` first answers that many messages with 451."""

    messages: list[Message] = field(default_factory=list)
    refused: list[Message] = field(default_factory=list)
    refuse: int = 0

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        message = email.message_from_bytes(envelope.content)
        if self.refuse > 0:
            self.refuse -= 1
            self.refused.append(message)
            return "451 4.3.0 try again later"
        self.messages.append(message)
        return "250 OK"


@dataclass
class SmtpServer:
    port: int
    inbox: Captured
    controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(free_port(), Captured())
    server.start()
    yield server
    server.stop()


@pytest.fixture(name="settings")
def email_settings(tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> config.Settings:
    """The deployment with kpibot's mailbox (import this into a test module to use it there as `settings`)."""
    return mail_deployment(tmp_path, database_url, request.node.get_closest_marker("with_pdf") is not None)
