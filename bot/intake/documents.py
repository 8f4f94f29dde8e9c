"""Files sent in answer to the council's requests for information: recorded, kept raw, never read as a return.

A channel recognises such a file where it recognises a corrected return sent in answer to a query, before it
acknowledges the upload: a Telegram document sent as a reply to the request's message or with a caption naming it
("request 3"), an email in the thread of the request's email or whose subject names it (bot/channels/*). Then:
1. `record`: the upload is recorded (`request_upload`), with its raw bytes kept in the file store when the channel
   gave them and they are within `[intake] max_upload_bytes` (a Telegram file is downloaded after: its file id is
   recorded instead). The same channel message twice is one record.
2. `take`: the file is kept raw, then checked and linked to the request by bot/plans/requests.answer_in, in the
   same transaction that records what became of the upload. A hostile file (a program, macros, a zip bomb, over the
   cap) is refused with a clear answer and the request stays open; its raw bytes stay in the store (when within
   the cap), as a refused return's do. Only the contract's provider people may answer (bot/authz via answer_in).
No submission, version or finding is ever written for it: it is not a return.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.intake.fetching import GIVE_UP, Fetcher, FetchError
from bot.intake.received import Received, normalised, shown_filename
from bot.outbox.addressing import channel_of
from bot.plans.drafts import parse_day
from bot.plans.requests import answer_in
from bot.review.scene import Act, Refused
from bot.storage.answer_models import RequestUpload
from bot.storage.audit import record as audit
from bot.storage.db import insert_ignore, retrying, write_session
from bot.storage.files import FileStore
from bot.storage.models import Contact, OutboxMessage, StoredFile
from bot.storage.plan_models import InfoRequest

log = logging.getLogger(__name__)
# `request 3`, `Request #3`, `request no. 3`, `req 3`, `RFI 3`: what a provider writes, as the request's message asks.
NAMED = re.compile(r"\b(?:request|req|rfi)\.?\s*(?:no\.?|number|#)?\s*(\d{1,9})\b", re.I)
EXPIRES = re.compile(r"\b(?:expires?|expiry(?:\s+date)?|expiring|valid\s+(?:until|to|till))\s*(?:on|is|:)?\s*"
                     r"(\d{1,2}(?:st|nd|rd|th)?\s+[a-z]+\.?\s+\d{4}|\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2})", re.I)


@dataclass(frozen=True)
class Taken:
    """What became of a file sent for a request, and what its sender is told."""

    upload_id: int
    state: str  # received (still to download) | answered | refused
    reply: str
    request_id: int


def named_request(text: str) -> int | None:
    """The one request a caption, subject or message of kpibot's names (`request 3`), or None (none, or several)."""
    found = {int(n) for n in NAMED.findall(text or "")}
    return found.pop() if len(found) == 1 else None


def existing_request(engine: sa.Engine, request_id: int | None) -> int | None:
    """`request_id` when such a request exists (anyone's: whether the sender may answer it is decided later), else
    None: "RFI 2025" in a return's subject names no request, and the file goes on as a return."""
    if request_id is None:
        return None
    with Session(engine) as session:
        return request_id if session.get(InfoRequest, request_id) is not None else None


def expiry_in(text: str) -> date | None:
    """The expiry date a caption or subject gives (`expires 31 March 2027`, `expiry: 31/03/2027`), or None."""
    found = EXPIRES.search(text or "")
    return parse_day(found.group(1).replace(".", "")) if found else None


def note_of(text: str) -> str:
    """The caption or subject less the request's number and a leading `Re:`: what the provider wrote."""
    rest = NAMED.sub("", re.sub(r"^\s*((re|fw|fwd)\s*:\s*)+", "", text or "", flags=re.I))
    return " ".join(rest.strip(" :-–,.").split())


