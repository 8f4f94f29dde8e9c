"""The one intake, end to end on SQLite and PostgreSQL: nothing lost, nothing counted twice."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction
from unittest import mock

import pytest
import sqlalchemy as sa
from intake_fixtures import ALICE, BOB, DAVE, NOW, received, sample_csv
from sqlmodel import Session, func, select
from test_outbox import RecordingTransport

import bot.assessment.in_context
import bot.intake.replies
import bot.reports.queue as rq
from bot.intake.resolve import named_in
from bot.intake.service import Intake
from bot.outbox.dispatcher import Dispatcher
from bot.reports.queue import RenderQueue
from bot.storage.files import FileStore, sha256_of
from bot.storage.models import (
    AuditEvent,
    Contract,
    DataValue,
    FindingRow,
    IndicatorResultRow,
    Obligation,
    OutboxMessage,
    PaymentRow,
    RenderedReport,
    RenderJob,
    StoredFile,
    Submission,
)
from bot.storage.queries import values_of


def count(engine: sa.Engine, model: type, *where: object) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()  # type: ignore[arg-type]


@pytest.mark.with_pdf
def test_it_accepts_a_return_and_keeps_everything(intake: Intake, files: FileStore, render_queue: RenderQueue) -> None:
    data = sample_csv()
    result = intake.submit(received(data, caption="2025-26-Q2"))
    with Session(intake.engine) as session:  # the reply waits for its PDF, drawn off the submit path
        assert session.exec(select(RenderedReport)).all() == []
        assert session.exec(select(RenderJob)).one().status == "pending"
    assert render_queue.run_once() == 1
    assert result.outcome == "accepted", result.reply
    assert (result.contract_id, result.period_id, result.version, result.on_time) == \
        ("ch-stop-smoking", "2025-26-Q2", 1, True)
    with Session(intake.engine) as session:
        sub = session.get(Submission, result.submission_id)
        assert sub is not None and sub.status == "accepted" and sub.sha256 == sha256_of(data)
        assert files.get(sub.sha256) == data  # the raw file, byte for byte
        assert values_of(session, sub.id, "2025-26-Q2")[("quit_dates", "")] > 0  # type: ignore[arg-type]
    assert count(intake.engine, IndicatorResultRow, IndicatorResultRow.submission_id == result.submission_id) == 46
    assert count(intake.engine, PaymentRow, PaymentRow.submission_id == result.submission_id) == 1
    with Session(intake.engine) as session:
        reply = session.exec(select(OutboxMessage)).one()
        assert (reply.channel, reply.address, reply.kind, reply.status) == ("email", ALICE, "reply", "pending")
        assert "Result: Accepted" in reply.body_text and "Timeliness: On time" in reply.body_text
        assert "is in the attached PDF" in reply.body_text
        report = session.exec(select(RenderedReport)).one()
        assert (report.kind, report.submission_id, report.period_id) == ("return", sub.id, "2025-26-Q2")
        job = session.exec(select(RenderJob)).one()
        assert (job.status, job.sha256, reply.render_job_id) == ("done", report.sha256, job.id)
        assert reply.attachment_name == "ch-stop-smoking-2025-26-Q2-v1.pdf"
        assert files.get(report.sha256).startswith(b"%PDF")
        actions = [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
        assert [a for a in actions if a != "plan_open"] == ["config_synced", "submission_received",
                                                            "submission_accepted", "review_open"]
        assert "plan_open" in actions  # its reds ask for action plans (tests/test_plans.py)


def test_the_same_message_twice_yields_one_submission_and_one_reply(intake: Intake) -> None:
    first = intake.submit(received(sample_csv(), message_id="<abc@mail>", caption="2025-26-Q2"))
    again = intake.submit(received(sample_csv(), message_id="<abc@mail>", caption="2025-26-Q2"))
    assert first.outcome == "accepted" and again.outcome == "duplicate"
    assert again.submission_id == first.submission_id and again.version == 1
    assert again.reply == first.reply
    assert count(intake.engine, Submission) == 1
    assert count(intake.engine, OutboxMessage) == 1
    assert count(intake.engine, DataValue) == count(intake.engine, DataValue,
                                                    DataValue.submission_id == first.submission_id)


def test_a_resubmission_is_a_new_version_and_both_are_kept(intake: Intake, files: FileStore) -> None:
    old_data, new_data = sample_csv(seed=1), sample_csv(seed=2)
    old = intake.submit(received(old_data, message_id="m1", caption="2025-26-Q2"))
    new = intake.submit(received(new_data, message_id="m2", caption="2025-26-Q2", at=NOW + timedelta(days=3)))
    assert (old.version, new.version) == (1, 2)
    with Session(intake.engine) as session:
        first = session.get(Submission, old.submission_id)
        second = session.get(Submission, new.submission_id)
        assert first is not None and second is not None
        assert (first.status, first.superseded_by_id, second.status) == ("superseded", second.id, "accepted")
        assert files.get(first.sha256) == old_data and files.get(second.sha256) == new_data  # type: ignore[arg-type]
        assert values_of(session, first.id, "2025-26-Q2") != values_of(session, second.id, "2025-26-Q2")  # type: ignore[arg-type]
        assert len(values_of(session, first.id, "2025-26-Q2")) > 0  # type: ignore[arg-type]
    assert "Version 2: it replaces the version sent before." in new.reply


def test_a_rejected_return_keeps_the_file_and_every_finding_but_no_results(intake: Intake, files: FileStore) -> None:
    data = sample_csv(overrides={("quits_4wk", ""): Fraction(10**6), ("lost_4wk", ""): Fraction(-3)})
    result = intake.submit(received(data, caption="2025-26-Q2"))
    assert result.outcome == "rejected"
    codes = {f.code for f in result.findings if f.is_error}
    assert {"negative", "rule:quits_within_quit_dates"} <= codes
    with Session(intake.engine) as session:
        sub = session.get(Submission, result.submission_id)
        assert sub is not None and sub.status == "rejected" and files.exists(sub.sha256)  # type: ignore[arg-type]
        assert session.exec(select(func.count()).select_from(FindingRow)).one() == len(result.findings)
    assert count(intake.engine, DataValue) == 0
    assert count(intake.engine, IndicatorResultRow) == 0
    assert "Result: Rejected" in result.reply and "cannot be negative" in result.reply


def test_a_scoring_failure_leaves_the_raw_file_and_a_failed_record(intake: Intake, files: FileStore) -> None:
    data = sample_csv()
    with mock.patch.object(bot.assessment.in_context, "assess", autospec=True, side_effect=ZeroDivisionError("boom")):
        result = intake.submit(received(data, caption="2025-26-Q2"))
    assert result.outcome == "failed"
    with Session(intake.engine) as session:
        sub = session.get(Submission, result.submission_id)
        assert sub is not None and sub.status == "failed" and "ZeroDivisionError: boom" in sub.reason
        assert files.get(sub.sha256) == data  # type: ignore[arg-type]
    assert count(intake.engine, DataValue) == 0
    assert "could not process it" in result.reply


def test_a_database_error_mid_save_rolls_back_every_result(intake: Intake, files: FileStore) -> None:
    """A real database error (a trigger refusing the insert) while results are being written."""
    with intake.engine.begin() as c:
        if c.dialect.name == "sqlite":
            c.exec_driver_sql("CREATE TRIGGER boom BEFORE INSERT ON indicator_result "
                              "BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END")
        else:
            c.exec_driver_sql("CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION "
                              "'disk full (test)'; END $$ LANGUAGE plpgsql")
            c.exec_driver_sql("CREATE TRIGGER boom BEFORE INSERT ON indicator_result FOR EACH ROW "
                              "EXECUTE FUNCTION boom()")
    result = intake.submit(received(sample_csv(), caption="2025-26-Q2"))
    assert result.outcome == "failed"
    assert count(intake.engine, DataValue) == 0  # written before the error, rolled back with it
    assert count(intake.engine, PaymentRow) == 0
    assert count(intake.engine, FindingRow) == 0
    with Session(intake.engine) as session:
        sub = session.get(Submission, result.submission_id)
        assert sub is not None and sub.status == "failed" and "disk full (test)" in sub.reason
        assert sub.version is None and files.exists(sub.sha256)  # type: ignore[arg-type]
        obligation = session.exec(select(Obligation).where(Obligation.period_id == "2025-26-Q2",
                                                           Obligation.contract_id == "ch-stop-smoking")).one()
        assert obligation.first_accepted_at is None


def test_an_unknown_sender_is_recorded_but_gets_no_email_reply(intake: Intake, files: FileStore) -> None:
    data = sample_csv()
    result = intake.submit(received(data, sender="stranger@example.org"))
    assert result.outcome == "unknown_sender"
    with Session(intake.engine) as session:
        sub = session.get(Submission, result.submission_id)
        assert sub is not None and sub.status == "rejected" and sub.reason == "unknown sender"
        assert files.get(sub.sha256) == data  # type: ignore[arg-type]
    assert count(intake.engine, OutboxMessage) == 0


def test_an_unknown_telegram_chat_is_told_how_to_register(intake: Intake) -> None:
    result = intake.submit(received(sample_csv(), channel="telegram", sender="999"))
    assert result.outcome == "unknown_sender" and "not registered" in result.reply
    assert count(intake.engine, OutboxMessage, OutboxMessage.address == "999") == 1


def test_a_telegram_sender_is_known_by_chat_id(intake: Intake) -> None:
    result = intake.submit(received(sample_csv(), channel="telegram", sender="1001", caption="Q2 2025-26"))
    assert result.outcome == "accepted" and result.period_id == "2025-26-Q2"


def test_a_provider_cannot_submit_another_providers_contract(intake: Intake) -> None:
    result = intake.submit(received(sample_csv(), sender=BOB, contract_id="ch-stop-smoking", period_id="2025-26-Q2"))
    assert result.outcome == "rejected"
    assert [f.code for f in result.findings] == ["not_your_contract"]
    assert count(intake.engine, DataValue) == 0
    # What to do names the sender's own contracts as a person knows them, not by their references in config.toml
    assert result.reply.endswith("Send it for one of your contracts: Hackney and City Substance Misuse.")
    assert "ch-substance-misuse" not in result.reply


def test_it_asks_which_contract_by_name_when_the_sender_has_several(intake: Intake) -> None:
    """The provider is asked for the contract's name, which a person knows, not the reference in config.toml."""
    result = intake.submit(received(sample_csv(), sender=DAVE, caption="Q2 return"))
    assert result.outcome == "held"
    assert result.reply == ("Which contract is this return for? Send it again with the contract's name in the "
                            "subject: City and Hackney Stop Smoking Service or Solihull Stop Smoking.")
    by_cli = intake.submit(received(sample_csv(), message_id="cli", sender=DAVE, channel="cli"))
    assert (by_cli.outcome, by_cli.reply) == ("held", "Which contract is this return for? It is one of: City and "
                                              "Hackney Stop Smoking Service or Solihull Stop Smoking.")


