"""Re-sending an older file must not silently undo a correction (bot/intake/undoing.py).

Issue 20: "Re-sending an older file silently undoes a correction. v1, then a corrected v2, then v1 again became
"version 3" with no word. Say that these figures equal version 1's and undo version 2's corrections, and ask to
confirm (chat) or accept with a warning the commissioner sees."
"""

from __future__ import annotations

import io
from datetime import timedelta
from fractions import Fraction

import pytest
import sqlalchemy as sa
from intake_fixtures import ALICE, NOW, received, sample_csv
from pypdf import PdfReader
from sqlmodel import Session, col, select

from bot.intake.received import IntakeResult
from bot.intake.service import Intake
from bot.reports.queue import RenderQueue
from bot.storage.files import FileStore
from bot.storage.models import AuditEvent, OutboxMessage, RenderJob, Submission

CAROL = "carol@example-council.example"
Q2 = "2025-26-Q2"
# Version 1 says 900 website pages were viewed; version 2 corrects it to 960 (one figure, so the words are exact).
V1 = sample_csv(overrides={("web_pages_viewed", ""): Fraction(900)})
V2 = sample_csv(overrides={("web_pages_viewed", ""): Fraction(960)})
SUMMARY = ("the same as version 1's (received 1 October 2025): they undo the corrections version 2 made (received "
           "1 October 2025)")


def _send(intake: Intake, data: bytes, n: int, channel: str = "email") -> IntakeResult:
    sender = "1001" if channel == "telegram" else ALICE  # Alice's linked chat
    return intake.submit(received(data, message_id=f"m{n}", sender=sender, at=NOW + timedelta(minutes=n),
                                  caption=Q2, channel=channel, period_id=Q2 if channel == "cli" else None))


def _corrected_then_resent(intake: Intake, channel: str) -> IntakeResult:
    assert (_send(intake, V1, 1, channel).version, _send(intake, V2, 2, channel).version) == (1, 2)
    return _send(intake, V1, 3, channel)


def _notices(engine: sa.Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).where(col(OutboxMessage.dedupe_key).startswith("undo:"))))


@pytest.mark.parametrize("channel", ["email", "cli"])
def test_where_kpibot_cannot_ask_the_file_is_saved_with_a_warning_and_the_commissioner_is_told(
        intake: Intake, channel: str) -> None:
    third = _corrected_then_resent(intake, channel)
    assert (third.outcome, third.version) == ("accepted", 3)
    (warning,) = [f for f in third.findings if f.code == "undoes_correction"]
    assert warning.severity == "warning"
    assert warning.message == (f"These figures are {SUMMARY}: Website pages viewed 960 → 900. The commissioner has "
                               "been told")
    assert warning.fix == "If this file was sent by mistake, send the corrected return (version 2's figures) again."
    assert "Website pages viewed 960 → 900" in third.reply
    (notice,) = _notices(intake.engine)
    assert (notice.address, notice.channel, notice.kind) == (CAROL, "email", "notice")
    assert notice.subject == ("Correction undone: City and Hackney Stop Smoking Service: quarterly monitoring return "
                              "for Q2 2025-26 (July 2025 to September 2025), version 3")
    assert f"Its figures are {SUMMARY}:\n- Website pages viewed: 960 in version 2, 900 in this file\n" in notice.body_text
    assert "kpibot could not ask them before saving it" in notice.body_text


def test_in_a_chat_kpibot_asks_first_and_saves_nothing_until_the_sender_answers(intake: Intake) -> None:
    third = _corrected_then_resent(intake, "telegram")
    assert (third.outcome, third.version) == ("confirm", None)
    assert third.reply.startswith("⚠️ return.csv: these figures for City and Hackney Stop Smoking Service, Q2 "
                                  f"2025-26 (July 2025 to September 2025) are {SUMMARY}:\n"
                                  "- Website pages viewed: 960 in version 2, 900 in this file\n")
    assert third.reply.endswith("Use these figures anyway, undoing version 2's corrections? The commissioner will be "
                                "told. Or keep version 2 as it is.")
    with Session(intake.engine) as session:
        held = session.get(Submission, third.submission_id)
        assert held is not None and (held.status, held.version, held.obligation_id) == ("confirming", None, None)
        in_force = session.exec(select(Submission).where(Submission.status == "accepted")).one()
        assert in_force.version == 2
    assert _notices(intake.engine) == []