def record(engine: sa.Engine, settings: config.Settings, files: FileStore, received: Received, contact_id: int,
           request_id: int, size: int | None = None) -> Taken:
    """Step 1: record a file sent for request `request_id` (its bytes kept raw, or with `source` and no data, where
    to download it) and commit. The same channel message again returns what became of it. `size`: the size the
    channel announced, for a file not downloaded yet (one over the cap is refused at once, never downloaded)."""
    received = normalised(received)
    limit = settings.intake.max_upload_bytes
    length = size if size is not None and not received.data else len(received.data)
    digest = files.put(received.data) if received.data and length <= limit else None  # before the transaction
    shown = shown_filename(received.filename)
    over = length > limit

    def write() -> Taken:
        with write_session(engine, expire_on_commit=False) as session:
            earlier = _by_key(session, received.key)
            if earlier is not None:
                return _taken(earlier)
            if digest is not None:
                _keep(session, digest, length, received.received_at)
            upload = RequestUpload(
                idempotency_key=received.key, request_id=request_id, channel=received.channel,
                sender_contact_id=contact_id, received_at=received.received_at, filename=received.filename,
                size=length, source=received.source if not received.data else "", sha256=digest,
                note=note_of(received.caption), expires=expiry_in(received.caption))
            if over:
                upload.state, upload.finished_at = "refused", received.received_at
                upload.reply = (f"{shown} is {length / 1048576:.1f} MB, over the {limit / 1048576:.0f} MB limit: "
                                f"send a smaller file (a PDF of the document, or its pages in parts). Request "
                                f"{request_id} stays open.")
            session.add(upload)
            try:
                session.flush()
            except sa.exc.IntegrityError:  # the same message, recorded by another process a moment ago
                session.rollback()
                again = _by_key(session, received.key)
                assert again is not None
                return _taken(again)
            sender = session.get(Contact, contact_id)
            audit(session, received.received_at, sender.email if sender else "", "request_upload_received",
                  f"request_upload:{upload.id}", {"request": request_id, "channel": received.channel,
                                                  "sha256": digest, "size": length, "refused": over})
            session.commit()
            return _taken(upload)
    return retrying(write)


def take(engine: sa.Engine, settings: config.Settings, files: FileStore, upload_id: int,
         data: bytes | None = None) -> Taken:
    """Step 2: answer the request with the recorded file (`data`: its bytes, when they were downloaded after it was
    recorded), or say why not; recorded with the answer in one transaction. Done already: what it was."""
    with Session(engine) as session:
        upload = session.get(RequestUpload, upload_id)
        if upload is None:
            raise ValueError(f"no request upload {upload_id}")
        if upload.state != "received":
            return _taken(upload)
        sha, request_id = upload.sha256, upload.request_id
    if sha is None and data is not None:
        return _fetched(engine, settings, files, upload_id, data)
    if sha is None:
        raise ValueError(f"request upload {upload_id} has no file yet")
    content = files.get(sha)

    def write() -> Taken:
        with write_session(engine, expire_on_commit=False) as session:
            upload = session.get(RequestUpload, upload_id)
            assert upload is not None
            if upload.state != "received":
                return _taken(upload)
            act = Act(upload.sender_contact_id, upload.channel, upload.received_at,
                      key=f"request_upload:{upload.idempotency_key}")
            try:
                outcome = answer_in(session, settings, files, act, request_id, upload.filename, content,
                                    upload.note, upload.expires)
                state, reply = "answered", outcome.text
            except Refused as refused:
                state, reply = "refused", refused.text
            done = session.execute(sa.update(RequestUpload).where(
                col(RequestUpload.id) == upload_id, col(RequestUpload.state) == "received").values(
                state=state, reply=reply, finished_at=upload.received_at))
            if done.rowcount != 1:  # type: ignore[attr-defined]
                session.rollback()  # another process finished it a moment ago: its outcome stands
                again = session.get(RequestUpload, upload_id)
                assert again is not None
                return _taken(again)
            session.commit()
            return Taken(upload_id, state, reply, request_id)
    return retrying(write)


def download(engine: sa.Engine, settings: config.Settings, files: FileStore, upload_id: int,
             fetchers: Mapping[str, Fetcher], now: datetime) -> Taken:
    """Download a file recorded before it came (Telegram) through its channel's fetcher, then `take` it. Left
    `received` when the channel does not give it yet (tried again by `resume`), refused once it never will."""
    with Session(engine) as session:
        upload = session.get(RequestUpload, upload_id)
        if upload is None:
            raise ValueError(f"no request upload {upload_id}")
        if upload.state != "received" or upload.sha256 is not None:
            return take(engine, settings, files, upload_id)
        channel, source, received_at, name = upload.channel, upload.source, upload.received_at, upload.filename
    fetcher = fetchers.get(channel)
    try:
        if fetcher is None:
            raise FetchError(f"no way to fetch files from {channel} is configured")
        data = fetcher(source, settings.intake.max_upload_bytes)
    except FetchError as exc:
        if exc.permanent or now - received_at >= GIVE_UP:
            return refuse(engine, upload_id, f"kpibot could not download {shown_filename(name)}: {exc}. Please send "
                           "it again.")
        log.warning("request upload %s waits for its file: %s", upload_id, exc)
        with Session(engine) as session:
            again = session.get(RequestUpload, upload_id)
            assert again is not None
            return _taken(again)
    return take(engine, settings, files, upload_id, data)


