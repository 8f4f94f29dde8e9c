"""Email out over SMTP: plain text, an optional HTML alternative and an optional attachment."""

from __future__ import annotations

import mimetypes
import smtplib
import socket
from email.message import EmailMessage
from email.utils import make_msgid

from bot.outbox.transport import Outbound, TransportError


class EmailTransport:
    def __init__(self, host: str, port: int, sender: str, user: str = "", password: str = "",
                 starttls: bool = False, timeout: float = 30) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout

    def build(self, message: Outbound) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.address
        mail["Subject"] = message.subject
        domain = self.sender.rsplit("@", 1)[-1]
        mail["Message-ID"] = f"<{message.message_id}@{domain}>" if message.message_id else make_msgid(domain=domain)
        mail.set_content(message.text)
        if message.html:
            mail.add_alternative(message.html, subtype="html")
        if message.attachment is not None:
            name = message.attachment_name or "attachment"
            kind = (mimetypes.guess_type(name)[0] or "application/octet-stream").split("/", 1)
            mail.add_attachment(message.attachment, maintype=kind[0], subtype=kind[1], filename=name)
        return mail

    def send(self, message: Outbound) -> None:
        mail = self.build(message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise TransportError(f"recipient refused: {exc.recipients}", permanent=True) from None
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            raise TransportError(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", permanent=permanent) from None
        except (smtplib.SMTPException, OSError, socket.timeout) as exc:
            raise TransportError(f"SMTP delivery failed: {exc}") from None
