"""The review from the command line (`kpibot review`, `kpibot answer`, `kpibot payments`), on a real database of
each kind: every act goes through the same functions as chat and email, a refusal is one `Error:` line with exit
code 1, and a year's payment is confirmed only once every quarter it rests on is signed off."""

from __future__ import annotations

import re

from desk_cli import error_line, kpibot
from intake_fixtures import ALICE, BOB
from review_fixtures import CAROL, CONTRACT, Q2, QUARTERS, Desk
from sqlmodel import Session, select

from bot.storage.models import OutboxMessage
from bot.storage.review_models import PaymentConfirmation

RETURN = ("--contract", CONTRACT, "--period", Q2)


def test_a_commissioner_queries_the_provider_answers_and_the_commissioner_signs_off(desk: Desk) -> None:
    desk.submit()
    listed = kpibot(desk, "review", "list")
    assert listed.exit_code == 0 and "Waiting for the council (1):" in listed.output
    assert "City and Hackney Stop Smoking Service, quarterly monitoring return for Q2 2025-26" in listed.output
    asked = kpibot(desk, "review", "query", *RETURN, "--as", CAROL, "--reason",
                   "1.5 looks too high: please check the 4-week quitters")
    assert asked.exit_code == 0, asked.output
    assert "Query sent about" in asked.output and "4-week quitters" in asked.output
    assert "Told: Alice and Dave." in asked.output
    mine = kpibot(desk, "review", "list", "--as", ALICE)
    assert "Waiting for providers to answer a query (1):" in mine.output
    answered = kpibot(desk, "answer", *RETURN, "--as", ALICE, "--text", "Quitters of one clinic were counted twice.")
    assert answered.exit_code == 0 and "was passed to Carol" in answered.output
    signed = kpibot(desk, "review", "signoff", *RETURN, "--as", CAROL)
    assert signed.exit_code == 0 and signed.output.startswith("Signed off:")
    assert kpibot(desk, "review", "list").output.strip() == "Nothing waits for review: every accepted return is " \
                                                             "signed off."
    with Session(desk.engine) as session:
        texts = [m.body_text for m in session.exec(select(OutboxMessage).where(OutboxMessage.kind == "review"))]
    assert any("Quitters of one clinic were counted twice." in text for text in texts)  # Carol got the answer
    for text in texts:  # nothing a person reads names an internal identifier or a command
        assert not re.search(r"quits_4wk|ch-stop-smoking|kpibot \w+", text), text


def test_bad_input_gets_one_clear_error_line(desk: Desk) -> None:
    desk.submit()
    assert "A query needs a reason" in error_line(kpibot(desk, "review", "query", *RETURN, "--as", CAROL))
    assert "Name the indicators or items in question" in error_line(kpibot(
        desk, "review", "query", *RETURN, "--as", CAROL, "--reason", "the figures look wrong to me"))
    assert "has no indicator or item 'zz9'" in error_line(kpibot(
        desk, "review", "query", *RETURN, "--as", CAROL, "--reason", "please look again", "--about", "zz9"))
    assert "Only the council's commissioners may sign it off." in error_line(kpibot(
        desk, "review", "signoff", *RETURN, "--as", ALICE))
    assert "not one of your contracts" in error_line(kpibot(desk, "review", "signoff", *RETURN, "--as", BOB))
    assert "not an active contact" in error_line(kpibot(desk, "review", "signoff", *RETURN, "--as", "x@y.example"))
    assert "has no version 3" in error_line(kpibot(desk, "review", "signoff", *RETURN, "--version", "3",
                                                   "--as", CAROL))
    assert "nothing to review" in error_line(kpibot(desk, "review", "signoff", "--contract", CONTRACT,
                                                    "--period", "2025-26-Q1", "--as", CAROL))
    assert "nothing to answer" in error_line(kpibot(desk, "answer", *RETURN, "--as", ALICE, "--text", "ok"))
    kpibot(desk, "review", "query", *RETURN, "--as", CAROL, "--reason", "1.5 is far above last quarter's")
    kpibot(desk, "review", "signoff", *RETURN, "--as", CAROL)
    closed = error_line(kpibot(desk, "answer", *RETURN, "--as", ALICE, "--text", "It was a data entry slip."))
    assert "That query was closed on" in closed and "the council signed the return off" in closed


