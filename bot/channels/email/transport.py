"""Email out over SMTP: a plain-text body, the same text as HTML (from templates/messages/email.html), and the PDF.

- Every message says it was sent automatically (RFC 3834): `Auto-Submitted: auto-replied` on a reply to a message,
  `auto-generated` on everything else (reminders, notices), and asks Exchange not to answer it with an
  out-of-office (`X-Auto-Response-Suppress: All`).
- A reply continues the sender's thread: In-Reply-To, References and a `Re:` subject, worked out by
  `reply_headers` when the reply was queued and kept with its outbox row.
- Its Message-ID is the outbox row's, so a retried message is the same message to every mail client and server.
- With a token provider (`[email] auth = "oauth2"`), it signs in with XOAUTH2 instead of a password; a token the
  server refuses is replaced once, on the same connection.
- The connection is encrypted (STARTTLS or implicit TLS, certificates checked); `plain` only to this machine (the
  settings refuse it for any other host).
"""

from __future__ import annotations

import mimetypes
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from bot.channels.email.oauth import TokenError, TokenProvider, xoauth2
from bot.clock import utc_now
from bot.outbox.email_threads import MAX_SUBJECT, THREAD_HEADERS, one_line
from bot.outbox.transport import Outbound, TransportError
from bot.reports.templating import render_text  # no WeasyPrint: text needs none


