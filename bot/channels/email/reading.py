"""The mailbox over IMAP: imap-tools on imaplib, synchronous, used only from the email channel's own thread.

- The connection is encrypted with certificates checked: implicit TLS or STARTTLS with the system's trusted
  certificates (imaplib's own default context would not check them). Plain IMAP only to this machine.
- Sign-in is by password, or with `auth = "oauth2"` by an OAuth 2.0 token (XOAUTH2, oauth.py) asked
  for afresh whenever the kept one is near its end, so a reconnect always has a valid one; a token the server
  refuses is replaced once.
- Messages are read with BODY.PEEK (never marked as read), the header first, so a bounce or an oversize message is
  never downloaded; then moved to the processed folder with UID MOVE. A server without MOVE gets a copy and the
  original flagged \\Deleted, expunged by its UID only where the server can (UIDPLUS): nothing else is expunged,
  and nothing is ever deleted without its copy in the processed folder, except a message that carried a file
  refused as possible personal data, which is deleted outright (`delete`).
- `wait` idles (RFC 2177) where the server offers IDLE, for at most the poll interval (under 29 minutes), and
  returns at once when new mail arrives or the channel wakes it to stop.
"""

from __future__ import annotations

import imaplib
import re
import select
import socket
import ssl
from datetime import UTC, datetime
from typing import Any

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError
from imap_tools.mailbox import BaseMailBox
from imap_tools.utils import encode_folder

from bot.channels.email.ledger import Location
from bot.channels.email.oauth import TokenError, TokenProvider
from bot.channels.email.processing import Fetched
from bot.settings import channels
from bot.settings.redaction import redact

ERRORS = (imaplib.IMAP4.error, ImapToolsError, OSError, EOFError)  # ssl.SSLError is an OSError
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


