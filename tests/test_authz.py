"""Who may see and submit what: one matrix over the people of the test deployment (intake_fixtures.py).

Alice submits for Breathe Easy, restricted to City and Hackney; Dave (Breathe Easy's manager) has both Breathe
Easy contracts; Bob is Turning Point's; Carol is the council's commissioner and may submit for any provider,
which is recorded as on their behalf. Channels (Telegram, email) are tested against the same rules in their own
modules; this is the rule itself, through the one intake every channel uses.
"""

from __future__ import annotations

import pytest
from intake_fixtures import ALICE, BOB, DAVE, received, sample_csv
from sqlmodel import Session, select

from bot.authz.policy import may_see, visible_contracts
from bot.intake.service import Intake
from bot.storage.models import Contact, Submission

CAROL = "carol@example-council.example"
CONTRACTS = ("ch-stop-smoking", "solihull-stop-smoking", "ch-substance-misuse")
MAY = {
    ALICE: {"ch-stop-smoking"},
    DAVE: {"ch-stop-smoking", "solihull-stop-smoking"},
    BOB: {"ch-substance-misuse"},
    CAROL: set(CONTRACTS),
}
FRAMEWORK = {"ch-stop-smoking": "ch-stop-smoking", "solihull-stop-smoking": "solihull-stop-smoking",
             "ch-substance-misuse": "ch-substance-misuse"}


@pytest.mark.parametrize("who", sorted(MAY))
def test_each_person_sees_exactly_their_contracts(intake: Intake, who: str) -> None:
    with Session(intake.engine) as session:
        contact = session.exec(select(Contact).where(Contact.email == who)).one()
        assert {c.id for c in visible_contracts(session, contact)} == MAY[who]
        assert [c for c in CONTRACTS if may_see(session, contact, c)] == [c for c in CONTRACTS if c in MAY[who]]


@pytest.mark.parametrize("who", sorted(MAY))
@pytest.mark.parametrize("contract", CONTRACTS)
def test_a_return_is_taken_only_from_someone_who_may_submit_it(intake: Intake, who: str, contract: str) -> None:
    data = sample_csv(FRAMEWORK[contract], seed=2)
    result = intake.submit(received(data, sender=who, contract_id=contract, period_id="2025-26-Q2",
                                    message_id=f"{who}-{contract}"))
    with Session(intake.engine) as session:
        sub = session.get(Submission, result.submission_id)
    assert sub is not None
    if contract in MAY[who]:
        assert result.contract_id == contract and result.outcome in ("accepted", "rejected")
        assert sub.on_behalf == (who == CAROL)
    else:
        assert result.outcome == "rejected" and [f.code for f in result.findings] == ["not_your_contract"]
        assert (sub.contract_id, sub.obligation_id) == (None, None)  # nothing recorded against that contract
        others = set(CONTRACTS) - MAY[who] - {contract}
        assert not any(other in result.reply for other in others)  # and nothing told of other contracts


def test_a_contract_that_does_not_exist_is_refused_in_the_same_words_as_anothers(intake: Intake) -> None:
    """Whether another provider's contract exists is itself not told."""
    theirs = intake.submit(received(sample_csv(), sender=BOB, contract_id="ch-stop-smoking", message_id="a"))
    nowhere = intake.submit(received(sample_csv(), sender=BOB, contract_id="no-such-contract", message_id="b"))
    assert theirs.reply.replace("ch-stop-smoking", "X") == nowhere.reply.replace("no-such-contract", "X")


def test_a_contact_no_longer_in_the_configuration_may_do_nothing(intake: Intake) -> None:
    with Session(intake.engine) as session:
        alice = session.exec(select(Contact).where(Contact.email == ALICE)).one()
        alice.active = False
        session.commit()
        assert visible_contracts(session, alice) == []
    result = intake.submit(received(sample_csv(), contract_id="ch-stop-smoking", period_id="2025-26-Q2"))
    assert result.outcome == "unknown_sender"


def test_a_subject_naming_another_providers_contract_counts_nothing_against_theirs_and_tells_nothing(
        intake: Intake) -> None:
    """Issue 10: 'a subject naming another provider's contract' must never count against that contract. Issue 19:
    nor may the answer tell whether that contract exists, so the word reads as any word naming none of Alice's
    contracts: her only contract is assumed, and the file is judged as her return (Turning Point's figures would be
    refused there, item by item), exactly as under a name that is no contract at all."""
    theirs = intake.submit(received(sample_csv(seed=1), sender=ALICE, message_id="a",
                                    caption="ch-substance-misuse 2025-26-Q2 return"))
    nobodys = intake.submit(received(sample_csv(seed=2), sender=ALICE, message_id="b",
                                     caption="no-such-contract 2025-26-Q2 return"))
    assert [(r.outcome, r.contract_id) for r in (theirs, nobodys)] == [("accepted", "ch-stop-smoking")] * 2
    with Session(intake.engine) as session:
        assert session.exec(select(Submission).where(Submission.contract_id == "ch-substance-misuse")).all() == []