class EmailTransport:
    def __init__(self, host: str, port: int, sender: str, user: str = "", password: str = "",
                 security: str = "starttls", timeout: float = 30, context: ssl.SSLContext | None = None,
                 clock: Callable[[], datetime] = utc_now, tokens: TokenProvider | None = None) -> None:
        """`security`: "starttls", "tls" (implicit) or "plain"; `context` the TLS settings (the system's trusted
        certificates by default); `tokens`: sign in as `user` with OAuth 2.0 (XOAUTH2) instead of `password`."""
        if security not in ("starttls", "tls", "plain"):
            raise ValueError(f"unknown SMTP security {security!r}")
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.security, self.timeout = user, password, security, timeout
        self.context = context
        self.clock = clock
        self.tokens = tokens

    def build(self, message: Outbound) -> EmailMessage:
        """The message as it goes out; raises ValueError for what no retry can mend (a malformed address)."""
        mail = EmailMessage()
        thread = {k: one_line(v, 4000) for k, v in message.headers.items() if k in THREAD_HEADERS}
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = thread.pop("Subject", "") or one_line(message.subject, MAX_SUBJECT)
        mail["Date"] = format_datetime(self.clock())
        domain = self.sender.rsplit("@", 1)[-1]
        mail["Message-ID"] = f"<{message.message_id}@{domain}>" if message.message_id else make_msgid(domain=domain)
        for name, value in thread.items():
            if value:
                mail[name] = value
        mail["Auto-Submitted"] = "auto-replied" if message.kind == "reply" else "auto-generated"
        mail["X-Auto-Response-Suppress"] = "All"
        mail.set_content(message.text)
        html = message.html or render_text("messages/email.html", text=message.text)
        mail.add_alternative(html, subtype="html")
        if message.attachment is not None:
            name = message.attachment_name or "attachment"
            kind = (mimetypes.guess_type(name)[0] or "application/octet-stream").split("/", 1)
            mail.add_attachment(message.attachment, maintype=kind[0], subtype=kind[1], filename=name)
        return mail

    def _connect(self) -> smtplib.SMTP:
        context = self.context or ssl.create_default_context()
        if self.security == "tls":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                smtp.close()
                raise TransportError(f"the SMTP server {self.host}:{self.port} does not offer STARTTLS, and kpibot "
                                     "does not send mail unencrypted (set [email] smtp_security)")
            smtp.starttls(context=context)
            smtp.ehlo()
        return smtp

    def _sign_in(self, smtp: smtplib.SMTP) -> None:
        if self.tokens is None:
            smtp.login(self.user, self.password)
            return
        smtp.ehlo_or_helo_if_needed()
        token = self.tokens.token()
        try:
            smtp.auth("XOAUTH2", _XOAuth2(self.user, token))
        except smtplib.SMTPAuthenticationError:
            smtp.auth("XOAUTH2", _XOAuth2(self.user, self.tokens.renew(token)))

    def send(self, message: Outbound) -> None:
        """Deliver `message`, or raise TransportError saying whose failure it is (RFC 5321's reply classes): a 4xx
        is temporary, a 5xx for the recipient is permanent for that recipient only, and a server that cannot be
        reached, refuses kpibot's sign-in or says it is unavailable (421) fails the whole channel."""
        try:
            mail = self.build(message)
        except (ValueError, TypeError) as exc:  # the same every time: retrying cannot help
            raise TransportError(f"cannot build an email to {message.address[:100]!r}: {exc}", permanent=True) from None
        try:
            with self._connect() as smtp:
                if self.user:
                    self._sign_in(smtp)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()), (0, b""))
            raise _refused(code, text, f"the server refused the recipient {message.address[:100]}") from None
        except TokenError as exc:
            raise TransportError(f"no OAuth token for SMTP: {exc}", scope="channel") from None
        except smtplib.SMTPAuthenticationError as exc:
            # kpibot's own account is refused: not the recipient's fault, and the same for every message
            check = ("the app's SMTP.SendAsApp permission and its SendAs right on from_address (docs/email.md)"
                     if self.tokens else "KPIBOT_SMTP_PASSWORD")
            raise TransportError(f"the SMTP server refused kpibot's sign-in: SMTP {exc.smtp_code} "
                                 f"{_text(exc.smtp_error)} (check [email] smtp_user and {check})",
                                 scope="channel") from None
        except smtplib.SMTPSenderRefused as exc:
            raise TransportError(f"the SMTP server refused the sender {self.sender}: SMTP {exc.smtp_code} "
                                 f"{_text(exc.smtp_error)} (check [email] from_address)", scope="channel") from None
        except (smtplib.SMTPConnectError, smtplib.SMTPHeloError) as exc:
            raise TransportError(f"the SMTP server {self.host}:{self.port} would not take mail: SMTP "
                                 f"{exc.smtp_code} {_text(exc.smtp_error)}", scope="channel") from None
        except smtplib.SMTPResponseException as exc:  # e.g. DATA refused: this message's content
            raise _refused(exc.smtp_code, exc.smtp_error, "the server refused the message") from None
        except smtplib.SMTPServerDisconnected as exc:
            raise TransportError(f"the SMTP server {self.host}:{self.port} closed the connection: {exc}",
                                 scope="channel") from None
        except (TimeoutError, smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            raise TransportError(f"cannot connect to the SMTP server {self.host}:{self.port}: {exc}",
                                 scope="channel") from None


def _text(reply: bytes | str) -> str:
    return (reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply))[:300]


def _refused(code: int, reply: bytes | str, what: str) -> TransportError:
    """A refusal by its reply code: 421 (the server is closing for everyone) fails the channel, another 4xx is
    temporary, a 5xx to a recipient is permanent for that recipient, a 5xx to a message for that message."""
    said = f"{what}: SMTP {code} {_text(reply)}"
    if code == 421:
        return TransportError(said, scope="channel")
    if 500 <= code < 600:
        return TransportError(said, permanent=True, scope="recipient" if "recipient" in what else "message")
    return TransportError(said)


@dataclass(frozen=True)
class _XOAuth2:
    """XOAUTH2 for smtplib's auth(): the token in the first response; on a refusal the server sends its reason
    as a challenge, answered with an empty line so it can give its final 535."""

    user: str
    token: str

    def __call__(self, challenge: bytes | None = None, /) -> str:
        return "" if challenge is not None else xoauth2(self.user, self.token)
