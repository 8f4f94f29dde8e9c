"""Write what an assessment found: figures, indicator results, payments and findings of a submission."""

from __future__ import annotations

from sqlmodel import Session

from bot.storage.models import (
    DataValue,
    FindingRow,
    IndicatorResultRow,
    PaymentRow,
    Submission,
)
from kpi_core.assess import Assessment
from kpi_core.findings import Finding


def save_values(session: Session, submission: Submission, assessment: Assessment) -> None:
    interp = assessment.interpretation
    periods = {assessment.period.id: interp.values, **interp.history}
    for period_id, values in periods.items():
        for (item, breakdown), value in sorted(values.items()):
            session.add(DataValue(submission_id=submission.id, period_id=period_id, item_id=item,
                                  breakdown=breakdown, exact=str(value), value=float(value),
                                  cell=interp.where.get((item, breakdown), "") if period_id ==
                                  assessment.period.id else ""))

def save_results(session: Session, submission: Submission, assessment: Assessment) -> None:
    for result in assessment.scorecard.indicators:
        detail = result.as_dict()
        session.add(IndicatorResultRow(submission_id=submission.id, ref=result.ref, status=result.status,
                                       value=None if result.value is None else float(result.value),
                                       critical_failure=result.judgement.critical_failure, detail=detail))
    for payment in assessment.scorecard.payments:
        session.add(PaymentRow(submission_id=submission.id, rule_id=payment.rule.id, amount=payment.amount,
                               forecast=payment.forecast, detail=payment.as_dict()))

def save_findings(session: Session, submission: Submission, findings: tuple[Finding, ...] | list[Finding]) -> None:
    for f in findings:
        session.add(FindingRow(submission_id=submission.id, severity=f.severity, code=f.code[:64],
                               message=f.message, location=f.where[:200], fix=f.fix, item=f.item[:64]))
