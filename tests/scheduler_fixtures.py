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
from datetime import UTC, date, datetime, time
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot import config
from bot.app import App
from bot.intake.received import Received
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

[contracts.terms]
service_failure_after_late = 3  # the City and Hackney schedule has no such rule: this commissioner adds it
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
    return datetime.combine(day, time(hour, minute), LONDON).astimezone(UTC)


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


def brief(sent: list[Sent]) -> list[tuple[date, str, str, str]]:
    """(day, kind, recipient, subject) of each notice, in a stable order."""
    return sorted((s.day, s.kind, s.to, s.subject) for s in sent)


# The April-start year 2021-22 of City and Hackney (sender, framework, return type, period, day it arrives at 10:00,
# accepted?): Q1 accepted the day before its 3-day reminder; Q2 late; Q3 (due on a Saturday) rejected, then late;
# Q4 (due on Good Friday, a bank holiday) never sent; the annual return on time.
APRIL_START, APRIL_END = date(2021, 4, 1), date(2022, 5, 31)
APRIL_RETURNS = [
    (ALICE, "ch-stop-smoking", "quarterly", "2021-22-Q1", date(2021, 7, 11), True),
    (ALICE, "ch-stop-smoking", "quarterly", "2021-22-Q2", date(2021, 10, 20), True),
    (ALICE, "ch-stop-smoking", "quarterly", "2021-22-Q3", date(2022, 1, 14), False),
    (ALICE, "ch-stop-smoking", "quarterly", "2021-22-Q3", date(2022, 1, 26), True),
    (ALICE, "ch-stop-smoking", "annual", "2021-22", date(2022, 4, 27), True),
]


def april_year_expected() -> list[tuple[date, str, str, str]]:
    """Every reminder, overdue notice and escalation of that year: (London date, kind, recipient, subject)."""
    c, q = "City and Hackney Stop Smoking Service", "quarterly monitoring return"

    def reminder(day: date, period: str, when: str, due: str, kind: str = q) -> list[tuple[date, str, str, str]]:
        return [(day, "reminder", ALICE, f"Reminder: {c}: {kind} for {period} due {when} ({due})")]

    def overdue(day: date, period: str, days: int) -> list[tuple[date, str, str, str]]:
        return [(day, "overdue", who, f"Overdue: {c}: {q} for {period} ({days} days overdue)") for who in (ALICE, DAVE)]

    warning = f"Warning: {c}: {q} late for the second consecutive period"
    return sorted([
        *reminder(date(2021, 7, 1), "Q1 2021-22", "in 14 days", "15 July 2021"),
        # 12 July (3 days before): not sent, the return was accepted on Sunday 11 July.
        *reminder(date(2021, 10, 1), "Q2 2021-22", "in 14 days", "15 October 2021"),
        *reminder(date(2021, 10, 12), "Q2 2021-22", "in 3 days", "15 October 2021"),
        *reminder(date(2021, 10, 14), "Q2 2021-22", "tomorrow", "15 October 2021"),
        *reminder(date(2021, 10, 15), "Q2 2021-22", "today", "15 October 2021"),
        *overdue(date(2021, 10, 18), "Q2 2021-22", 3),  # the working day after Friday 15 October
        # Q3 is due on Saturday 15 January: its 14-day reminder moves back to Friday 31 December (Saturday 1 January
        # is a holiday anyway); the 1-day and on-the-day reminders to Friday 14th, as one.
        *reminder(date(2021, 12, 31), "Q3 2021-22", "in 15 days", "15 January 2022"),
        *reminder(date(2022, 1, 12), "Q3 2021-22", "in 3 days", "15 January 2022"),
        *reminder(date(2022, 1, 14), "Q3 2021-22", "tomorrow", "15 January 2022"),
        *overdue(date(2022, 1, 17), "Q3 2021-22", 2),  # rejected on the 14th: still owed
        *[(date(2022, 1, 17), "escalation", who, warning) for who in (ALICE, DAVE, CAROL)],
        *overdue(date(2022, 1, 24), "Q3 2021-22", 9),
        # Q4 is due on Good Friday 15 April: the last reminder goes on Thursday 14th, the first overdue notice on
        # Tuesday 19th (after Easter Monday), then weekly until it is accepted.
        *reminder(date(2022, 4, 1), "Q4 2021-22", "in 14 days", "15 April 2022"),
        *reminder(date(2022, 4, 12), "Q4 2021-22", "in 3 days", "15 April 2022"),
        *reminder(date(2022, 4, 14), "Q4 2021-22", "tomorrow", "15 April 2022"),
        *reminder(date(2022, 4, 14), "Year 2021-22", "in 16 days", "30 April 2022", kind="annual return"),
        *overdue(date(2022, 4, 19), "Q4 2021-22", 4),
        (date(2022, 4, 19), "escalation", CAROL, f"Service failure: {c}: three consecutive late {q}s"),
        *overdue(date(2022, 4, 26), "Q4 2021-22", 11),
        *reminder(date(2022, 4, 27), "Year 2021-22", "in 3 days", "30 April 2022", kind="annual return"),
        *overdue(date(2022, 5, 3), "Q4 2021-22", 18),
        *overdue(date(2022, 5, 10), "Q4 2021-22", 25),
        *overdue(date(2022, 5, 17), "Q4 2021-22", 32),
        *overdue(date(2022, 5, 24), "Q4 2021-22", 39),
        *overdue(date(2022, 5, 31), "Q4 2021-22", 46),
    ])
