"""Which notices go to which Teams channel, and what their cards say, on SQLite and PostgreSQL.

The scheduler deployment (scheduler_fixtures.py: Alice and Dave at Breathe Easy, Sam and Alex at One You, Carol
the council's commissioner) with Teams channels: the council's, and Breathe Easy's for its team's reminders. A
channel is told what its organisation's people are told, once per channel; its cards pass the Adaptive Card 1.5
schema and name no one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from fake_teams import FakeWorkflows, running_fake_workflows
from scheduler_fixtures import (
    ALICE,
    APRIL_END,
    APRIL_RETURNS,
    APRIL_START,
    CAROL,
    CH_STOP_SMOKING,
    DAVE,
    LIFESTYLE,
    SAM,
    app_on,
    at,
    received,
    return_file,
    scheduler_deployment,
)
from sqlmodel import Session, col, select
from teams_fixtures import FakeTime, assert_plain_language, assert_valid_message, texts

from bot import config
from bot.app import App
from bot.channels.teams import cards
from bot.channels.teams.status import status_lines
from bot.channels.teams.transport import TeamsTransport, Webhook
from bot.demo.simulate import Replay
from bot.outbox.card import CARD, Card
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.transport import Outbound
from bot.storage.models import OutboxMessage
from jobs.reports import report_sweep
from jobs.sweep import sweep
from kpi_core import loader, samples

TEAMS = """
[[teams]]
name = "council"
organisation = "example-council"
url_env = "KPIBOT_TEAMS_URL_COUNCIL"