def test_an_inaccurate_spot_check_is_recorded_and_the_provider_told_why_it_counts(desk: Desk) -> None:
    desk.submit()
    result = kpibot(desk, "review", "spotcheck", *RETURN, "--as", CAROL, "--inaccurate", "--note",
                    "Quit dates checked against clinic records: 12 counted twice.")
    assert result.exit_code == 0 and "found inaccurate" in result.output
    assert "Say what was checked" in error_line(kpibot(desk, "review", "spotcheck", *RETURN, "--as", CAROL,
                                                       "--accurate"))
    told = [m for m in desk.messages() if m.address == ALICE and m.subject.startswith("Spot check")]
    assert told and "found them inaccurate" in told[0].body_text and "12 counted twice" in told[0].body_text


def test_the_years_payment_is_confirmed_only_once_every_quarter_is_signed_off(desk: Desk) -> None:
    for quarter in QUARTERS:
        desk.submit(quarter)
    shown = kpibot(desk, "payments", "show", "--contract", CONTRACT, "--year", "2025-26")
    assert shown.exit_code == 0, shown.output
    assert "Payment by results on KPI 1.5 (4-week quit rate): £9,000.00, calculated" in shown.output
    assert "Pot: £720,000.00 x 5% = £36,000.00" in shown.output
    assert "Q3 2025-26 (October 2025 to December 2025): version 1, waiting for the council's review" in shown.output
    for quarter in QUARTERS[:3]:
        desk.sign_off(period=quarter)
    refused = error_line(kpibot(desk, "payments", "confirm", "--contract", CONTRACT, "--year", "2025-26", "--as",
                                CAROL, "--yes"))
    assert "rests on returns the council has not signed off" in refused and "Q4 2025-26" in refused
    assert "Only the council's commissioners" in error_line(kpibot(
        desk, "payments", "confirm", "--contract", CONTRACT, "--year", "2025-26", "--as", ALICE, "--yes"))
    desk.sign_off(period=QUARTERS[3])
    confirmed = kpibot(desk, "payments", "confirm", "--contract", CONTRACT, "--year", "2025-26", "--as", CAROL,
                       "--yes")
    assert confirmed.exit_code == 0, confirmed.output
    assert "Confirmed City and Hackney Stop Smoking Service, 2025-26: Payment by results on KPI 1.5" in \
        confirmed.output and "£9,000.00" in confirmed.output and "confirmed by Carol" in confirmed.output
    with Session(desk.engine) as session:
        [row] = session.exec(select(PaymentConfirmation)).all()
        assert (str(row.amount), row.state, row.year_id, row.channel) == ("9000.00", "confirmed", "2025-26", "cli")
        assert len(row.rests_on) == 4 and any("Pot: £720,000.00" in line for line in row.arithmetic)
    again = error_line(kpibot(desk, "payments", "confirm", "--contract", CONTRACT, "--year", "2025-26", "--as",
                              CAROL, "--yes"))
    assert "is already confirmed (by Carol on" in again
    provider_told = [m for m in desk.messages() if m.address == ALICE and m.subject.startswith("Payment confirmed")]
    assert provider_told and "£9,000.00" in provider_told[0].body_text


def test_a_correction_after_confirmation_reopens_the_years_payment_and_the_council_is_told(desk: Desk) -> None:
    for quarter in QUARTERS:
        desk.submit(quarter)
        desk.sign_off(period=quarter)
    kpibot(desk, "payments", "confirm", "--contract", CONTRACT, "--year", "2025-26", "--as", CAROL, "--yes")
    desk.submit(QUARTERS[1], quits=110, message_id="q2-corrected")
    with Session(desk.engine) as session:
        [row] = session.exec(select(PaymentConfirmation)).all()
        assert row.state == "reopened" and row.reopened_by_id is not None
    shown = kpibot(desk, "payments", "show", "--contract", CONTRACT, "--year", "2025-26")
    assert ", calculated" in shown.output and "version 2, waiting for the council's review" in shown.output
    council = [m for m in desk.messages() if m.subject.startswith("Payment reopened")]
    assert {m.address for m in council} == {CAROL, "frank@example-council.example"}
    # The confirmation was read with the return's versions, under its lock (amount and rests_on as text).
    assert all("£9,000.00" in m.body_text for m in council)