@pytest.mark.parametrize("subject", ["ch-stop-smoking 2025-26-Q2 return",
                                     "Q2 return 2025-26-Q2 for city and hackney  stop smoking service"])
def test_the_contract_can_be_named_in_the_subject(intake: Intake, subject: str) -> None:
    result = intake.submit(received(sample_csv(), sender=DAVE, caption=subject))
    assert (result.outcome, result.contract_id, result.period_id) == ("accepted", "ch-stop-smoking", "2025-26-Q2")


def test_a_name_within_another_contracts_name_is_not_named_twice() -> None:
    short = Contract(id="ss", name="Stop Smoking Service", framework_id="f", provider_id="p", commissioner_id="c")
    long = Contract(id="ssp", name="Stop Smoking Service Plus", framework_id="f", provider_id="p", commissioner_id="c")
    assert [c.id for c in named_in("Q2 for the Stop Smoking Service Plus", [short, long])] == ["ssp"]
    assert [c.id for c in named_in("Q2 for the stop smoking service", [short, long])] == ["ss"]
    assert [c.id for c in named_in("ss and ssp", [short, long])] == ["ss", "ssp"]  # two named: kpibot asks which


def test_the_single_open_return_is_assumed_when_no_period_is_given(intake: Intake) -> None:
    # Q1 is accepted first; Q2 is then the only return whose period has ended and is still open.
    first = intake.submit(received(sample_csv(seed=3), message_id="q1", caption="2025-26-Q1"))
    assert first.outcome == "accepted"
    result = intake.submit(received(sample_csv(), message_id="q2", caption="here you are"))
    assert (result.outcome, result.period_id) == ("accepted", "2025-26-Q2")


