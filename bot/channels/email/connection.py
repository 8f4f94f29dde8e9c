"""Try the mail servers as kpibot will use them, sending and moving nothing (`kpibot check-connections`).

SMTP: connect, encrypt as `[email] smtp_security` says (certificates checked), sign in when `smtp_user` is set,
and offer `from_address` as the sender (MAIL FROM, then RSET: no message is sent). IMAP: connect, log in, and look
for the folder returns arrive in and the folder read ones are moved to (created at the first run if missing). Each
answers `(ok, message)`: what works, or what failed and which setting or secret to check. Neither password nor token
is ever put in the message.
"""

from __future__ import annotations

import smtplib
import socket
import ssl

from bot import config
from bot.channels.email.oauth import SECRET_ENV as OAUTH_SECRET_ENV
from bot.channels.email.oauth import TokenError, token_provider
from bot.channels.email.reading import ERRORS, Mailbox, MailboxError
from bot.channels.email.transport import EmailTransport
from bot.outbox.transport import TransportError

TIMEOUT = 15.0


def check_smtp(settings: config.Settings, context: ssl.SSLContext | None = None) -> tuple[bool, str]:
    """Connect, encrypt, sign in and offer the sender address to the SMTP server; send nothing."""
    e = settings.email
    where = f"{e.smtp_host}:{e.smtp_port} ({e.smtp_security})"
    missing = _missing_secret(settings, e.smtp_user, "KPIBOT_SMTP_PASSWORD", settings.smtp_password)
    if missing:
        return False, f"{where}: {missing}"
    transport = EmailTransport(e.smtp_host, e.smtp_port, e.from_address, e.smtp_user, settings.smtp_password,
                               e.smtp_security, timeout=TIMEOUT, context=context, tokens=token_provider(settings))
    done = []
    try:
        with transport._connect() as smtp:  # the transport's own connection: what sending will do
            done.append("connected")
            sock = smtp.sock
            if isinstance(sock, ssl.SSLSocket):
                done.append(f"encrypted ({sock.version()}, certificate accepted)")
            if e.smtp_user:
                transport._sign_in(smtp)
                done.append(f"signed in as {e.smtp_user}" + (" with OAuth 2.0" if e.auth == "oauth2" else ""))
            code, answer = smtp.mail(e.from_address)
            if code >= 400:
                return False, (f"{where}: {', '.join(done)}, but the server refuses {e.from_address} as the sender "
                               f"(SMTP {code}: {answer.decode(errors='replace')}); check [email] from_address and "
                               "that the account may send as it")
            smtp.rset()
            done.append(f"{e.from_address} accepted as the sender")
    except (ConnectionRefusedError, socket.gaierror) as exc:
        return False, f"{where}: {_unreachable(exc)}; check [email] smtp_host and smtp_port"
    except TimeoutError:
        return False, (f"{where}: no answer within {TIMEOUT:.0f} seconds; check [email] smtp_host and smtp_port, "
                       "and that a firewall lets this machine reach it")
    except ssl.SSLCertVerificationError as exc:
        return False, (f"{where}: the server's certificate was not accepted ({exc.verify_message}); check "
                       "[email] smtp_host is the name on the certificate")
    except ssl.SSLError as exc:
        return False, (f"{where}: encryption failed ({exc.reason or exc}); check [email] smtp_security (\"tls\" "
                       "for port 465, \"starttls\" for 587)")
    except smtplib.SMTPAuthenticationError as exc:
        check = (f"the app's SMTP.SendAsApp permission and {OAUTH_SECRET_ENV}" if e.auth == "oauth2"
                 else "KPIBOT_SMTP_PASSWORD")
        return False, (f"{where}: {', '.join(done)}, but the sign-in as {e.smtp_user} was refused (SMTP "
                       f"{exc.smtp_code}); check [email] smtp_user and {check}")
    except smtplib.SMTPNotSupportedError:
        return False, (f"{where}: {', '.join(done)}, but the server offers no sign-in here; check "
                       "[email] smtp_security (most servers offer it only once the connection is encrypted), or "
                       "leave smtp_user empty for a relay that needs none")
    except TokenError as exc:
        return False, f"{where}: no OAuth token: {exc}"
    except TransportError as exc:
        return False, str(exc)
    except (smtplib.SMTPException, OSError) as exc:
        return False, f"{where}: {', '.join([*done, ''])}{type(exc).__name__}: {exc}"
    if not e.smtp_user:
        done.append("no sign-in (smtp_user is empty: a relay that trusts this machine)")
    return True, f"{where}: {', '.join(done)}"


def check_imap(settings: config.Settings, context: ssl.SSLContext | None = None) -> tuple[bool, str]:
    """Log in to the mailbox and look for its two folders; read, move and create nothing."""
    e = settings.email
    where = f"{e.imap_user} on {e.imap_host}:{e.imap_port} ({e.imap_security})"
    missing = _missing_secret(settings, e.imap_user, "KPIBOT_IMAP_PASSWORD", settings.imap_password)
    if missing:
        return False, f"{where}: {missing}"
    mailbox = Mailbox(e, settings.imap_password, timeout=TIMEOUT, context=context, tokens=token_provider(settings))
    try:
        box = mailbox.connect()
    except MailboxError as exc:
        return False, str(exc)
    try:
        if not box.folder.exists(e.folder):
            return False, f"{where}: logged in, but there is no folder {e.folder!r}; set [email] folder"
        moved = (f"read ones go to {e.processed_folder!r}" if box.folder.exists(e.processed_folder) else
                 f"{e.processed_folder!r}, where read ones go, is made at the first run")
    except ERRORS as exc:
        return False, f"{where}: logged in, but listing its folders failed: {exc}"
    finally:
        mailbox.close()
    return True, f"{where}: logged in; returns are read from {e.folder!r}, {moved}"


def _missing_secret(settings: config.Settings, user: str, variable: str, value: str) -> str:
    if settings.email.auth == "oauth2":
        return "" if settings.oauth_client_secret else f"{OAUTH_SECRET_ENV} is not set in the environment"
    if user and not value:
        return f"the user is set ({user}) but {variable} is not: set it in the environment"
    return ""


def _unreachable(exc: OSError) -> str:
    if isinstance(exc, socket.gaierror):
        return f"no such host ({exc.strerror})"
    return "nothing answers there (connection refused)"