def resume(engine: sa.Engine, settings: config.Settings, files: FileStore, fetchers: Mapping[str, Fetcher],
           clock: Callable[[], datetime], limit: int = 100) -> list[Taken]:
    """Finish the uploads a stopped process left recorded but not taken (the service's resume task calls this), and
    tell each sender what became of theirs."""
    with Session(engine) as session:
        left = session.exec(select(RequestUpload.id).where(RequestUpload.state == "received")
                            .order_by(col(RequestUpload.id)).limit(limit)).all()
    done = []
    for upload_id in left:
        assert upload_id is not None
        try:
            taken = download(engine, settings, files, upload_id, fetchers, clock())
        except Exception:  # noqa: BLE001 - logged; one bad upload must not stop the others
            log.exception("request upload %s could not be finished", upload_id)
            continue
        if taken.state != "received":
            retrying(lambda: _tell(engine, settings, taken, clock()))  # noqa: B023
            done.append(taken)
    return done


def _tell(engine: sa.Engine, settings: config.Settings, taken: Taken, now: datetime) -> None:
    """Tell the sender what became of a file finished after its channel's handler had stopped: through the outbox,
    once (its chat was told only that it came)."""
    with write_session(engine) as session:
        upload = session.get(RequestUpload, taken.upload_id)
        contact = session.get(Contact, upload.sender_contact_id) if upload else None
        where = channel_of(contact, bool(settings.telegram_token)) if contact else None
        if where is None or contact is None:
            return
        insert_ignore(session, OutboxMessage, dict(
            dedupe_key=f"request_upload:{taken.upload_id}:reply", created_at=now, contact_id=contact.id,
            channel=where[0], address=where[1], kind="reply", subject=f"Received for request {taken.request_id}",
            body_text=taken.reply, body_html=None, attachment_sha256=None, attachment_name=None, status="pending",
            attempts=0, next_attempt_at=now, claimed_at=None, sent_at=None, last_error="", render_job_id=None,
            fallback_text=None, parts_sent=0, claimed_by=None, headers={}))
        session.commit()


def _fetched(engine: sa.Engine, settings: config.Settings, files: FileStore, upload_id: int, data: bytes) -> Taken:
    limit = settings.intake.max_upload_bytes
    if len(data) > limit:
        with Session(engine) as session:
            upload = session.get(RequestUpload, upload_id)
            assert upload is not None
            shown = shown_filename(upload.filename)
        return refuse(engine, upload_id, f"{shown} is {len(data) / 1048576:.1f} MB, over the "
                       f"{limit / 1048576:.0f} MB limit: send a smaller file (a PDF of the document, or its pages in "
                       "parts).")
    digest = files.put(data)  # kept raw before it is checked, as a return's file is

    def write() -> None:
        with write_session(engine) as session:
            _keep(session, digest, len(data), _received(session, upload_id))
            session.execute(sa.update(RequestUpload).where(col(RequestUpload.id) == upload_id,
                                                           col(RequestUpload.sha256).is_(None))
                            .values(sha256=digest, size=len(data)))
            session.commit()
    retrying(write)
    return take(engine, settings, files, upload_id)


def refuse(engine: sa.Engine, upload_id: int, reply: str, still_open: bool = True) -> Taken:
    """Record that the upload does not answer its request, and why (kept raw all the same)."""
    def write() -> Taken:
        with write_session(engine, expire_on_commit=False) as session:
            upload = session.get(RequestUpload, upload_id)
            assert upload is not None
            if upload.state == "received":
                upload.state = "refused"
                upload.reply = f"{reply} Request {upload.request_id} stays open." if still_open else reply
                upload.finished_at = upload.received_at
                session.commit()
            return _taken(upload)
    return retrying(write)


def _keep(session: Session, digest: str, size: int, at: datetime) -> None:
    """Record the stored file, kept for good: the same bytes from an unknown sender were kept restricted (or purged),
    a registered sender's copy is not (as the intake does for a return's file)."""
    insert_ignore(session, StoredFile, dict(sha256=digest, size=size, first_seen_at=at))
    session.execute(sa.update(StoredFile).where(col(StoredFile.sha256) == digest,
                                                col(StoredFile.restricted) == True)  # noqa: E712
                    .values(restricted=False, purge_after=None, purged_at=None))


def _received(session: Session, upload_id: int) -> datetime:
    upload = session.get(RequestUpload, upload_id)
    assert upload is not None
    return upload.received_at


def _by_key(session: Session, key: str) -> RequestUpload | None:
    return session.exec(select(RequestUpload).where(RequestUpload.idempotency_key == key)).first()


def _taken(upload: RequestUpload) -> Taken:
    return Taken(upload.id or 0, upload.state, upload.reply, upload.request_id)