def test_it_asks_which_period_when_several_returns_are_open(intake: Intake) -> None:
    result = intake.submit(received(sample_csv(), caption="here you are"))
    assert result.outcome == "held"
    assert "2025-26-Q1" in result.reply and "2025-26-Q2" in result.reply


def test_a_late_return_is_marked_late(intake: Intake) -> None:
    late = NOW + timedelta(days=20)  # 21 October, after the 15 October due date
    result = intake.submit(received(sample_csv(), caption="2025-26-Q2", at=late))
    assert (result.outcome, result.on_time) == ("accepted", False)
    assert "Timeliness: Late" in result.reply


def test_the_year_to_date_uses_the_accepted_earlier_quarter(intake: Intake) -> None:
    q1 = intake.submit(received(sample_csv(seed=3), message_id="q1", caption="2025-26-Q1"))
    q2 = intake.submit(received(sample_csv(seed=4), message_id="q2", caption="2025-26-Q2"))
    assert q1.assessment is not None and q2.assessment is not None
    q1_quits = q1.assessment.interpretation.values[("quit_dates", "")]
    q2_quits = q2.assessment.interpretation.values[("quit_dates", "")]
    result = q2.assessment.scorecard.result("1.1")
    assert result.ytd is not None and result.ytd.value == q1_quits + q2_quits
    assert result.ytd_periods == ("2025-26-Q1", "2025-26-Q2")


