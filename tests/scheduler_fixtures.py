"""Deployments for the scheduler tests, on a real database of each kind, and a way to read what it queued.

Who is told what:
- Alice submits Breathe Easy's returns (City and Hackney stop smoking, April-start quarters); Dave is its manager.
- Sam submits One You's returns (lifestyle, November-start quarters); Alex is its manager.
- Carol is the council's commissioner for both.
Reminders go to Alice and Sam; overdue notices to them and their managers; warnings to all three of a contract's
people; service failures, exception reports and digests to Carol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.app import App
from bot.intake import Received
from bot.storage.models import Contact, Obligation, OutboxMessage
from kpi_core import loader, samples

LONDON = ZoneInfo("Europe/London")
ALICE, DAVE = "alice@breathe-easy.example", "dave@breathe-easy.example"
SAM, ALEX = "sam@one-you.example", "alex@one-you.example"
CAROL = "carol@example-council.example"

PEOPLE = """
[[organisations]]
id = "example-council"
name = "Example Council"
kind = "council"

[[organisations]]
id = "breathe-easy"
name = "Breathe Easy CIC"
kind = "provider"

[[organisations]]
id = "one-you"
name = "One You Lifestyles"
kind = "provider"

[[contacts]]
email = "alice@breathe-easy.example"
name = "Alice"
organisation = "breathe-easy"
role = "provider_submitter"

[[contacts]]
email = "dave@breathe-easy.example"
name = "Dave"
organisation = "breathe-easy"
role = "provider_manager"

[[contacts]]
email = "sam@one-you.example"
name = "Sam"
organisation = "one-you"
role = "provider_submitter"

[[contacts]]
email = "alex@one-you.example"
name = "Alex"
organisation = "one-you"
role = "provider_manager"

[[contacts]]
email = "carol@example-council.example"
name = "Carol"
organisation = "example-council"
role = "commissioner"
"""

# 2021-22 has a quarterly due date on a Saturday (Q3: 15 January 2022) and one on Good Friday (Q4: 15 April 2022).
CH_STOP_SMOKING = """
[[contracts]]
id = "ch-stop-smoking"
name = "City and Hackney Stop Smoking Service"
framework = "ch-stop-smoking"
provider = "breathe-easy"
commissioner = "example-council"
value = 720000
start = 2021-04-01
"""

# Q1 (November to January) is due on Sunday 15 February 2026, Q3 on Saturday 15 August 2026.
LIFESTYLE = """
[[contracts]]
id = "lifestyle"
name = "One You Lifestyle Programmes"
framework = "lifestyle"
provider = "one-you"
commissioner = "example-council"
value = 1000000
start = 2025-11-01
"""


def scheduler_deployment(tmp_path: Path, database_url: str, contracts: str, extra: str = "") -> config.Settings:
    path = tmp_path / "config.toml"
    path.write_text(f'timezone = "Europe/London"\n{extra}\n{PEOPLE}\n{contracts}\n[storage]\n'
                    f'database_url = "{database_url}"\nfiles_dir = "{tmp_path / "files"}"\n'
                    f'outbox_dir = "{tmp_path / "outbox"}"\n[reports]\nattach_pdf = false\n', encoding="utf-8")
    return config.load(path, environ={})


def app_on(settings: config.Settings, engine: sa.Engine, first: date) -> App:
    """The application on `engine` (a test's database), loaded as `kpibot init` would on `first`."""
    app = App(settings)
    app.__dict__["engine"] = engine
    app.init(at(first, 8))
    return app


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """A London wall-clock time as the aware UTC moment kpibot stores."""
    return datetime.combine(day, time(hour, minute), LONDON).astimezone(timezone.utc)


def return_file(framework_id: str, return_type: str, seed: int = 1, good: bool = True) -> bytes:
    """A CSV return kpibot accepts, or (good=False) one it rejects (a negative count)."""
    fw = loader.get(framework_id)
    values = samples.sample_values(fw, return_type, seed=seed, level=0.9)
    if not good:
        first = next(i for i in fw.items_for(return_type) if i.source == "provider" and i.type == "count")
        values[(first.id, "")] = Fraction(-5)
    return samples.to_csv(values).encode()


def received(sender: str, data: bytes, period: str, moment: datetime, message_id: str) -> Received:
    return Received(channel="email", message_id=message_id, sender=sender, filename="return.csv", data=data,
                    received_at=moment, caption=period)


@dataclass(frozen=True)
class Sent:
    """A notice as a test compares it: the London date it was queued, its kind, to whom, and its words."""

    day: date
    kind: str
    to: str
    subject: str
    text: str
    attachment: str | None
    key: str


NOTICES = ("reminder", "overdue", "escalation")


def notices(engine: sa.Engine, kinds: tuple[str, ...] = NOTICES) -> list[Sent]:
    """Every queued message of `kinds`, in the order they were queued."""
    with Session(engine) as session:
        rows = session.exec(select(OutboxMessage, Contact.email)
                            .join(Contact, col(Contact.id) == OutboxMessage.contact_id)
                            .where(col(OutboxMessage.kind).in_(kinds)).order_by(col(OutboxMessage.id))).all()
    return [Sent(m.created_at.astimezone(LONDON).date(), m.kind, email, m.subject, m.body_text, m.attachment_name,
                 m.dedupe_key) for m, email in rows]


def levels(engine: sa.Engine, contract_id: str) -> dict[str, int]:
    """Each period's place on the escalation ladder, by period id."""
    with Session(engine) as session:
        return {o.period_id: o.escalation_level for o in session.exec(
            select(Obligation).where(Obligation.contract_id == contract_id))}