[[teams]]
name = "breathe-easy-team"
organisation = "breathe-easy"
url_env = "KPIBOT_TEAMS_URL_BREATHE_EASY"
"""
URLS = {"KPIBOT_TEAMS_URL_COUNCIL": "https://prod-01.uksouth.logic.azure.com/workflows/a/triggers/manual/paths/"
                                    "invoke?api-version=2016-06-01&sig=COUNCILSIG",
        "KPIBOT_TEAMS_URL_BREATHE_EASY": "https://prod-02.uksouth.logic.azure.com/workflows/b/triggers/manual/"
                                         "paths/invoke?api-version=2016-06-01&sig=PROVIDERSIG"}
PEOPLE = ("Alice", "Dave", "Sam", "Alex", "Carol")


def with_teams(tmp_path: Path, engine: sa.Engine, contracts: str, environ: dict[str, str] | None = None,
               teams: str = TEAMS) -> config.Settings:
    settings = scheduler_deployment(tmp_path, str(engine.url.render_as_string(hide_password=False)), contracts + teams)
    return config.load(settings.source, environ=URLS if environ is None else environ)


@pytest.fixture
def fake() -> Iterator[FakeWorkflows]:
    with running_fake_workflows() as fake:
        yield fake


def posted(engine: sa.Engine, channel: str | None = None) -> list[OutboxMessage]:
    """The Teams rows queued (for one channel), in order."""
    with Session(engine) as session:
        query = select(OutboxMessage).where(OutboxMessage.channel == "teams").order_by(col(OutboxMessage.id))
        rows = session.exec(query.where(OutboxMessage.address == channel) if channel else query).all()
    assert all(r.contact_id is None and r.attachment_sha256 is None for r in rows)  # an address, and no file
    return list(rows)


def to_people(engine: sa.Engine, email: str, kind: str) -> list[str]:
    """The notice keys of the messages of `kind` queued to a contact."""
    with Session(engine) as session:
        return [m.dedupe_key.rsplit(":", 2)[0] for m in session.exec(select(OutboxMessage).where(
            OutboxMessage.kind == kind, OutboxMessage.channel == "email",
            OutboxMessage.address == email).order_by(col(OutboxMessage.id)))]


def notice_keys(rows: list[OutboxMessage], kind: str) -> list[str]:
    return [r.dedupe_key.rsplit(":", 2)[0] for r in rows if r.kind == kind]


def card_of(row: OutboxMessage) -> dict:  # type: ignore[type-arg]
    """The message the row would be posted as, checked against the schema."""
    body, _ = cards.fitted(cards.card_of(Outbound(row.address, row.subject, row.body_text, headers=row.headers)))
    return assert_valid_message(body)


def read(row: OutboxMessage, settings: config.Settings) -> list[str]:
    """What the card shows, after checking it holds no identifier, command, address or person."""
    shown = texts(card_of(row))
    assert_plain_language("\n".join(shown), settings, PEOPLE)
    assert_plain_language(row.body_text, settings, PEOPLE)
    return shown


def replay(app: App, first: date, last: date, returns: list[tuple[str, str, str, str, date, bool]]) -> None:
    scheduler = Replay(app, first, reports=False, deliver=False)
    for n, (sender, framework, return_type, period, day, good) in enumerate(returns):
        scheduler.until(at(day))
        app.intake.submit(received(sender, return_file(framework, return_type, seed=n, good=good), period, at(day),
                                   f"m{n}"))
    scheduler.until(at(last, 18))


@pytest.mark.long
def test_a_year_of_notices_reaches_each_channel_once_as_its_people_hear_them(engine: sa.Engine,
                                                                            tmp_path: Path) -> None:
    """City and Hackney 2021-22 (scheduler_fixtures.APRIL_RETURNS): reminders and overdue notices to the provider,
    a warning to both sides, a service failure and weekly digests to the council."""
    settings = with_teams(tmp_path, engine, CH_STOP_SMOKING)
    app = app_on(settings, engine, APRIL_START)
    replay(app, APRIL_START, APRIL_END, APRIL_RETURNS)

    provider, council = posted(engine, "breathe-easy-team"), posted(engine, "council")
    assert len(provider) + len(council) == len(posted(engine))
    for rows in (provider, council):  # one card per notice per channel
        assert [k for k, n in Counter(r.dedupe_key.rsplit(":", 2)[0] for r in rows).items() if n > 1] == []
    # The provider's channel hears what Alice and Dave hear, once each, whoever of them is told.
    assert notice_keys(provider, "reminder") == to_people(engine, ALICE, "reminder")
    assert notice_keys(provider, "overdue") == to_people(engine, ALICE, "overdue") == to_people(engine, DAVE,
                                                                                                 "overdue")
    assert notice_keys(provider, "escalation") == to_people(engine, DAVE, "escalation")  # the warning only
    assert {r.kind for r in provider} == {"reminder", "overdue", "escalation"}
    # The council's channel hears what Carol hears: the warning, the service failure and the digests.
    assert notice_keys(council, "escalation") == to_people(engine, CAROL, "escalation")
    assert len(notice_keys(council, "escalation")) == 2
    assert notice_keys(council, "digest") == to_people(engine, CAROL, "digest") and council[-1].kind == "digest"
    assert {r.kind for r in council} == {"escalation", "digest"}

    warning, failure = [r for r in council if r.kind == "escalation"]
    seen = read(warning, settings)
    assert seen[1] == ("Warning: City and Hackney Stop Smoking Service: quarterly monitoring return late for the "
                       "second consecutive period")
    assert "City and Hackney Stop Smoking Service (Breathe Easy CIC) has now been late with its quarterly " \
           "monitoring return for the second consecutive period." in seen
    assert "• Q2 2021-22 (July 2021 to September 2021): due 15 October 2021, accepted 20 October 2021 (5 days " \
           "late)" in seen
    seen = read(failure, settings)
    assert seen[1] == ("Service failure: City and Hackney Stop Smoking Service: three consecutive late quarterly "
                       "monitoring returns")
    assert "Late periods (3)" in seen and "The contract" in seen
    reminder = read(provider[0], settings)
    assert reminder[1] == ("Reminder: City and Hackney Stop Smoking Service: quarterly monitoring return for Q1 "
                           "2021-22 due in 14 days (15 July 2021)")
    assert "Provider:" in reminder and "Breathe Easy CIC" in reminder
    overdue = read(next(r for r in provider if r.kind == "overdue"), settings)
    assert any(t.startswith("This notice comes every week until the return is accepted.") for t in overdue)
    for row in provider + council:
        read(row, settings)
    with Session(engine) as session:  # the people are told the warning was posted in the channels too
        warned = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "escalation",
                                                          OutboxMessage.address == ALICE)).one()
    assert "This warning goes to Alice, Dave, Breathe Easy CIC in Teams, Carol and Example Council in Teams." \
        in warned.body_text


def test_a_channel_is_off_until_its_url_is_set_and_status_says_so(engine: sa.Engine, tmp_path: Path) -> None:
    settings = with_teams(tmp_path, engine, CH_STOP_SMOKING, environ={})
    assert settings.teams_urls == {}
    app = app_on(settings, engine, APRIL_START)
    sweep(app.engine, settings, app.files, at(date(2021, 7, 1), 9))
    assert to_people(engine, ALICE, "reminder") and posted(engine) == []  # nothing queued into a void
    lines = status_lines(engine, settings, at(date(2021, 7, 1), 9))
    assert lines[1:] == [
        "Teams: 2 channels",
        "  council (Example Council, every contract): OFF: KPIBOT_TEAMS_URL_COUNCIL is not set in this environment, "
        "so nothing is queued for it (set it where `kpibot run` runs)",
        "  breathe-easy-team (Breathe Easy CIC, every contract): OFF: KPIBOT_TEAMS_URL_BREATHE_EASY is not set in "
        "this environment, so nothing is queued for it (set it where `kpibot run` runs)"]


ONLY_LIFESTYLE = """
[[teams]]
name = "council"
organisation = "example-council"
url_env = "KPIBOT_TEAMS_URL_COUNCIL"