class MailboxError(RuntimeError):
    """The mailbox cannot be reached, or refused what kpibot asked; the message says which and why (redacted: it
    quotes imaplib's errors)."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(message))


def internaldate(text: str) -> datetime | None:
    """`01-Oct-2025 10:00:00 +0100` as an aware datetime in UTC (None if it is not one)."""
    try:
        return datetime.strptime(text.strip(), "%d-%b-%Y %H:%M:%S %z").astimezone(UTC)
    except ValueError:
        return None


class Mailbox:
    def __init__(self, email: channels.Email, password: str, timeout: float = 60,
                 context: ssl.SSLContext | None = None, tokens: TokenProvider | None = None) -> None:
        """`tokens`: sign in with OAuth 2.0 (XOAUTH2) instead of `password`."""
        self.email, self.password, self.timeout, self.tokens = email, password, timeout, tokens
        self.context = context or ssl.create_default_context()
        self.box: BaseMailBox | None = None
        self.capabilities: tuple[str, ...] = ()

    @property
    def account(self) -> str:
        return f"{self.email.imap_user}@{self.email.imap_host}".lower()[:254]

    def describe(self) -> str:
        return f"{self.email.imap_user} on {self.email.imap_host}:{self.email.imap_port} ({self.email.imap_security})"

    # -- connection -----------------------------------------------------------------------------------------

    def open(self) -> None:
        """Connect, log in, make sure both folders exist (creating the processed one) and select the folder."""
        box = self.connect()
        e = self.email
        try:
            if not box.folder.exists(e.folder):
                raise MailboxError(f"{self.describe()} has no folder {e.folder!r} (set [email] folder)")
            if not box.folder.exists(e.processed_folder):
                box.folder.create(e.processed_folder)
            box.folder.set(e.folder)
        except ERRORS as exc:
            self.close()
            raise MailboxError(f"{self.describe()}: {exc}") from None
        except MailboxError:
            self.close()
            raise

    def connect(self) -> BaseMailBox:
        """Connect and log in (no folder selected); MailboxError says what failed and what to check."""
        e = self.email
        try:
            if e.imap_security == "tls":
                box: BaseMailBox = MailBox(e.imap_host, e.imap_port, timeout=self.timeout, ssl_context=self.context)
            elif e.imap_security == "starttls":
                box = MailBoxStartTls(e.imap_host, e.imap_port, timeout=self.timeout, ssl_context=self.context)
            else:
                box = MailBoxUnencrypted(e.imap_host, e.imap_port, timeout=self.timeout)
        except ERRORS as exc:
            raise MailboxError(f"cannot connect to {self.describe()}: {exc}") from None
        self.box = box
        try:
            self._sign_in(box)
        except TokenError as exc:
            self.close()
            raise MailboxError(f"{self.describe()}: no OAuth token: {exc}") from None
        except ERRORS as exc:
            self.close()
            check = ("the app's IMAP.AccessAsApp permission and its FullAccess to this mailbox (docs/email.md)"
                     if self.tokens else "KPIBOT_IMAP_PASSWORD")
            raise MailboxError(f"{self.describe()} refused the login ({exc}); check [email] imap_user and "
                               f"{check}") from None
        try:
            # The capabilities before login often leave out MOVE, UIDPLUS and IDLE: ask again.
            typ, data = box.client.capability()
            if typ == "OK" and data and data[-1]:
                self.capabilities = tuple(data[-1].decode(errors="replace").upper().split())
        except ERRORS as exc:
            self.close()
            raise MailboxError(f"{self.describe()}: {exc}") from None
        return box

    def _sign_in(self, box: BaseMailBox) -> None:
        if self.tokens is None:
            box.login(self.email.imap_user, self.password, initial_folder=None)
            return
        token = self.tokens.token()
        try:
            box.xoauth2(self.email.imap_user, token, initial_folder=None)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error:  # refused (revoked, or expired early): one fresh token, on the same connection
            box.xoauth2(self.email.imap_user, self.tokens.renew(token), initial_folder=None)

    def close(self) -> None:
        if self.box is not None:
            try:
                self.box.logout()
            except ERRORS:
                pass
            finally:
                try:
                    self.box.client.shutdown()
                except ERRORS:
                    pass
            self.box = None

    def _uid(self, what: str, *args: str) -> list[Any]:
        """One UID command (SEARCH, FETCH, MOVE ...); its data, or MailboxError saying `what` failed."""
        if self.box is None:
            raise MailboxError("the mailbox is not open")
        try:
            typ, data = self.box.client.uid(*args)
        except ERRORS as exc:
            raise MailboxError(f"{self.describe()}: {what} failed: {exc}") from None
        if typ != "OK":
            raise MailboxError(f"{self.describe()} refused {what}: {data!r:.200}")
        return data

    # -- reading --------------------------------------------------------------------------------------------

    def uidvalidity(self) -> int:
        assert self.box is not None
        try:
            return int(self.box.folder.status(self.email.folder, ["UIDVALIDITY"])["UIDVALIDITY"])
        except (*ERRORS, KeyError, ValueError) as exc:
            raise MailboxError(f"{self.describe()}: no UIDVALIDITY for {self.email.folder!r}: {exc}") from None

    def uids(self) -> list[int]:
        """The messages in the folder, oldest first (those flagged \\Deleted are gone in all but name)."""
        data = self._uid("listing the messages", "SEARCH", "UNDELETED")
        return sorted(int(u) for u in (data[0] or b"").split())

    def fetch(self, uid: int, uidvalidity: int) -> Fetched | None:
        """The message's header, size and delivery time (None if it has gone meanwhile); its body on demand."""
        data = self._uid(f"reading message {uid}", "FETCH", str(uid),
                         "(UID RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER])")
        literals = [d for d in data if isinstance(d, tuple)]
        if not literals:
            return None
        meta = b" ".join([literals[0][0], *(d for d in data if isinstance(d, bytes))])
        size, arrived = _SIZE.search(meta), _INTERNALDATE.search(meta)
        return Fetched(where=Location(self.account, self.email.folder, uidvalidity, uid),
                       size=int(size.group(1)) if size else len(literals[0][1]),
                       arrived_at=internaldate(arrived.group(1).decode(errors="replace")) if arrived else None,
                       header=literals[0][1], body=lambda: self.body(uid))

    def body(self, uid: int) -> bytes:
        literals = [d for d in self._uid(f"reading message {uid}", "FETCH", str(uid), "(BODY.PEEK[])")
                    if isinstance(d, tuple)]
        if not literals:
            raise MailboxError(f"{self.describe()}: message {uid} has gone")
        return bytes(literals[0][1])

    # -- moving and waiting -----------------------------------------------------------------------------------

    def move(self, uid: int) -> None:
        """Move a message to the processed folder (a copy first where the server cannot move)."""
        target = encode_folder(self.email.processed_folder).decode("ascii")  # modified UTF-7, quoted: ASCII only
        if "MOVE" in self.capabilities:
            self._uid(f"moving message {uid}", "MOVE", str(uid), target)
            return
        self._uid(f"copying message {uid}", "COPY", str(uid), target)
        self._uid(f"flagging message {uid}", "STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)")
        if "UIDPLUS" in self.capabilities:
            self._uid(f"expunging message {uid}", "EXPUNGE", str(uid))

    def delete(self, uid: int) -> None:
        """Delete a message (one that carried a file refused as possible personal data must not stay in the
        mailbox): flagged \\Deleted and expunged by its UID where the server can (UIDPLUS); elsewhere left flagged,
        for the server to remove (nothing else is ever expunged)."""
        self._uid(f"flagging message {uid}", "STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)")
        if "UIDPLUS" in self.capabilities:
            self._uid(f"expunging message {uid}", "EXPUNGE", str(uid))

    def wait(self, seconds: float, wake: socket.socket) -> None:
        """Until new mail may have come (IDLE), `seconds` pass, or `wake` becomes readable."""
        if "IDLE" not in self.capabilities:
            select.select([wake], [], [], seconds)
            return
        assert self.box is not None
        try:
            self.box.idle.start()
            try:
                select.select([self.box.client.sock, wake], [], [], seconds)
            finally:
                self.box.idle.stop()
        except ERRORS as exc:
            raise MailboxError(f"{self.describe()}: waiting for new mail failed: {exc}") from None