@pytest.mark.with_pdf
def test_a_report_that_fails_to_render_does_not_lose_the_reply(intake: Intake, settings, files: FileStore) -> None:  # type: ignore[no-untyped-def]
    def broken(report: object) -> bytes:
        raise RuntimeError("pango")

    clock = [NOW]
    queue = RenderQueue(intake.engine, settings, files, clock=lambda: clock[0], render=broken)
    result = intake.submit(received(sample_csv(), caption="2025-26-Q2"))
    assert result.outcome == "accepted"
    sent = RecordingTransport()
    dispatcher = Dispatcher(intake.engine, {"email": sent}, files)
    for _ in range(rq.MAX_ATTEMPTS - 1):  # retried with back-off...
        assert queue.run_once() == 1 and dispatcher.run_once(clock[0]) == 0  # ...while the email waits for it
        clock[0] += timedelta(hours=1)
    assert queue.run_once() == 1 and queue.run_once() == 0  # ...then given up
    assert dispatcher.run_once(clock[0]) == 1
    assert sent.sent[0].attachment is None and "Result: Accepted" in sent.sent[0].text
    assert "attached PDF" not in sent.sent[0].text  # the text that does not promise the report
    with Session(intake.engine) as session:
        assert session.exec(select(RenderJob)).one().status == "failed"
        assert session.exec(select(RenderedReport)).all() == []
        assert "render_failed" in [e.action for e in session.exec(select(AuditEvent))]


def test_a_telegram_reply_is_the_chat_summary(intake: Intake) -> None:
    result = intake.submit(received(sample_csv(), channel="telegram", sender="1001", caption="2025-26-Q2"))
    assert result.reply.startswith("✅ City and Hackney Stop Smoking Service")
    assert "🔴" in result.reply or "🟢" in result.reply


def test_an_email_reply_without_a_pdf_does_not_promise_one(intake: Intake) -> None:
    result = intake.submit(received(sample_csv(), caption="2025-26-Q2"))
    assert "Result: Accepted" in result.reply and "attached PDF" not in result.reply


def test_the_database_refuses_a_second_version_in_force(intake: Intake) -> None:
    """Even two processes racing cannot leave two accepted versions of one return."""
    first = intake.submit(received(sample_csv(), caption="2025-26-Q2"))
    with Session(intake.engine) as session:
        original = session.get(Submission, first.submission_id)
        assert original is not None
        twin = Submission(**{k: v for k, v in original.model_dump().items() if k != "id"})
        twin.idempotency_key = "race"
        session.add(twin)
        with pytest.raises(sa.exc.IntegrityError):
            session.commit()


