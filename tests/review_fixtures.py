"""The review under test: the deployment of intake_fixtures.py with a second commissioner of the same council and a
second council, on a real database of each kind.

Who plays which part in the review of City and Hackney's returns:
- Carol and Frank are the council's commissioners: they sign off, query, record spot checks, confirm payments.
- Alice (submitter) and Dave (manager) are Breathe Easy's: they answer the council's queries.
- Bob is another provider's (Turning Point) and Erin commissions for another council: they play no part, and
  are told nothing about the return.
A full year of City and Hackney's quarterly returns at a 52.5% quit rate (105 of 200 each quarter) earns the
seed's £9,000 of the £36,000 pot.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from intake_fixtures import ALICE, BOB, DAVE, NOW, deployment, received
from sqlmodel import Session, col, select
from telegram_fixtures import ch_csv

from bot import config
from bot.intake.received import IntakeResult
from bot.intake.service import Intake
from bot.review import actions
from bot.review.listing import find
from bot.review.scene import Act, Outcome
from bot.storage.files import FileStore
from bot.storage.models import Contact, Contract, OutboxMessage
from bot.storage.review_models import Review, ReviewEvent, ReviewQuery
from bot.storage.sync import ensure_obligations, sync_settings

CAROL = "carol@example-council.example"
FRANK = "frank@example-council.example"
ERIN = "erin@other-council.example"
PEOPLE = (ALICE, DAVE, BOB, CAROL, FRANK, ERIN)
PART = {CAROL: "commissioner", FRANK: "commissioner", ALICE: "provider", DAVE: "provider", BOB: None, ERIN: None}
CONTRACT = "ch-stop-smoking"
Q2 = "2025-26-Q2"
QUARTERS = ("2025-26-Q1", "2025-26-Q2", "2025-26-Q3", "2025-26-Q4")
# Each quarter's return arrives a few days before its due date (15 July, October, January, April).
ARRIVES = {"2025-26-Q1": datetime(2025, 7, 10, 9, tzinfo=UTC), "2025-26-Q2": NOW,
           "2025-26-Q3": datetime(2026, 1, 12, 10, tzinfo=UTC), "2025-26-Q4": datetime(2026, 4, 10, 9, tzinfo=UTC)}

EXTRA = """
[[organisations]]
id = "other-council"
name = "Other Council"
kind = "council"

[[contracts]]
id = "other-stop-smoking"
name = "Other Council Stop Smoking"
framework = "ch-stop-smoking"
provider = "turning-point"
commissioner = "other-council"
value = 100000
start = 2025-04-01

[[contacts]]
email = "frank@example-council.example"
name = "Frank"
organisation = "example-council"
role = "commissioner"

[[contacts]]
email = "erin@other-council.example"
name = "Erin"
organisation = "other-council"
role = "commissioner"
"""


def review_deployment(tmp_path: Path, database_url: str, extra: str = "") -> config.Settings:
    return deployment(tmp_path, database_url, "[reports]\nattach_pdf = false\n" + extra + EXTRA)


@dataclass
class Desk:
    """The deployment's database, its intake, and the review's acts done as a named person."""

    engine: sa.Engine
    settings: config.Settings
    intake: Intake
    files: FileStore
    sent: int = 0

    def contact(self, email: str) -> int:
        with Session(self.engine) as session:
            found = session.exec(select(Contact).where(Contact.email == email)).one()
            assert found.id is not None
            return found.id

    def act(self, email: str, at: datetime = NOW + timedelta(hours=1), channel: str = "cli",
            key: str | None = None) -> Act:
        return Act(self.contact(email), channel, at, key)

    def submit(self, period: str = Q2, quits: int = 105, at: datetime | None = None, sender: str = ALICE,
               message_id: str | None = None) -> IntakeResult:
        self.sent += 1
        return self.intake.submit(received(ch_csv(200, quits), message_id=message_id or f"m{self.sent}",
                                           sender=sender, at=at or ARRIVES[period], contract_id=CONTRACT,
                                           period_id=period))

    def review(self, period: str = Q2) -> Review:
        with Session(self.engine) as session:
            found = find(session, CONTRACT, period).review
            session.expunge(found)
            return found

    def target(self, period: str = Q2) -> tuple[int, int]:
        review = self.review(period)
        assert review.id is not None
        return review.id, review.submission_id

    def sign_off(self, who: str = CAROL, period: str = Q2, **act: object) -> Outcome:
        return actions.sign_off(self.engine, self.settings, self.act(who, **act), *self.target(period))  # type: ignore[arg-type]

    def query(self, who: str = CAROL, reason: str = "1.5: the quit rate is far above last quarter's",
              period: str = Q2, **act: object) -> Outcome:
        return actions.query(self.engine, self.settings, self.act(who, **act), *self.target(period), reason)  # type: ignore[arg-type]

    def answer(self, who: str = ALICE, text: str = "A clinic's quitters were entered twice; the rest stand.",
               query_id: int | None = None, **act: object) -> Outcome:
        return actions.answer(self.engine, self.settings, self.act(who, **act), query_id or self.last_query(),  # type: ignore[arg-type]
                              text)

    def spot_check(self, who: str = CAROL, accurate: bool = False, period: str = Q2, **act: object) -> Outcome:
        return actions.record_spot_check(self.engine, self.settings, self.act(who, **act), *self.target(period),  # type: ignore[arg-type]
                                         accurate, "Quit dates checked against the clinic records: 12 counted twice.")

    def last_query(self) -> int:
        with Session(self.engine) as session:
            found = session.exec(select(ReviewQuery.id).order_by(col(ReviewQuery.id).desc())).first()
            assert found is not None
            return found

    def events(self) -> list[ReviewEvent]:
        with Session(self.engine) as session:
            return list(session.exec(select(ReviewEvent).order_by(col(ReviewEvent.id))))

    def messages(self, kind: str = "review") -> list[OutboxMessage]:
        with Session(self.engine) as session:
            return list(session.exec(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                     .order_by(col(OutboxMessage.id))))


@pytest.fixture
def desk(tmp_path: Path, database_url: str, engine: sa.Engine) -> Iterator[Desk]:
    settings = review_deployment(tmp_path, database_url)
    with Session(engine) as session:
        sync_settings(session, settings, NOW)
        for contract in session.exec(select(Contract)):
            ensure_obligations(session, contract, NOW.date())
        session.commit()
    files = FileStore(settings.storage.files_dir)
    yield Desk(engine, settings, Intake(engine, settings, files), files)