def test_a_sender_who_confirms_gets_the_next_version_with_the_warning_and_the_commissioner_is_told(
        intake: Intake) -> None:
    third = _corrected_then_resent(intake, "telegram")
    saved = intake.confirm(third.submission_id, use=True, actor=ALICE)  # type: ignore[arg-type]
    assert (saved.outcome, saved.version) == ("accepted", 3)
    (warning,) = [f for f in saved.findings if f.code == "undoes_correction"]
    assert warning.message.endswith("You confirmed it; the commissioner has been told")
    (notice,) = _notices(intake.engine)
    assert notice.address == CAROL and "they confirmed that they meant to" in notice.body_text
    with Session(intake.engine) as session:
        actions = session.exec(select(AuditEvent.action).where(
            AuditEvent.subject == f"submission:{third.submission_id}").order_by(col(AuditEvent.id))).all()
    assert actions == ["submission_received", "submission_confirming", "submission_confirmed",
                       "submission_accepted"]
    again = intake.confirm(third.submission_id, use=True, actor=ALICE)  # type: ignore[arg-type]
    assert again.version == 3 and len(_notices(intake.engine)) == 1  # a second press changes nothing


def test_a_sender_who_keeps_the_corrected_version_changes_nothing(intake: Intake) -> None:
    third = _corrected_then_resent(intake, "telegram")
    kept = intake.confirm(third.submission_id, use=False, actor=ALICE)  # type: ignore[arg-type]
    assert kept.reply == "Kept version 2 as it is: return.csv was not used, and nothing has changed."
    with Session(intake.engine) as session:
        statuses = session.exec(select(Submission.version, Submission.status).order_by(col(Submission.id))).all()
    assert statuses == [(1, "superseded"), (2, "accepted"), (None, "withdrawn")]
    assert _notices(intake.engine) == []
    assert intake.confirm(third.submission_id, use=True, actor=ALICE).outcome == "duplicate"  # too late: kept


def test_new_figures_or_the_same_figures_as_in_force_are_no_undoing(intake: Intake) -> None:
    _send(intake, V1, 1)
    _send(intake, V2, 2)
    v990 = sample_csv(overrides={("web_pages_viewed", ""): Fraction(990)})
    v3 = _send(intake, v990, 3)
    assert v3.version == 3 and not [f for f in v3.findings if f.code == "undoes_correction"]
    header, *rows = v990.decode().splitlines()
    same_figures = "\n".join([header, *reversed(rows)]).encode() + b"\n"  # another file, version 3's figures
    v4 = _send(intake, same_figures, 4)
    assert v4.version == 4 and not [f for f in v4.findings if f.code == "undoes_correction"]
    assert _notices(intake.engine) == []


def test_any_earlier_version_counts_not_only_the_first(intake: Intake) -> None:
    """v1, v2 (a correction), v3 (another), then v2's file: it undoes version 3's corrections."""
    for n, data in enumerate((V1, V2, sample_csv(overrides={("web_pages_viewed", ""): Fraction(990)})), start=1):
        _send(intake, data, n)
    v4 = _send(intake, V2, 4)
    (warning,) = [f for f in v4.findings if f.code == "undoes_correction"]
    assert warning.message.startswith("These figures are the same as version 2's (received 1 October 2025): they "
                                      "undo the corrections version 3 made") and "990 → 960" in warning.message


@pytest.mark.with_pdf
def test_the_return_report_carries_the_warning_the_commissioner_reads(intake: Intake, files: FileStore,
                                                                     render_queue: RenderQueue) -> None:
    third = _corrected_then_resent(intake, "email")
    with Session(intake.engine) as session:
        job_id = session.exec(select(RenderJob.id).where(RenderJob.submission_id == third.submission_id)).one()
    assert render_queue.draw(job_id)
    with Session(intake.engine) as session:
        job = session.get(RenderJob, job_id)
        assert job is not None and job.sha256 is not None
        pdf = files.get(job.sha256)
    text = " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "These figures are the same as version 1's (received 1 October 2025): they undo the corrections version " \
           "2 made" in text