[[teams]]
name = "lifestyle-channel"
organisation = "example-council"
contracts = ["lifestyle"]
url_env = "KPIBOT_TEAMS_URL_LIFESTYLE"
"""


def test_the_exception_report_card_counts_by_shape_and_word_critical_failures_first(engine: sa.Engine,
                                                                                    tmp_path: Path) -> None:
    """A council channel and a channel for the lifestyle contract: each gets the report on the contracts it covers,
    once, with no PDF; City and Hackney's Q3 is due 15 January 2026 (report on the 22nd), the lifestyle Q1 on 15
    February (report on the 20th)."""
    environ = {"KPIBOT_TEAMS_URL_COUNCIL": URLS["KPIBOT_TEAMS_URL_COUNCIL"],
               "KPIBOT_TEAMS_URL_LIFESTYLE": URLS["KPIBOT_TEAMS_URL_BREATHE_EASY"]}
    ch_2025 = CH_STOP_SMOKING.replace("start = 2021-04-01", "start = 2025-04-01")
    settings = with_teams(tmp_path, engine, ch_2025 + LIFESTYLE, environ, ONLY_LIFESTYLE)
    app = app_on(settings, engine, date(2026, 1, 1))
    weak = samples.to_csv(samples.sample_values(loader.get("lifestyle"), "quarterly", seed=3, level=0.3)).encode()
    assert app.intake.submit(received(SAM, weak, "2025-26-Q1", at(date(2026, 2, 10)), "w")).outcome == "accepted"
    for moment in (at(date(2026, 1, 22), 9), at(date(2026, 1, 22), 15), at(date(2026, 2, 20), 9)):
        report_sweep(app.engine, settings, app.files, moment)
    reports = [r for r in posted(engine) if r.kind == "report"]
    assert [(r.address, r.dedupe_key.split(":")[3]) for r in reports] == [
        ("council", "2026-01-15"), ("council", "2026-02-15"), ("lifestyle-channel", "2026-02-15")]
    january = read(reports[0], settings)
    assert "City and Hackney Stop Smoking Service" in " ".join(january) and "One You" not in " ".join(january)
    lifestyle = read(reports[2], settings)
    assert lifestyle[1] == "Exception report: quarterly returns due 15 February 2026 (1 late, 0 red)" or \
        lifestyle[1].startswith("Exception report: quarterly returns due 15 February 2026 (")
    card = card_of(reports[2])
    counts = card["body"][1]["inlines"]
    words = [run["text"] for run in counts if run["text"].strip()]
    assert words and all(w.split(" ")[0] in "■▲●○◇" for w in words)  # a shape and a word, red first
    assert words[0].startswith("■ RED") and [run.get("color") for run in counts if run["text"].startswith("■")] \
        == ["attention"]
    headings = [t for t in lifestyle if t.endswith(")") and " (" in t and not t.startswith("•")]
    order = ["Critical performance failures", "At risk of critical failure", "Missing or late returns",
             "Red and amber indicators", "Contracts in the report"]
    shown = [h.rsplit(" (", 1)[0] for h in headings if h.rsplit(" (", 1)[0] in order]
    assert shown == [h for h in order if h in shown] and "Red and amber indicators" in shown
    assert lifestyle[-1] == "See the report in kpibot."
    with Session(engine) as session:
        commissioners = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "report",
                                                                 OutboxMessage.channel == "email")).all()
    assert all(m.attachment_sha256 for m in commissioners)  # the people still get the PDF


def test_the_digest_card_tells_of_a_refused_file_but_not_who_sent_it(engine: sa.Engine, tmp_path: Path) -> None:
    ch_2025 = CH_STOP_SMOKING.replace("start = 2021-04-01", "start = 2025-04-01")
    settings = with_teams(tmp_path, engine, ch_2025 + LIFESTYLE)
    app = app_on(settings, engine, date(2026, 1, 1))
    patients = (b"item,breakdown,value\nquit_dates,,120\nname,nhs_number,dob\nJane Smith,943 476 5919,1961-03-02\n"
                b"Ali Khan,401 023 2137,1958-11-30\nMary Jones,943 476 5870,1972-01-15\n")
    assert app.intake.submit(received(ALICE, patients, "2025-26-Q3", at(date(2026, 2, 17)), "p")).outcome \
        == "quarantined"
    sweep(app.engine, settings, app.files, at(date(2026, 2, 23), 9))
    [digest] = [r for r in posted(engine, "council") if r.kind == "digest"]
    seen = read(digest, settings, )
    text = " ".join(seen)
    assert "Files refused as possible personal data in the last 7 days (1)" in seen
    assert ("• Breathe Easy CIC: a file sent on 17 February 2026 was refused as it may hold patient-level data; it "
            "is kept locked away and deleted on 19 March 2026. kpibot keeps nothing of its content; ask the provider "
            "for aggregate figures.") in seen
    for secret in ("alice", "Jane", "Smith", "943", "1961", "return.csv"):
        assert secret not in text
    [email] = [m for m in to_people(engine, CAROL, "digest")]
    assert email  # Carol's own digest still names the sender, as before


def test_each_notice_reaches_the_webhook_once_through_the_outbox(engine: sa.Engine, tmp_path: Path,
                                                                 fake: FakeWorkflows) -> None:
    environ = {"KPIBOT_TEAMS_URL_COUNCIL": fake.url("/council"), "KPIBOT_TEAMS_URL_BREATHE_EASY": fake.url("/be")}
    settings = with_teams(tmp_path, engine, CH_STOP_SMOKING, environ)
    app = app_on(settings, engine, APRIL_START)
    time = FakeTime()
    transport = TeamsTransport({t.name: Webhook(t.url_env, settings.teams_urls[t.name]) for t in settings.teams},
                               clock=time.clock, sleep=time.sleep)
    dispatcher = Dispatcher(app.engine, {"teams": transport, "email": _Nowhere()}, app.files)
    for day in (date(2021, 7, 1), date(2021, 10, 1), date(2021, 10, 12)):
        sweep(app.engine, settings, app.files, at(day, 9))
        sweep(app.engine, settings, app.files, at(day, 9, 5))  # a second sweep queues nothing more
        dispatcher.run_once(at(day, 9, 6))
        dispatcher.run_once(at(day, 10))
    transport.close()
    rows = posted(engine)
    assert all(r.status == "sent" for r in rows) and len(fake.posts) == len(rows)  # each card posted once
    for name, path in (("breathe-easy-team", "/be"), ("council", "/council")):
        titles = [texts(assert_valid_message(p.body))[1] for p in fake.delivered(path)]
        assert titles == [r.subject for r in rows if r.address == name]
    reminders = [t for t in (texts(assert_valid_message(p.body))[1] for p in fake.delivered("/be"))
                 if t.startswith("Reminder: ")]
    assert [t.split(" due ")[1] for t in reminders] == ["in 14 days (15 July 2021)", "in 14 days (15 October 2021)",
                                                        "in 3 days (15 October 2021)"]
    assert {r.kind for r in rows if r.address == "council"} == {"digest"}  # Q1 and Q2 are late all along


class _Nowhere:
    """Email goes nowhere in this test: only the Teams posts are counted."""

    def send(self, message: Outbound) -> None:
        pass


def test_a_card_carries_what_the_queued_row_holds(engine: sa.Engine, tmp_path: Path) -> None:
    settings = with_teams(tmp_path, engine, CH_STOP_SMOKING)
    app = app_on(settings, engine, APRIL_START)
    sweep(app.engine, settings, app.files, at(date(2021, 7, 1), 9))
    [row] = posted(engine)
    card = Card.from_json(row.headers[CARD])
    assert row.body_text == card.plain() and row.subject == card.title
    assert row.dedupe_key == "reminder:o1:d14:t-breathe-easy-team:teams" or row.dedupe_key.endswith(
        ":t-breathe-easy-team:teams")
