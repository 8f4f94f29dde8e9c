"""The web workspace on the intake's deployment (intake_fixtures.py), driven in-process with an HTTP client, and
the people who use it (who may see what: intake_fixtures.py):

- Alice (Breathe Easy, City and Hackney only) and Dave (Breathe Easy, both its contracts) send returns;
- Bob (Turning Point) must never see, or learn of, Breathe Easy's returns;
- Carol commissions every contract.

City and Hackney's Q1 arrived on time (version 1, then a corrected version 2); Solihull's Q1 arrived late; no
Q2 return has come, and the clock stands after Q2's due date, so Q2 is late everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from intake_fixtures import ALICE, DAVE, received, sample_csv
from sqlmodel import Session, select
from starlette.testclient import TestClient

from bot import config
from bot.app import App
from bot.intake.service import Intake
from bot.storage.files import FileStore
from bot.storage.models import Obligation
from bot.web import signin
from bot.web.app import create_app

BOB, CAROL = "bob@turning-point.example", "carol@example-council.example"
WEB_NOW = datetime(2025, 10, 20, 9, 0, tzinfo=UTC)  # Q2 2025-26 was due on 15 October
PEOPLE = {"alice": ALICE, "dave": DAVE, "bob": BOB, "carol": CAROL}


@dataclass
class Clock:
    now: datetime = WEB_NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Workspace:
    app: App
    engine: sa.Engine
    clock: Clock
    obligations: dict[tuple[str, str], int] = field(default_factory=dict)

    def client(self, https: bool = False) -> TestClient:
        return TestClient(create_app(self.app, clock=self.clock), raise_server_exceptions=False,
                          follow_redirects=False, base_url="https://testserver" if https else "http://testserver")

    def obligation(self, contract_id: str, period_id: str, return_type: str = "quarterly") -> int:
        return self.obligations[(contract_id, period_id, return_type)]  # type: ignore[index]


def token_of(html: str) -> str:
    found = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert found, "the page has no form token"
    return found.group(1)


def sign_in(ws: Workspace, client: TestClient, email: str) -> None:
    """Sign `client` in as `email` with a fresh single-use link."""
    token = signin.issue_local(ws.engine, email, ws.clock())
    page = client.get(f"/sign-in/link/{token}")
    assert page.status_code == 200
    done = client.post("/sign-in/link", data={"csrftoken": token_of(page.text), "token": token})
    assert done.status_code == 303, done.text


def csrf(client: TestClient, path: str = "/provider") -> str:
    """The form token of a page `client` may open."""
    return token_of(client.get(path).text)


@pytest.fixture
def workspace(loaded: sa.Engine, settings: config.Settings, files: FileStore) -> Iterator[Workspace]:
    intake = Intake(loaded, settings, files)
    july = datetime(2025, 7, 10, 9, tzinfo=UTC)
    for message, sender, data, at, contract in (
            ("q1-ch", ALICE, sample_csv(seed=1), july, "ch-stop-smoking"),
            ("q1-ch-2", ALICE, sample_csv(seed=5, level=0.95), july + timedelta(days=2), "ch-stop-smoking"),
            ("q1-sol", DAVE, sample_csv("solihull-stop-smoking", seed=2, level=0.7), july + timedelta(days=10),
             "solihull-stop-smoking")):
        result = intake.submit(received(data, message_id=message, sender=sender, at=at, contract_id=contract,
                                        period_id="2025-26-Q1"))
        assert result.outcome == "accepted", result.reply
    app = App(settings)
    app.__dict__["engine"] = loaded  # the test's engine and an in-process reader: no worker process to start
    app.__dict__["intake"] = intake
    ws = Workspace(app, loaded, Clock())
    with Session(loaded) as session:
        for o in session.exec(select(Obligation)):
            ws.obligations[(o.contract_id, o.period_id, o.return_type)] = o.id  # type: ignore[index]
    yield ws
    app.close()
