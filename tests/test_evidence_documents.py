"""The annual return's evidence as documents, on a real database of each kind: the lifestyle framework's insurance
certificate, workforce development plan and policies are asked for as requests for information as the annual
return comes due (never for returns due before the deployment went live); the provider answers with the document;
the insurance certificate's expiry date, given in the caption, is reminded to both sides before it lapses, once."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa
from scheduler_fixtures import ALEX, CAROL, LIFESTYLE, SAM, app_on, at, scheduler_deployment
from sqlmodel import Session, col, select

from bot.intake import documents
from bot.intake.received import Received
from bot.storage.models import Contact, Obligation, OutboxMessage
from bot.storage.plan_models import InfoRequest
from jobs.evidence import open_evidence
from jobs.sweep import sweep

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
GO_LIVE = date(2027, 5, 10)  # a Monday: the 2025-26 annual return fell due (30 April 2027) before it


def annual_due(engine: sa.Engine, period: str) -> date:
    with Session(engine) as session:
        return session.exec(select(Obligation.due_date).where(Obligation.contract_id == "lifestyle",
                                                              Obligation.return_type == "annual",
                                                              Obligation.period_id == period)).one()


def asked(engine: sa.Engine) -> list[InfoRequest]:
    with Session(engine) as session:
        return list(session.exec(select(InfoRequest).order_by(col(InfoRequest.id))))


def sent(engine: sa.Engine, kind: str) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return [(email, m.subject or m.body_text) for m, email in session.exec(
            select(OutboxMessage, Contact.email).join(Contact, col(Contact.id) == OutboxMessage.contact_id)
            .where(OutboxMessage.kind == kind).order_by(col(OutboxMessage.id)))]


def test_evidence_documents_are_asked_for_as_the_annual_return_nears_and_the_insurance_expiry_is_reminded(
        engine: sa.Engine, tmp_path: Path) -> None:
    settings = scheduler_deployment(tmp_path, engine.url.render_as_string(hide_password=False), LIFESTYLE)
    app = app_on(settings, engine, GO_LIVE)
    assert annual_due(engine, "2025-26") < GO_LIVE
    assert open_evidence(engine, settings, at(GO_LIVE)) == 0  # nothing chased from before go-live
    due = annual_due(engine, "2026-27")
    assert open_evidence(engine, settings, at(due - timedelta(days=31))) == 0  # not yet within the lead time
    assert open_evidence(engine, settings, at(due - timedelta(days=30))) == 3
    assert open_evidence(engine, settings, at(due - timedelta(days=29))) == 0  # asked once
    made = asked(engine)
    assert [(r.what, r.item_id, r.period_id, r.due) for r in made] == [
        ("Insurance certificate", "insurance_certificate", "2026-27", due),
        ("Workforce development plan", "workforce_plan", "2026-27", due),
        ("Staff pay, development and wellbeing policies", "fair_pay_evidence", "2026-27", due)]
    told = sent(engine, "plan")
    assert {who for who, _ in told} == {SAM, ALEX} and len(told) == 6
    assert all("from the council" in subject and "insurance_certificate" not in subject for _, subject in told)
    assert "Give its expiry date with it" in made[0].detail

    insurance = made[0].id or 0
    with Session(engine) as session:
        sam = session.exec(select(Contact.id).where(Contact.email == SAM)).one()
    expires = date(2028, 12, 1)  # reminded on Wednesday 1 November, in sending hours

    def answer(caption: str, message: str) -> documents.Taken:
        recorded = documents.record(engine, settings, app.files, Received(
            channel="email", message_id=message, sender=SAM, filename="insurance.pdf", data=PDF,
            received_at=at(due - timedelta(days=10)), caption=caption), sam or 0, insurance)
        return documents.take(engine, settings, app.files, recorded.upload_id)

    missing = answer(f"Request {insurance}: our certificate", "ins-1")
    assert missing.state == "refused" and "Give the insurance certificate's expiry date with it" in missing.reply
    lapsed = answer(f"Request {insurance}, expires 1 January 2028", "ins-2")
    assert lapsed.state == "refused" and "expired on Saturday 1 January 2028" in lapsed.reply
    taken = answer(f"Request {insurance}: our certificate, expires {expires.day} {expires:%B %Y}", "ins-3")
    assert taken.state == "answered" and "on time" in taken.reply
    assert asked(engine)[0].expires == expires

    sweep(engine, settings, app.files, at(expires - timedelta(days=31)))
    assert sent(engine, "insurance_expiry") == []
    sweep(engine, settings, app.files, at(expires - timedelta(days=30)))
    reminded = sent(engine, "insurance_expiry")
    assert sorted(who for who, _ in reminded) == sorted([ALEX, CAROL, SAM])
    assert all(subject.startswith("Insurance certificate for One You Lifestyle Programmes expires in 30 days")
               for _, subject in reminded)
    sweep(engine, settings, app.files, at(expires - timedelta(days=29)))
    assert len(sent(engine, "insurance_expiry")) == 3  # once