def test_a_workbook_whose_cover_names_another_contract_is_refused_and_counts_against_no_one(
        intake: Intake, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 11: 'A wrong --contract on another contract's workbook records a rejected return for the wrong
    contract and drops its accuracy KPI to 0%'."""
    from bot.workbooks.fill import fill
    from bot.workbooks.template import build_template
    from kpi_core import loader, samples
    from kpi_core.calendar import parse_period

    fw = loader.get("solihull-stop-smoking")
    book = build_template(fw, contract_id="solihull-stop-smoking", contract_name="Solihull Stop Smoking",
                          provider_name="Breathe Easy CIC", period=parse_period("2025-26-Q2", 4))
    data = fill(book, samples.sample_values(fw, "quarterly", seed=1), fw)
    result = intake.submit(received(data, sender=DAVE, filename="solihull.xlsx", contract_id="ch-stop-smoking",
                                    period_id="2025-26-Q2"))
    assert result.outcome == "rejected" and [f.code for f in result.findings] == ["contract_mismatch"]
    assert "is the Solihull Stop Smoking (solihull-stop-smoking) workbook" in result.reply
    with Session(intake.engine) as session:
        sub = session.get(Submission, result.submission_id)
        assert sub is not None and (sub.contract_id, sub.obligation_id) == (None, None)


def test_a_file_that_is_not_a_return_is_refused_before_asking_which_contract(intake: Intake) -> None:
    """Issue 11: 'A PDF renamed .xlsx submitted without --contract is asked "which contract?"'."""
    pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n" + b"0" * 2000
    result = intake.submit(received(pdf, sender=DAVE, filename="return.xlsx"))
    assert result.outcome == "rejected"
    assert "Which contract" not in result.reply and result.findings and all(f.is_error for f in result.findings)
    with Session(intake.engine) as session:
        sub = session.get(Submission, result.submission_id)
        assert sub is not None and sub.obligation_id is None


def test_the_same_file_sent_again_is_one_submission_already_received_as_its_version(intake: Intake) -> None:
    """Issue 11: 'The same file submitted twice from the command line (no message id) becomes versions 2 and 3'."""
    data = sample_csv(seed=4)
    first = intake.submit(received(data, message_id="a", caption="2025-26-Q2"))
    again = intake.submit(received(data, message_id="b", caption="2025-26-Q2", at=NOW + timedelta(days=1)))
    assert (first.version, again.outcome, again.version, again.duplicate_of) == \
        (1, "duplicate", 1, first.submission_id)
    assert "identical to version 1 of this return" in again.reply
    reverted = intake.submit(received(sample_csv(seed=5), message_id="c", caption="2025-26-Q2",
                                      at=NOW + timedelta(days=2)))
    back = intake.submit(received(data, message_id="d", caption="2025-26-Q2", at=NOW + timedelta(days=3)))
    assert (reverted.version, back.outcome, back.version) == (2, "accepted", 3)  # going back is a new version
    with Session(intake.engine) as session:
        dupe = session.get(Submission, again.submission_id)
        assert dupe is not None and (dupe.status, dupe.obligation_id, dupe.version) == ("duplicate", None, None)


def test_a_commissioner_may_submit_for_the_provider_and_it_is_recorded_so(intake: Intake) -> None:
    """Issue 14: 'Decide deliberately whether a commissioner may submit on a provider's behalf'. Yes: the
    provider often emails the workbook to the commissioner; the version and the audit say who sent it."""
    result = intake.submit(received(sample_csv(), sender="carol@example-council.example",
                                    contract_id="ch-stop-smoking", period_id="2025-26-Q2"))
    assert result.outcome == "accepted"
    with Session(intake.engine) as session:
        sub = session.get(Submission, result.submission_id)
        assert sub is not None and sub.on_behalf
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "submission_accepted")).one()
        assert event.actor == "carol@example-council.example" and event.detail["on_behalf"] is True


