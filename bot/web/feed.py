"""The council's CSV feed of scored results, for Power BI or Excel to refresh from: one row per indicator of each
return in force (contract, period, indicator, value, target, status, version, signed off), behind a token.

A token belongs to one council and shows only its contracts; it is made and revoked from the command line
(`kpibot feed`), shown once, and kept only as its SHA-256. The rows are read in two queries whatever the size.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.storage.audit import record
from bot.storage.db import fetch_rows, retrying, write_session
from bot.storage.models import Contract, IndicatorResultRow, Obligation, Organisation, Submission
from bot.storage.web_models import FeedToken
from bot.web.reads.reviews import review_states

TOKEN_BYTES = 32
COLUMNS = ["contract", "contract_name", "provider", "return", "period", "period_start", "period_end", "indicator",
           "indicator_name", "value", "year_to_date", "target", "status", "version", "received", "signed_off",
           "signed_off_at"]
STATUS_WORDS = {"red": "RED", "amber": "AMBER", "green": "GREEN", "no_data": "NO DATA", "info": "INFO"}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


@dataclass(frozen=True)
class Made:
    id: int
    token: str
    council_name: str


def create(engine: sa.Engine, council_id: str, label: str, now: datetime) -> Made:
    token = secrets.token_urlsafe(TOKEN_BYTES)

    def write() -> Made:
        with write_session(engine) as session:
            council = session.get(Organisation, council_id)
            if council is None or council.kind != "council":
                known = ", ".join(o.id for o in session.exec(select(Organisation).where(
                    Organisation.kind == "council"))) or "none (run `kpibot init`)"
                raise LookupError(f"there is no council {council_id!r}; councils: {known}")
            row = FeedToken(token_hash=token_hash(token), council_id=council_id, label=label[:200], created_at=now)
            session.add(row)
            session.flush()
            record(session, now, "operator", "feed_token_created", f"feed_token:{row.id}",
                   {"council": council_id, "label": label[:200]})
            session.commit()
            assert row.id is not None
            return Made(row.id, token, council.name)
    return retrying(write)


def revoke(engine: sa.Engine, token_id: int, now: datetime) -> FeedToken:
    def write() -> FeedToken:
        with write_session(engine, expire_on_commit=False) as session:
            row = session.get(FeedToken, token_id)
            if row is None:
                raise LookupError(f"there is no feed token {token_id} (`kpibot feed list` shows them)")
            if row.revoked_at is None:
                row.revoked_at = now
                record(session, now, "operator", "feed_token_revoked", f"feed_token:{row.id}", {})
            session.commit()
            return row
    return retrying(write)


def tokens(engine: sa.Engine) -> list[FeedToken]:
    with Session(engine) as session:
        return list(session.exec(select(FeedToken).order_by(col(FeedToken.id))))


def council_of(engine: sa.Engine, token: str, now: datetime) -> str | None:
    """The council a live token belongs to (its use recorded), or None."""
    if not token:
        return None
    with write_session(engine) as session:
        row = session.exec(select(FeedToken).where(FeedToken.token_hash == token_hash(token),
                                                   col(FeedToken.revoked_at).is_(None))).first()
        if row is None:
            return None
        row.last_used_at = now
        council = row.council_id
        session.commit()
        return council


_SELECTED = (col(Contract.id), col(Contract.name), col(Organisation.name), col(Obligation.id),
             col(Obligation.return_type), col(Obligation.period_id), col(Obligation.period_start),
             col(Obligation.period_end), col(Submission.version), col(Submission.received_at),
             col(IndicatorResultRow.ref), col(IndicatorResultRow.status), col(IndicatorResultRow.detail))


def rows(session: Session, council_id: str) -> list[list[object]]:
    """The feed's rows for the council's contracts: every indicator of every return version in force."""
    # Thirteen columns, past those select() gives types to: each is named as it is unpacked below.
    found: Sequence[Sequence[Any]] = fetch_rows(session, sa.select(*_SELECTED)
        .join(Organisation, col(Organisation.id) == Contract.provider_id)
        .join(Obligation, col(Obligation.contract_id) == Contract.id)
        .join(Submission, col(Submission.obligation_id) == Obligation.id)
        .join(IndicatorResultRow, col(IndicatorResultRow.submission_id) == Submission.id)
        .where(col(Contract.commissioner_id) == council_id, col(Submission.status) == "accepted")
        .order_by(col(Contract.id), col(Obligation.period_start), col(Obligation.return_type),
                  col(IndicatorResultRow.id)))
    reviews = review_states(session, list({r[3] for r in found}))
    out: list[list[object]] = [list(COLUMNS)]
    for (cid, cname, provider, oid, rtype, period, start, end, version, received, ref, status, detail) in found:
        review = reviews.get(oid)
        signed = review is not None and review.state == "signed_off" and review.version == version
        out.append([cid, cname, provider, rtype, period, start.isoformat(), end.isoformat(), ref,
                    detail.get("name", ""), _number(detail.get("value")), _number(detail.get("year_to_date")),
                    _number(detail.get("target_value")), STATUS_WORDS.get(status, status), version,
                    received.isoformat(timespec="seconds"), "yes" if signed else "no",
                    review.since.isoformat(timespec="seconds") if signed and review else ""])
    return out


def _number(value: object) -> str:
    """A plain number Power BI and Excel read in any locale: no thousands separators, up to 6 decimals."""
    if value is None:
        return ""
    number = float(value)  # type: ignore[arg-type]
    return f"{number:.6f}".rstrip("0").rstrip(".") if number != int(number) else str(int(number))