def test_a_file_holding_personal_data_is_quarantined_and_never_echoed(intake: Intake, files: FileStore) -> None:
    """Issue 14: 'a sheet of names, dates of birth and valid NHS numbers is accepted with a warning, and in a CSV
    the names are copied into the findings, the reply text and the PDF'."""
    data = (b"item,breakdown,value\nquit_dates,,120\nname,nhs_number,dob\nJane Smith,943 476 5919,1961-03-02\n"
            b"Ali Khan,401 023 2137,1958-11-30\nMary Jones,943 476 5870,1972-01-15\n")
    result = intake.submit(received(data, caption="2025-26-Q2", filename="Jane Smith 9434765919.csv"))
    assert result.outcome == "quarantined" and [f.code for f in result.findings] == ["personal_data"]
    for secret in (b"Jane", b"Smith", b"943", b"1961", b"Khan"):
        assert secret.decode() not in result.reply
    with Session(intake.engine) as session:
        sub = session.get(Submission, result.submission_id)
        assert sub is not None and sub.status == "quarantined" and sub.obligation_id is None
        stored = session.get(StoredFile, sub.sha256)
        assert stored is not None and stored.restricted and stored.purge_after == NOW + timedelta(days=30)
        assert "Jane" not in sub.filename  # even the name it came under is withheld
        for text in [m.body_text + m.subject for m in session.exec(select(OutboxMessage))] + \
                [str(e.detail) for e in session.exec(select(AuditEvent))]:
            assert "Jane" not in text and "9434765919" not in text
    from bot.storage.retention import purge_due
    assert purge_due(intake.engine, files, NOW + timedelta(days=29)) == 0
    assert purge_due(intake.engine, files, NOW + timedelta(days=31)) == 1
    assert not files.exists(sub.sha256)  # type: ignore[arg-type]


@pytest.mark.parametrize("sender", [ALICE, DAVE])
def test_a_caption_naming_another_providers_contract_is_answered_as_one_naming_no_contract(
        intake: Intake, sender: str) -> None:
    """Issue 19: 'a CSV without a cover, captioned with another provider's contract, gets "'lifestyle' is not one
    of your contracts"; an unknown name gets "Which contract is this return for?"'. Whether a contract exists is
    never told: Alice (one contract) has her own assumed either way, Dave (two) is asked which either way."""
    theirs = intake.submit(received(sample_csv(seed=1), message_id="theirs", sender=sender,
                                    caption="ch-substance-misuse 2025-26-Q2"))
    nobodys = intake.submit(received(sample_csv(seed=2), message_id="nobodys", sender=sender,
                                     caption="no-such-contract 2025-26-Q2"))
    assert (theirs.outcome, theirs.contract_id) == (nobodys.outcome, nobodys.contract_id)
    assert theirs.outcome == ("accepted" if sender == ALICE else "held")
    if sender == DAVE:
        assert theirs.reply == nobodys.reply and theirs.reply.startswith("Which contract is this return for?")
    for result in (theirs, nobodys):
        assert "not one of your contracts" not in result.reply
        assert "substance" not in result.reply.lower() and "Turning Point" not in result.reply


PATIENT_LIST = (b"item,breakdown,value\nquit_dates,,120\nname,nhs_number,dob\nJane Smith,943 476 5919,1961-03-02\n"
                b"Ali Khan,401 023 2137,1958-11-30\nMary Jones,943 476 5870,1972-01-15\n")


@pytest.mark.parametrize("data", [pytest.param(None, id="a clean return"),
                                  pytest.param(PATIENT_LIST, id="a quarantined file")])
def test_a_file_name_that_looks_like_personal_data_is_never_stored_shown_or_logged(
        intake: Intake, data: bytes | None, caplog: pytest.LogCaptureFixture) -> None:
    """Issue 19: 'the service log prints the file name (9434765919 Jane Smith.csv). A clean return whose file name
    holds an NHS number and a name is stored with that name and echoed back.'"""
    with caplog.at_level("DEBUG"):
        result = intake.submit(received(data or sample_csv(), caption="2025-26-Q2",
                                        filename="9434765919 Jane Smith.csv"))
        intake.submit(received(data or sample_csv(), caption="2025-26-Q2", filename="9434765919 Jane Smith.csv"))
    assert result.outcome == ("accepted" if data is None else "quarantined")
    with Session(intake.engine) as session:
        stored = [s.filename for s in session.exec(select(Submission))] + \
            [m.body_text + m.subject + str(m.headers) for m in session.exec(select(OutboxMessage))] + \
            [str(e.detail) for e in session.exec(select(AuditEvent))]
    shown = "\n".join([result.reply, *stored, caplog.text])
    assert "Jane" not in shown and "9434765919" not in shown
    if data is None:  # a clean return is known by a neutral name instead
        assert "return (name withheld).csv" in stored
